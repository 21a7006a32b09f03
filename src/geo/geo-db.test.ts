import { copyFile, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import maxmind, { type CountryResponse } from 'maxmind';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_COUNTRY_DB, openGeoDatabase, resolvePrivateDefault, type GeoDatabase } from './geo-db.js';
import { regionOfCountry } from './regions.js';

// Well-known addresses, each checked against the shipped databases (dbip-country-mmdb
// 2.3.2026060120, asn 2.3.2026061719); a data update that moves one shows up here first.
const KNOWN: Array<[ip: string, country: string, what: string]> = [
  ['8.8.8.8', 'US', 'Google Public DNS'],
  ['81.2.69.160', 'GB', "Andrews & Arnold, London (MaxMind's own test address)"],
  ['212.58.244.20', 'GB', 'BBC'],
  ['193.99.144.80', 'DE', 'heise online, Hanover'],
  ['133.242.0.3', 'JP', 'SAKURA Internet'],
  ['139.130.4.5', 'AU', 'Telstra'],
  ['165.21.83.88', 'SG', 'SingNet DNS'],
  ['200.160.2.3', 'BR', 'NIC.br'],
  ['196.25.1.1', 'ZA', 'Telkom SA DNS'],
  ['2a00:1450:4001::1', 'DE', 'Google Frankfurt, IPv6'],
];

describe('openGeoDatabase with the shipped databases', () => {
  let db: GeoDatabase;
  beforeAll(async () => {
    const started = performance.now();
    db = await openGeoDatabase({ privateDefault: { country: 'DE' }, refreshIntervalMs: 0 });
    console.log(`geo: databases loaded in ${(performance.now() - started).toFixed(0)} ms`);
  });
  afterAll(() => db.close());

  it('finds the country, region and location of well-known addresses', () => {
    for (const [ip, country, what] of KNOWN) {
      const info = db.lookup(ip);
      expect(info.country, `${ip} (${what})`).toBe(country);
      expect(info.region, ip).toBe(regionOfCountry(country));
      expect(info.location, ip).toBeDefined();
    }
    expect(db.lookup('::ffff:8.8.8.8').country).toBe('US');
  });

  it('finds the AS of 8.8.8.8 (and of its IPv6 twin)', () => {
    expect(db.lookup('8.8.8.8')).toMatchObject({ asn: 15169, asOrg: 'Google LLC' });
    expect(db.lookup('2001:4860:4860::8888')).toMatchObject({ asn: 15169, asOrg: 'Google LLC' });
    expect(db.lookup('1.1.1.1')).toMatchObject({ asn: 13335 });
  });

  it('answers loopback and private clients with the private default, without a lookup', () => {
    const de = { country: 'DE', region: 'eu-west', location: { lat: 52.52, lon: 13.4 } };
    for (const ip of ['127.0.0.1', '::1', '10.1.2.3', '172.20.0.1', '192.168.1.10', '100.64.3.4', '169.254.0.9', 'fd00::5', 'fe80::1', '::ffff:192.168.0.1']) {
      expect(db.lookup(ip), ip).toEqual(de);
    }
  });

  it('answers {} for what is not an address, and for unallocated space', () => {
    expect(db.lookup('not an ip')).toEqual({});
    expect(db.lookup('')).toEqual({});
    expect(db.lookup('240.0.0.1').country).toBeUndefined(); // reserved, in no database
  });

  it('is cheap per lookup (measured, not asserted)', () => {
    // maxmind's LRU caches decoded records (by position in the file), not addresses: every
    // lookup still walks the tree. Timings vary with the machine's load; they are printed only.
    const ips = Array.from({ length: 20_000 }, (_, i) => `${1 + ((i * 97) % 223)}.${(i * 31) % 256}.${(i * 7) % 256}.${i % 256}`);
    for (const ip of ips) db.lookup(ip); // JIT warm-up
    const rounds = 5;
    const started = performance.now();
    for (let r = 0; r < rounds; r++) for (const ip of ips) db.lookup(ip);
    const ns = ((performance.now() - started) * 1e6) / (rounds * ips.length);
    const v6 = ips.map((_, i) => `2a0${i % 10}:${((i * 7919) % 65536).toString(16)}::${i.toString(16)}`);
    const v6Started = performance.now();
    for (const ip of v6) db.lookup(ip);
    const v6Ns = ((performance.now() - v6Started) * 1e6) / v6.length;
    console.log(`geo: lookup (country + ASN + region) ≈ ${ns.toFixed(0)} ns per IPv4 address, ≈ ${v6Ns.toFixed(0)} ns per IPv6 address`);
  });

  it('every country the shipped database knows maps to a region (all IPv4 networks walked)', async () => {
    const reader = await maxmind.open<CountryResponse>(DEFAULT_COUNTRY_DB);
    const codes = new Set<string>();
    let networks = 0;
    for (let ip = 0; ip < 2 ** 32; networks++) {
      const [rec, prefix] = reader.getWithPrefixLength(`${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`);
      const code = (rec as { country_code?: string } | null)?.country_code;
      if (code) codes.add(code);
      ip += 2 ** (32 - prefix);
    }
    console.log(`geo: ${networks} IPv4 networks, ${codes.size} countries`);
    expect(codes.size).toBeGreaterThan(240);
    for (const code of codes) expect(regionOfCountry(code), code).toBeDefined();
  });
});

describe('openGeoDatabase with files of our own', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outpost-geo-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads an ASN MMDB (GeoLite2-ASN layout) and a MaxMind-style country MMDB', async () => {
    const asnDb = join(dir, 'asn.mmdb');
    const countryDb = join(dir, 'country.mmdb');
    await writeFile(asnDb, writeMmdb([['203.0.113.0', 24, { autonomous_system_number: 64500, autonomous_system_organization: 'Example AS' }]]));
    await writeFile(countryDb, writeMmdb([['203.0.113.0', 25, { country: { iso_code: 'JP' } }]]));
    const db = await openGeoDatabase({ countryDb, asnDb, refreshIntervalMs: 0 });
    expect(db.lookup('203.0.113.7')).toEqual({ country: 'JP', region: 'ap-northeast', location: { lat: 35.68, lon: 139.69 }, asn: 64500, asOrg: 'Example AS' });
    expect(db.lookup('203.0.113.200')).toEqual({ asn: 64500, asOrg: 'Example AS' });
    expect(db.lookup('198.51.100.1')).toEqual({});
    db.close();
  });

  it('runs without ASN or country data when told to', async () => {
    const db = await openGeoDatabase({ asnDb: false, refreshIntervalMs: 0 });
    expect(db.lookup('8.8.8.8')).toEqual({ country: 'US', region: 'us-east', location: { lat: 37.42, lon: -92.38 } });
    expect(db.sources.map((s) => s.kind)).toEqual(['country']);
    const none = await openGeoDatabase({ countryDb: false, asnDb: false });
    expect(none.lookup('8.8.8.8')).toEqual({});
    none.close();
  });

  it('refuses to open a missing or broken file', async () => {
    await expect(openGeoDatabase({ countryDb: join(dir, 'absent.mmdb'), asnDb: false })).rejects.toThrow(/ENOENT/);
    const broken = join(dir, 'broken.mmdb');
    await writeFile(broken, 'not a database');
    await expect(openGeoDatabase({ countryDb: broken, asnDb: false })).rejects.toThrow();
  });

  it('refresh() re-reads a file whose mtime changed, and only then', async () => {
    const countryDb = join(dir, 'refresh.mmdb');
    await writeFile(countryDb, writeMmdb([['8.8.8.0', 24, { country_code: 'DE' }]]));
    const db = await openGeoDatabase({ countryDb, asnDb: false, refreshIntervalMs: 0 });
    expect(db.lookup('8.8.8.8').country).toBe('DE');
    expect(await db.refresh()).toBe(false);

    await writeFile(countryDb, writeMmdb([['8.8.8.0', 24, { country_code: 'JP' }]]));
    await bumpMtime(countryDb);
    expect(await db.refresh()).toBe(true);
    expect(db.lookup('8.8.8.8')).toMatchObject({ country: 'JP', region: 'ap-northeast' });
    expect(await db.refresh()).toBe(false);

    // A broken update is refused; the data already loaded stays in service.
    await writeFile(countryDb, 'half a file');
    await bumpMtime(countryDb);
    await expect(db.refresh()).rejects.toThrow();
    expect(db.lookup('8.8.8.8').country).toBe('JP');
    expect(db.sources[0].error).toBeTruthy();

    await writeFile(countryDb, writeMmdb([['8.8.8.0', 24, { country_code: 'AU' }]]));
    await bumpMtime(countryDb);
    expect(await db.refresh()).toBe(true);
    expect(db.lookup('8.8.8.8').country).toBe('AU');
    expect(db.sources[0].error).toBeUndefined();
    db.close();
  });

  it('the watcher picks changes up by itself; close() stops it', async () => {
    const countryDb = join(dir, 'watched.mmdb');
    await copyFile(DEFAULT_COUNTRY_DB, countryDb);
    const db = await openGeoDatabase({ countryDb, asnDb: false, refreshIntervalMs: 25 });
    expect(db.lookup('8.8.8.8').country).toBe('US');
    await writeFile(countryDb, writeMmdb([['8.8.8.0', 24, { country_code: 'SG' }]]));
    await bumpMtime(countryDb);
    await until(() => db.lookup('8.8.8.8').country === 'SG');
    db.close();
    await writeFile(countryDb, writeMmdb([['8.8.8.0', 24, { country_code: 'BR' }]]));
    await bumpMtime(countryDb);
    await new Promise((r) => setTimeout(r, 150));
    expect(db.lookup('8.8.8.8').country).toBe('SG');
  });

  it('reports background refresh failures through onError', async () => {
    const countryDb = join(dir, 'failing.mmdb');
    await writeFile(countryDb, writeMmdb([['8.8.8.0', 24, { country_code: 'DE' }]]));
    const errors: Error[] = [];
    const db = await openGeoDatabase({ countryDb, asnDb: false, refreshIntervalMs: 25, onError: (e) => errors.push(e) });
    await writeFile(countryDb, 'garbage');
    await bumpMtime(countryDb);
    await until(() => errors.length > 0);
    db.close();
    expect(db.lookup('8.8.8.8').country).toBe('DE');
  });
});

describe('resolvePrivateDefault', () => {
  it('fills region and location from the country, or location from the region', () => {
    expect(resolvePrivateDefault(undefined)).toEqual({});
    expect(resolvePrivateDefault({ country: 'sg' })).toEqual({ country: 'SG', region: 'ap-southeast', location: { lat: 1.35, lon: 103.82 } });
    expect(resolvePrivateDefault({ region: 'WEU' })).toEqual({ region: 'eu-west', location: { lat: 50.11, lon: 8.68 } });
    expect(resolvePrivateDefault({ country: 'US', region: 'us-west', location: { lat: 37.77, lon: -122.42 } })).toEqual({ country: 'US', region: 'us-west', location: { lat: 37.77, lon: -122.42 } });
  });
  it('refuses unknown countries and regions', () => {
    expect(() => resolvePrivateDefault({ country: 'ZZ' })).toThrow(/privateDefault\.country/);
    expect(() => resolvePrivateDefault({ region: 'mars' })).toThrow(/privateDefault\.region/);
  });
});

/** A later mtime than any write in the same millisecond could give. */
async function bumpMtime(path: string): Promise<void> {
  const t = new Date(Date.now() + Math.floor(Math.random() * 1e6) + 1000);
  await utimes(path, t, t);
}

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---------------------------------------------------------------------------------------------
// A minimal MaxMind DB writer (format spec: maxmind.github.io/MaxMind-DB), IPv4 tree, 32-bit
// records, just enough value types for the records above. Test-only.

type MmdbValue = string | number | { [key: string]: MmdbValue };

function writeMmdb(networks: Array<[address: string, prefix: number, value: MmdbValue]>): Buffer {
  const nodes: Array<[number, number]> = [[-1, -1]];
  const data: Buffer[] = [];
  let dataLength = 0;
  for (const [address, prefix, value] of networks) {
    const bits = address.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    const encoded = encode(value);
    const offset = dataLength;
    data.push(encoded);
    dataLength += encoded.length;
    let node = 0;
    for (let i = 0; i < prefix; i++) {
      const bit = Math.floor(bits / 2 ** (31 - i)) & 1;
      if (i === prefix - 1) {
        nodes[node][bit] = -2 - offset;
        break;
      }
      if (nodes[node][bit] < 0) {
        nodes.push([-1, -1]);
        nodes[node][bit] = nodes.length - 1;
      }
      node = nodes[node][bit];
    }
  }
  const count = nodes.length;
  const tree = Buffer.alloc(count * 8);
  nodes.forEach(([l, r], i) => {
    const record = (v: number) => (v === -1 ? count : v <= -2 ? count + 16 + (-2 - v) : v);
    tree.writeUInt32BE(record(l), i * 8);
    tree.writeUInt32BE(record(r), i * 8 + 4);
  });
  const metadata = encode({
    node_count: { uint32: count },
    record_size: { uint16: 32 },
    ip_version: { uint16: 4 },
    database_type: 'Outpost-Test',
    languages: { array: [] },
    binary_format_major_version: { uint16: 2 },
    binary_format_minor_version: { uint16: 0 },
    build_epoch: { uint64: Math.floor(Date.now() / 1000) },
    description: {},
  } as unknown as MmdbValue);
  return Buffer.concat([tree, Buffer.alloc(16), ...data, Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com'), metadata]);
}

function encode(value: MmdbValue): Buffer {
  const control = (type: number, size: number) => {
    if (size >= 29 + 256) throw new Error('test writer: sizes up to 284 only');
    const head = [type <= 7 ? (type << 5) | Math.min(size, 29) : Math.min(size, 29)];
    if (type > 7) head.push(type - 7);
    if (size >= 29) head.push(size - 29);
    return Buffer.from(head);
  };
  const uint = (type: number, n: number) => {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    return Buffer.concat([control(type, bytes.length), Buffer.from(bytes)]);
  };
  if (typeof value === 'string') {
    const bytes = Buffer.from(value);
    return Buffer.concat([control(2, bytes.length), bytes]);
  }
  if (typeof value === 'number') return uint(6, value);
  const typed = value as Record<string, unknown>;
  if ('uint16' in typed) return uint(5, typed.uint16 as number);
  if ('uint32' in typed) return uint(6, typed.uint32 as number);
  if ('uint64' in typed) return uint(9, typed.uint64 as number);
  if ('array' in typed) return control(11, 0);
  const entries = Object.entries(value);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]);
}
