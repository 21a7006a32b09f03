import { readFile } from 'node:fs/promises';
import { familyOf, ipv4ToUint32, ipv6Groups, ipv6ToWords } from './ip-address.js';

/**
 * IP → autonomous system from range CSVs in the ip-location-db layout
 * (`first,last,asn,organization`, one range per line, no header; the organization may be
 * double-quoted with `""` escapes). The npm registry carries the ASN data of that family only as
 * CSV (`@ip-location-db/asn`), so this reads it into sorted typed arrays: ~515k ranges load in
 * about 0.3 s into ~17 MB, and a lookup is one binary search (~20 steps).
 * IPv4 and IPv6 ranges may be in the same file or in separate ones.
 */

export interface AsnRecord {
  asn: number;
  org?: string;
}

/** One family's ranges: `width` 32-bit words per address (1 for IPv4, 4 for IPv6). */
class RangeList {
  first: Uint32Array;
  last: Uint32Array;
  asn: Uint32Array;
  length = 0;

  constructor(
    readonly width: number,
    capacity = 1024,
  ) {
    this.first = new Uint32Array(capacity * width);
    this.last = new Uint32Array(capacity * width);
    this.asn = new Uint32Array(capacity);
  }

  push(first: ArrayLike<number>, last: ArrayLike<number>, asn: number): void {
    if (this.length === this.asn.length) this.grow();
    const w = this.width;
    for (let k = 0; k < w; k++) {
      this.first[this.length * w + k] = first[k];
      this.last[this.length * w + k] = last[k];
    }
    this.asn[this.length] = asn;
    this.length++;
  }

  private grow(): void {
    const cap = this.asn.length * 2;
    const copy = (a: Uint32Array, n: number) => {
      const b = new Uint32Array(n);
      b.set(a);
      return b;
    };
    this.first = copy(this.first, cap * this.width);
    this.last = copy(this.last, cap * this.width);
    this.asn = copy(this.asn, cap);
  }

  /** Compare address `key` with the `first` (or `last`) address of range i: <0, 0, >0. */
  private compare(key: ArrayLike<number>, words: Uint32Array, i: number): number {
    const w = this.width;
    for (let k = 0; k < w; k++) {
      const d = key[k] - words[i * w + k];
      if (d !== 0) return d;
    }
    return 0;
  }

  /** Sorts by first address when the input was not (the shipped files are), and trims. */
  finish(): void {
    let sorted = true;
    for (let i = 1; i < this.length && sorted; i++) sorted = this.compare(this.first.subarray((i - 1) * this.width, i * this.width), this.first, i) <= 0;
    if (sorted) {
      // Drop the growth slack.
      this.first = this.first.slice(0, this.length * this.width);
      this.last = this.last.slice(0, this.length * this.width);
      this.asn = this.asn.slice(0, this.length);
      return;
    }
    const order = Array.from({ length: this.length }, (_, i) => i);
    order.sort((a, b) => this.compare(this.first.subarray(a * this.width, (a + 1) * this.width), this.first, b));
    const src = { first: this.first, last: this.last, asn: this.asn };
    const w = this.width;
    this.first = new Uint32Array(this.length * w);
    this.last = new Uint32Array(this.length * w);
    this.asn = new Uint32Array(this.length);
    order.forEach((from, to) => {
      this.first.set(src.first.subarray(from * w, (from + 1) * w), to * w);
      this.last.set(src.last.subarray(from * w, (from + 1) * w), to * w);
      this.asn[to] = src.asn[from];
    });
  }

  /** Index of the IPv4 range holding `key` (width 1 only), or -1. */
  find32(key: number): number {
    const first = this.first;
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (first[mid] <= key) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && key <= this.last[hi] ? hi : -1;
  }

  /** Index of the range holding `key`, or -1. Ranges do not overlap. */
  find(key: ArrayLike<number>): number {
    let lo = 0;
    let hi = this.length - 1;
    let candidate = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(key, this.first, mid) >= 0) {
        candidate = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return candidate !== -1 && this.compare(key, this.last, candidate) <= 0 ? candidate : -1;
  }
}

export class AsnRangeTable {
  private readonly v4 = new RangeList(1);
  private readonly v6 = new RangeList(4);
  /** One name per AS (the data has exactly one): kept per ASN, not per range. */
  private readonly orgs = new Map<number, string>();
  /** Lines that were not a range (counted, not fatal: one bad line must not lose the table). */
  skipped = 0;

  /** Reads and merges the CSV files; rejects when a file cannot be read or holds no range. */
  static async fromCsv(paths: readonly string[]): Promise<AsnRangeTable> {
    const table = new AsnRangeTable();
    for (const path of paths) {
      const before = table.size;
      table.addCsv(await readFile(path));
      if (table.size === before) throw new Error(`${path}: no IP range in this file (expected "first,last,asn,organization" lines)`);
    }
    table.v4.finish();
    table.v6.finish();
    return table;
  }

  get size(): number {
    return this.v4.length + this.v6.length;
  }

  /** `ip` must be canonical (normalizeIp). */
  lookup(ip: string): AsnRecord | undefined {
    const v6 = familyOf(ip) === 'ipv6';
    const list = v6 ? this.v6 : this.v4;
    const i = v6 ? list.find(ipv6ToWords(ip)) : list.find32(ipv4ToUint32(ip));
    if (i === -1) return undefined;
    const asn = list.asn[i];
    const org = this.orgs.get(asn);
    return org ? { asn, org } : { asn };
  }

  /**
   * Parses bytes rather than one big string: strings sliced from a large parent keep the parent
   * alive in V8, and the organization names are kept for the life of the table.
   */
  private addCsv(buf: Buffer): void {
    const v4First = [0];
    const v4Last = [0];
    let start = 0;
    while (start < buf.length) {
      let end = buf.indexOf(0x0a, start);
      if (end === -1) end = buf.length;
      const lineEnd = end > start && buf[end - 1] === 0x0d ? end - 1 : end;
      const lineStart = start;
      start = end + 1;
      if (lineEnd === lineStart) continue;
      const c1 = buf.indexOf(0x2c, lineStart);
      const c2 = c1 === -1 || c1 >= lineEnd ? -1 : buf.indexOf(0x2c, c1 + 1);
      if (c2 === -1 || c2 >= lineEnd) {
        this.skipped++;
        continue;
      }
      let c3 = buf.indexOf(0x2c, c2 + 1);
      if (c3 === -1 || c3 > lineEnd) c3 = lineEnd;
      const asn = parseDecimal(buf, c2 + 1, c3);
      if (asn < 0) {
        this.skipped++;
        continue;
      }
      if (c3 + 1 < lineEnd && !this.orgs.has(asn)) this.orgs.set(asn, unquote(buf.toString('utf8', c3 + 1, lineEnd)));
      const a = parseIpv4(buf, lineStart, c1);
      const b = parseIpv4(buf, c1 + 1, c2);
      if (a >= 0 && b >= 0) {
        v4First[0] = a;
        v4Last[0] = b;
        this.v4.push(v4First, v4Last, asn);
        continue;
      }
      const first = ipv6Groups(buf.toString('latin1', lineStart, c1));
      const last = ipv6Groups(buf.toString('latin1', c1 + 1, c2));
      if (first && last) {
        this.v6.push(groupsToWords(first), groupsToWords(last), asn);
      } else {
        this.skipped++;
      }
    }
  }
}

/** Dotted-decimal IPv4 in buf[start, end) as a uint32, or -1. */
function parseIpv4(buf: Buffer, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (octet > 255) return -1;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : -1;
}

function groupsToWords(g: readonly number[]): number[] {
  return [((g[0] << 16) | g[1]) >>> 0, ((g[2] << 16) | g[3]) >>> 0, ((g[4] << 16) | g[5]) >>> 0, ((g[6] << 16) | g[7]) >>> 0];
}

/** A decimal uint32 in buf[start, end), or -1. */
function parseDecimal(buf: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 10) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n <= 0xffffffff ? n : -1;
}

function unquote(field: string): string {
  return field.length >= 2 && field.startsWith('"') && field.endsWith('"') ? field.slice(1, -1).replaceAll('""', '"') : field;
}
