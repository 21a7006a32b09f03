import type { IncomingHttpHeaders } from 'node:http';
import { CidrSet, normalizeIp } from './ip-address.js';

export { CidrSet, parseCidr, normalizeIp, type Cidr } from './ip-address.js';

/**
 * Who the client is. The socket's peer address is the truth unless that peer is one of our own
 * proxies (a load balancer, a CDN in front of us), listed in `trustedProxies`; only then is a
 * client-IP header read, and read from the right: each trusted proxy appends the address it saw,
 * so the rightmost entry that is not a trusted proxy is the first address nobody we trust could
 * have forged. Everything to its left was written by the client and is ignored (the leftmost
 * entry of X-Forwarded-For is whatever the client chose to send).
 */

export interface ClientIpOptions {
  /** Networks (CIDRs or single addresses, v4 and v6) of the proxies whose header is believed. */
  trustedProxies: readonly string[];
  /**
   * The header the trusted proxies write, lower or any case. Default `x-forwarded-for`.
   * `forwarded` reads the RFC 7239 `for=` parameters; any other header (x-real-ip,
   * cf-connecting-ip, true-client-ip…) is read as a comma-separated list like X-Forwarded-For.
   */
  header?: string;
}

/**
 * Returns the client's IP in canonical form (see normalizeIp). When the socket address itself
 * is missing or unreadable, returns it as given (or '').
 */
export type ClientIpResolver = (socketIp: string | undefined, headers: IncomingHttpHeaders) => string;

/** Throws a RangeError naming every entry of `trustedProxies` that is not a network. */
export function createClientIpResolver(options: ClientIpOptions): ClientIpResolver {
  const trusted = new CidrSet(options.trustedProxies);
  const header = (options.header ?? 'x-forwarded-for').toLowerCase();
  const entriesOf = header === 'forwarded' ? forwardedForEntries : listEntries;

  return (socketIp, headers) => {
    const peer = normalizeIp(socketIp);
    if (peer === undefined) return socketIp ?? '';
    if (trusted.size === 0 || !trusted.has(peer)) return peer;
    const raw = headers[header];
    if (raw === undefined) return peer;
    const entries = entriesOf(Array.isArray(raw) ? raw.join(',') : raw);
    // `nearest` is the closest hop we can still name: the socket, then each trusted proxy.
    let nearest = peer;
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i];
      if (entry === '') continue; // ", ," or a trailing comma: nobody's address, skip it
      const ip = normalizeIp(stripPort(entry));
      // A hop we trust wrote something that is not an address ("unknown", an obfuscated
      // identifier, junk). Whatever lies further left came from a party no trusted proxy vouched
      // for, so the walk stops at the last address it could vouch for.
      if (ip === undefined) return nearest;
      if (!trusted.has(ip)) return ip;
      nearest = ip;
    }
    return nearest; // every hop is ours: the leftmost is the furthest we know
  };
}

/** X-Forwarded-For style: comma-separated, each entry trimmed and unquoted. */
export function listEntries(value: string): string[] {
  return value.split(',').map(unquote);
}

/**
 * RFC 7239 `Forwarded`: `for=` of each comma-separated element, in order; an element without
 * `for=` yields '' (skipped). Values may be quoted and carry a port (`for="[2001:db8::1]:4711"`);
 * `for=unknown` and obfuscated identifiers (`for=_hidden`) are not addresses.
 */
export function forwardedForEntries(value: string): string[] {
  return value.split(',').map((element) => {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq !== -1 && pair.slice(0, eq).trim().toLowerCase() === 'for') return unquote(pair.slice(eq + 1));
    }
    return '';
  });
}

function unquote(text: string): string {
  const t = text.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
}

/** `1.2.3.4:5678` → `1.2.3.4`, `[2001:db8::1]:443` → `2001:db8::1`; anything else unchanged. */
function stripPort(entry: string): string {
  if (entry.startsWith('[')) {
    const end = entry.indexOf(']');
    return end === -1 ? entry : entry.slice(1, end);
  }
  const colon = entry.indexOf(':');
  if (colon !== -1 && colon === entry.lastIndexOf(':') && entry.indexOf('.') !== -1) return entry.slice(0, colon);
  return entry;
}
