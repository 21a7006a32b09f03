import { COUNTRIES, type Region } from './countries.js';
import type { LatLon } from './distance.js';

/**
 * Our region vocabulary: Cloudflare's 13 load-balancing regions under names that read like the
 * cloud regions users already know. Config accepts either spelling (`eu-west` or `WEU`); the
 * rest of Outpost only ever sees ours. Each region has one representative point, a major
 * interconnection hub inside it, for proximity math when a pool or PoP gives only its region.
 *
 * | region        | Cloudflare | hub          |
 * | ------------- | ---------- | ------------ |
 * | us-west       | WNAM       | Los Angeles  |
 * | us-east       | ENAM       | Ashburn      |
 * | sa-north      | NSAM       | Bogotá       |
 * | sa-south      | SSAM       | São Paulo    |
 * | eu-west       | WEU        | Frankfurt    |
 * | eu-east       | EEU        | Warsaw       |
 * | me            | ME         | Dubai        |
 * | af-north      | NAF        | Cairo        |
 * | af-south      | SAF        | Johannesburg |
 * | ap-south      | SAS        | Mumbai       |
 * | ap-southeast  | SEAS       | Singapore    |
 * | ap-northeast  | NEAS       | Tokyo        |
 * | oceania       | OC         | Sydney       |
 *
 * The country → region table is in countries.ts (and src/geo/README.md), with the choices made
 * where Cloudflare's mapping is not known to us.
 */

export type { Region } from './countries.js';

export type CloudflareRegionCode = 'WNAM' | 'ENAM' | 'NSAM' | 'SSAM' | 'WEU' | 'EEU' | 'ME' | 'NAF' | 'SAF' | 'SAS' | 'SEAS' | 'NEAS' | 'OC';

export interface RegionInfo {
  name: Region;
  /** Cloudflare's code for the same region. */
  code: CloudflareRegionCode;
  /** Cloudflare's description. */
  description: string;
  /** The hub city whose coordinates stand for the region. */
  hub: string;
  location: LatLon;
}

export const REGIONS: readonly RegionInfo[] = [
  { name: 'us-west', code: 'WNAM', description: 'Western North America', hub: 'Los Angeles', location: { lat: 34.05, lon: -118.24 } },
  { name: 'us-east', code: 'ENAM', description: 'Eastern North America', hub: 'Ashburn', location: { lat: 39.04, lon: -77.49 } },
  { name: 'sa-north', code: 'NSAM', description: 'Northern South America', hub: 'Bogotá', location: { lat: 4.71, lon: -74.07 } },
  { name: 'sa-south', code: 'SSAM', description: 'Southern South America', hub: 'São Paulo', location: { lat: -23.55, lon: -46.63 } },
  { name: 'eu-west', code: 'WEU', description: 'Western Europe', hub: 'Frankfurt', location: { lat: 50.11, lon: 8.68 } },
  { name: 'eu-east', code: 'EEU', description: 'Eastern Europe', hub: 'Warsaw', location: { lat: 52.23, lon: 21.01 } },
  { name: 'me', code: 'ME', description: 'Middle East', hub: 'Dubai', location: { lat: 25.2, lon: 55.27 } },
  { name: 'af-north', code: 'NAF', description: 'Northern Africa', hub: 'Cairo', location: { lat: 30.04, lon: 31.24 } },
  { name: 'af-south', code: 'SAF', description: 'Southern Africa', hub: 'Johannesburg', location: { lat: -26.2, lon: 28.05 } },
  { name: 'ap-south', code: 'SAS', description: 'Southern Asia', hub: 'Mumbai', location: { lat: 19.08, lon: 72.88 } },
  { name: 'ap-southeast', code: 'SEAS', description: 'Southeast Asia', hub: 'Singapore', location: { lat: 1.35, lon: 103.82 } },
  { name: 'ap-northeast', code: 'NEAS', description: 'Northeast Asia', hub: 'Tokyo', location: { lat: 35.68, lon: 139.69 } },
  { name: 'oceania', code: 'OC', description: 'Oceania', hub: 'Sydney', location: { lat: -33.87, lon: 151.21 } },
];

const byName = new Map<string, RegionInfo>();
for (const r of REGIONS) {
  byName.set(r.name, r);
  byName.set(r.code.toLowerCase(), r);
}

/** `eu-west`, `EU-WEST`, `WEU`, `weu` → `eu-west`; undefined for anything else. */
export function normalizeRegion(name: string): Region | undefined {
  return byName.get(name.trim().toLowerCase())?.name;
}

/** The region's entry in REGIONS, by our name or Cloudflare's code. */
export function regionInfo(name: string): RegionInfo | undefined {
  return byName.get(name.trim().toLowerCase());
}

/** The region of an ISO 3166-1 alpha-2 country code (any case); undefined if unknown. */
export function regionOfCountry(iso2: string): Region | undefined {
  return regions.get(iso2.toUpperCase());
}

const regions = new Map<string, Region>(Object.entries(COUNTRIES).map(([iso2, [region]]) => [iso2, region]));
const locations = new Map<string, LatLon>(Object.entries(COUNTRIES).map(([iso2, [, lat, lon]]) => [iso2, Object.freeze({ lat, lon })]));

/** A representative point for a country (usually its capital; see countries.ts). Frozen, shared. */
export function countryLocation(iso2: string): LatLon | undefined {
  return locations.get(iso2.toUpperCase());
}

/** Every country code in the table, sorted. */
export function knownCountries(): string[] {
  return Object.keys(COUNTRIES).sort();
}
