/**
 * Freshness and age (RFC 9111 §4.2): how long a response stays fresh, and how old it is. Times are
 * ms since the epoch, lifetimes and ages are seconds. Nothing here reads the clock.
 */
import type { StoredMeta } from '../types.js';
import { parseCacheControl, type Directives } from './cache-control.js';
import { DELTA_SECONDS_MAX, parseDeltaSeconds } from './directives.js';
import { parseHttpDate } from './http-date.js';

/**
 * The explicit freshness lifetime of a response in a shared cache (RFC 9111 §4.2.1): s-maxage, else
 * max-age, else Expires minus Date (Date missing or invalid → the response time). Undefined when the
 * response gives none of them. Read as already stale (0): an invalid Expires ("0", garbage, two
 * field lines, §5.3), and a governing directive that was malformed or repeated with different
 * values (§4.2.1 allows "consider it stale"; the cache test suite requires it for negative max-age).
 */
export function freshnessLifetime(headers: Record<string, string>, directives: Directives, responseTime: number): number | undefined {
  if (directives.sMaxage !== undefined) return directives.conflicts.includes('s-maxage') ? 0 : directives.sMaxage;
  if (directives.maxAge !== undefined) return directives.conflicts.includes('max-age') ? 0 : directives.maxAge;
  const expiresField = headers.expires;
  if (expiresField === undefined) return undefined;
  const expires = parseHttpDate(expiresField, responseTime);
  if (expires === undefined) return 0;
  const date = parseHttpDate(headers.date, responseTime) ?? responseTime;
  return Math.min(DELTA_SECONDS_MAX, Math.max(0, Math.floor((expires - date) / 1000)));
}

/**
 * Status codes that are heuristically cacheable (RFC 9110 §15.1): responses with them may get a
 * heuristic lifetime (RFC 9111 §4.2.2).
 */
export const HEURISTIC_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);

/**
 * A heuristic freshness lifetime (RFC 9111 §4.2.2): `fraction` of the time since Last-Modified
 * (measured to Date, or to the response time without a valid Date), capped at `max`. Only for a
 * heuristically cacheable status, or any status when the response is marked `public` (§4.2.2, §3).
 * Undefined without a valid Last-Modified or when it lies after the Date. `directives` default to
 * the response's Cache-Control; callers that honour CDN-Cache-Control pass the effective ones.
 * Callers must not use this when the response has explicit freshness (§4.2.2).
 */
export function heuristicLifetime(
  status: number,
  headers: Record<string, string>,
  responseTime: number,
  fraction = 0.1,
  max = 86400,
  directives: Directives = parseCacheControl(headers['cache-control']),
): number | undefined {
  if (!HEURISTIC_STATUSES.has(status) && !directives.public) return undefined;
  const lastModified = parseHttpDate(headers['last-modified'], responseTime);
  if (lastModified === undefined) return undefined;
  const date = parseHttpDate(headers.date, responseTime) ?? responseTime;
  if (lastModified > date) return undefined;
  return Math.max(0, Math.min(max, Math.floor((fraction * (date - lastModified)) / 1000)));
}

/**
 * The Age field's value (RFC 9111 §5.1): of a list, the first member; undefined (ignore the field)
 * when that member is not a non-negative integer ("abc", "-1", "1.5", "10;x=y"). Large values clamp
 * to 2147483648 (§1.2.2).
 */
export function parseAge(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const first = value.split(',', 1)[0].trim();
  return parseDeltaSeconds(first);
}

/**
 * The age a response already had on arrival, corrected_initial_age of RFC 9111 §4.2.3, in whole
 * seconds: the larger of apparent_age (response time minus Date, never negative) and the Age field
 * plus response_delay (the round trip, which the response may have spent ageing somewhere).
 */
export function initialAge(headers: Record<string, string>, requestTime: number, responseTime: number): number {
  const date = parseHttpDate(headers.date, responseTime);
  const apparentAge = date === undefined ? 0 : Math.max(0, responseTime - date);
  const responseDelay = Math.max(0, responseTime - requestTime);
  const correctedAgeValue = (parseAge(headers.age) ?? 0) * 1000 + responseDelay;
  return Math.floor(Math.max(apparentAge, correctedAgeValue) / 1000);
}

/**
 * current_age of RFC 9111 §4.2.3 in seconds (fractional): the initial age plus the time the entry
 * has been resident since it arrived (a clock that went backwards counts as no time).
 */
export function currentAge(meta: Pick<StoredMeta, 'initialAge' | 'responseTime'>, now: number): number {
  return meta.initialAge + Math.max(0, now - meta.responseTime) / 1000;
}
