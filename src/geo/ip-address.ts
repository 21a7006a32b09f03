import { BlockList, isIP } from 'node:net';

/**
 * IP address text: one canonical spelling per address, so that an address used as a key (rate
 * limits, hash steering, logs) is the same key however a peer or a header wrote it.
 * IPv4 stays dotted decimal; an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, the form a dual-stack
 * socket reports) becomes its IPv4 address; other IPv6 addresses take the RFC 5952 form (lower
 * case, no leading zeros, the longest run of zero groups as `::`).
 */

export type IpFamily = 'ipv4' | 'ipv6';

/**
 * The canonical form of `raw`, or undefined when it is not an IP address. Accepts surrounding
 * whitespace, `[v6]` brackets and a `%zone` suffix (dropped: a zone never leaves the host).
 */
export function normalizeIp(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let s = raw.trim();
  if (s.charCodeAt(0) === 0x5b /* [ */) {
    if (!s.endsWith(']')) return undefined;
    s = s.slice(1, -1);
  }
  if (dottedQuad(s) !== -1) return s; // the common case, without isIP's regex
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  const family = isIP(s);
  if (family === 4) return s;
  if (family !== 6) return undefined;
  const g = ipv6Groups(s);
  if (g === undefined) return undefined;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `${g[6] >>> 8}.${g[6] & 255}.${g[7] >>> 8}.${g[7] & 255}`;
  }
  return formatIpv6(g);
}

/** A strict dotted quad (no leading zeros, as isIP) as a uint32, or -1. */
function dottedQuad(s: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && octet === 0) return -1; // leading zero: octal in some parsers, refused
      octet = octet * 10 + (c - 0x30);
      if (++digits > 3 || octet > 255) return -1;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : -1;
}

/** `ipv4` or `ipv6` for a canonical address (the output of normalizeIp). */
export function familyOf(ip: string): IpFamily {
  return ip.includes(':') ? 'ipv6' : 'ipv4';
}

/** A valid dotted-decimal IPv4 address as an unsigned 32-bit number. */
export function ipv4ToUint32(ip: string): number {
  let value = 0;
  let octet = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e /* . */) {
      value = value * 256 + octet;
      octet = 0;
    } else {
      octet = octet * 10 + (c - 0x30);
    }
  }
  return value * 256 + octet;
}

/**
 * IPv6 text (no brackets or zone) as its eight 16-bit groups, or undefined when it is not one
 * (RFC 4291 §2.2: hex groups, one `::`, optionally a dotted IPv4 tail). One pass, no regex.
 */
export function ipv6Groups(ip: string): number[] | undefined {
  const g = [0, 0, 0, 0, 0, 0, 0, 0];
  const len = ip.length;
  let n = 0;
  let gap = -1;
  let i = 0;
  if (ip.charCodeAt(0) === 0x3a /* : */) {
    if (ip.charCodeAt(1) !== 0x3a) return undefined;
    gap = 0;
    i = 2;
  }
  while (i < len) {
    const tokenStart = i;
    let value = 0;
    while (i < len && i - tokenStart < 5) {
      const c = ip.charCodeAt(i);
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 87 : c >= 0x41 && c <= 0x46 ? c - 55 : -1;
      if (d === -1) break;
      value = value * 16 + d;
      i++;
    }
    if (i < len && ip.charCodeAt(i) === 0x2e /* . */) {
      // Dotted IPv4 tail: the last 32 bits.
      const tail = ip.slice(tokenStart);
      if (n > 6 || !/^\d{1,3}(\.\d{1,3}){3}$/.test(tail)) return undefined;
      const octets = tail.split('.').map(Number);
      if (octets.some((o) => o > 255)) return undefined;
      g[n++] = octets[0] * 256 + octets[1];
      g[n++] = octets[2] * 256 + octets[3];
      break;
    }
    const digits = i - tokenStart;
    if (digits === 0 || digits > 4 || n === 8) return undefined;
    g[n++] = value;
    if (i === len) break;
    if (ip.charCodeAt(i) !== 0x3a) return undefined;
    i++;
    if (ip.charCodeAt(i) === 0x3a) {
      if (gap !== -1) return undefined;
      gap = n;
      i++;
    } else if (i === len) {
      return undefined; // a single trailing colon
    }
  }
  if (gap === -1) return n === 8 ? g : undefined;
  if (n > 7) return undefined;
  // Move the groups after `::` to the end and zero the hole.
  const tail = n - gap;
  for (let k = 0; k < tail; k++) g[7 - k] = g[n - 1 - k];
  for (let k = gap; k < 8 - tail; k++) g[k] = 0;
  return g;
}

/** A valid IPv6 address as four unsigned 32-bit words, most significant first (:: if invalid). */
export function ipv6ToWords(ip: string): [number, number, number, number] {
  const g = ipv6Groups(ip) ?? [0, 0, 0, 0, 0, 0, 0, 0];
  return [(g[0] * 0x10000 + g[1]) >>> 0, (g[2] * 0x10000 + g[3]) >>> 0, (g[4] * 0x10000 + g[5]) >>> 0, (g[6] * 0x10000 + g[7]) >>> 0];
}

/** RFC 5952 §4: lower-case hex, no leading zeros, the first longest run (≥ 2) of zero groups as `::`. */
function formatIpv6(g: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((n) => n.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** One network: canonical base address, prefix length, family. */
export interface Cidr {
  address: string;
  prefix: number;
  family: IpFamily;
}

/**
 * `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). Host bits may be set (they
 * are ignored when matching). An IPv4-mapped IPv6 network with a prefix of 96 or more becomes the
 * IPv4 network it maps. Undefined when the text is not a network.
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const written = slash === -1 ? text : text.slice(0, slash);
  const address = normalizeIp(written);
  if (!address) return undefined;
  const family = familyOf(address);
  const writtenMax = written.includes(':') ? 128 : 32;
  let prefix = writtenMax;
  if (slash !== -1) {
    const p = text.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > writtenMax) return undefined;
  }
  if (writtenMax === 128 && family === 'ipv4') {
    // `::ffff:10.0.0.0/104` → 10.0.0.0/8.
    if (prefix < 96) return undefined;
    prefix -= 96;
  }
  return { address, prefix, family };
}

/**
 * A set of networks, IPv4 and IPv6, backed by node:net's BlockList (which masks host bits and
 * matches IPv4-mapped IPv6 against IPv4 networks). Built once; `has` is a few microseconds.
 */
export class CidrSet {
  readonly entries: readonly Cidr[];
  private readonly list = new BlockList();

  /** Throws one RangeError naming every entry that is not a network. */
  constructor(cidrs: Iterable<string>) {
    const entries: Cidr[] = [];
    const bad: string[] = [];
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (!cidr) {
        bad.push(JSON.stringify(text));
        continue;
      }
      entries.push(cidr);
      this.list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
    if (bad.length > 0) throw new RangeError(`not an IP address or CIDR: ${bad.join(', ')}`);
    this.entries = entries;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Whether `ip` (any spelling normalizeIp accepts) falls in one of the networks. */
  has(ip: string): boolean {
    if (this.entries.length === 0) return false;
    const address = normalizeIp(ip);
    return address !== undefined && this.list.check(address, familyOf(address));
  }
}

/**
 * Addresses that say nothing about where a client is: "this network" and unspecified, loopback,
 * RFC 1918 private, RFC 6598 shared (CGNAT), link-local (v4 and v6), RFC 4193 unique-local.
 */
export const PRIVATE_RANGES: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
];

/**
 * Whether `ip` is loopback, private, CGNAT, link-local or unspecified: PRIVATE_RANGES, checked
 * with integer compares (this runs on every geo lookup; BlockList.check costs ~2 µs).
 */
export function isPrivateIp(ip: string): boolean {
  const address = normalizeIp(ip);
  return address !== undefined && isPrivateAddress(address);
}

/** isPrivateIp for an address already in canonical form (normalizeIp). */
export function isPrivateAddress(address: string): boolean {
  if (familyOf(address) === 'ipv4') {
    const n = ipv4ToUint32(address);
    const a = n >>> 24;
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      n >>> 22 === 0x6440 >>> 6 || // 100.64.0.0/10
      n >>> 16 === 0xa9fe || // 169.254.0.0/16
      n >>> 20 === 0xac1 || // 172.16.0.0/12
      n >>> 16 === 0xc0a8
    ); // 192.168.0.0/16
  }
  const g = ipv6Groups(address);
  if (g === undefined) return false;
  if ((g[0] & 0xfe00) === 0xfc00 || (g[0] & 0xffc0) === 0xfe80) return true; // fc00::/7, fe80::/10
  for (let i = 0; i < 7; i++) if (g[i] !== 0) return false;
  return g[7] === 0 || g[7] === 1; // ::, ::1
}
