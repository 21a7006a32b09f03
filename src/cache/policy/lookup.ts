/**
 * What a stored entry may be used for at lookup time (RFC 9111 §4, §4.2.4; RFC 5861): only numbers
 * decided at fill time are compared, plus the request's own directives when the caller honours them.
 */
import type { StoredMeta } from '../types.js';
import type { Directives } from './cache-control.js';
import { currentAge } from './freshness.js';

export interface EntryState {
  /** current_age, seconds (fractional). */
  age: number;
  /** Usable without contacting the origin. */
  fresh: boolean;
  /** Within the stale-while-revalidate window (RFC 5861 §3): serve it and refresh in the background. */
  serveStaleWhileRevalidate: boolean;
  /** Within the stale-if-error window (RFC 5861 §4): serve it when the origin fails. */
  serveStaleIfError: boolean;
}

/**
 * The state of an entry at `now` (ms). Fresh when lifetime > age (§4.2), unless the entry is
 * `no-cache` (§5.2.2.4) or invalidated by a purge. With `request` (the request's Cache-Control,
 * §5.2.1): `no-cache` makes nothing fresh and allows no stale-while-revalidate (the client asked
 * for a validated answer); `max-age` requires age ≤ max-age; `min-fresh` requires that much
 * lifetime left; `max-stale` accepts a stale entry that far past its lifetime, never for a
 * must-revalidate entry (§4.2.4). The stale windows never apply to must-revalidate / no-cache /
 * invalidated entries (§4.2.4: explicit directives forbid serving stale).
 */
export function entryState(meta: StoredMeta, now: number, request?: Directives): EntryState {
  const age = currentAge(meta, now);
  const blocked = meta.invalidated === true || meta.noCache;
  let fresh = !blocked && meta.lifetime > age;
  if (request && !blocked) {
    const staleness = age - meta.lifetime;
    const maxStale = request.maxStale;
    if (!fresh && maxStale !== undefined && !meta.mustRevalidate && (maxStale === true || staleness <= maxStale)) fresh = true;
    if (request.maxAge !== undefined && age > request.maxAge) fresh = false;
    if (request.minFresh !== undefined && meta.lifetime - age < request.minFresh) fresh = false;
    if (request.noCache !== undefined) fresh = false;
  }
  const staleAllowed = !blocked && !meta.mustRevalidate;
  return {
    age,
    fresh,
    serveStaleWhileRevalidate: staleAllowed && request?.noCache === undefined && age < meta.lifetime + meta.staleWhileRevalidate,
    serveStaleIfError: staleAllowed && age < meta.lifetime + meta.staleIfError,
  };
}
