/**
 * Vary (RFC 9111 §4.1): the request fields a stored response was selected by. The secondary key
 * encodes their values so that equal keys mean matching requests.
 */
import type { StoredMeta } from '../types.js';
import { fieldValue, splitList, type RequestHeaders } from './field-list.js';

/**
 * The secondary key of a request for a response varying on `vary` (lowercase names): for each name
 * its value, repeated field lines combined and list members trimmed (§4.1 allows normalizing
 * whitespace and combining lines; commas inside quoted strings are kept), encoded as JSON so
 * names and values can never run into each other. A missing field (null) differs from an empty
 * one (""). Empty for an empty Vary list.
 */
export function secondaryKey(vary: string[], requestHeaders: RequestHeaders): string {
  if (vary.length === 0) return '';
  const pairs = vary.map((name) => {
    const n = name.trim().toLowerCase();
    const value = fieldValue(requestHeaders, n);
    return [n, value === undefined ? null : splitList(value).join(',')];
  });
  return JSON.stringify(pairs);
}

/**
 * Whether a stored entry was selected by request fields matching these (§4.1). Vary: `*` never
 * matches. The entry's key must end with the secondary key it was stored under
 * (`primary + separator + secondaryKey`), which is how a variant's key is made; the JSON form
 * starts with `[["`, which cannot occur later inside another secondary key, so the suffix test
 * is exact.
 */
export function varyMatches(meta: Pick<StoredMeta, 'vary' | 'key'>, requestHeaders: RequestHeaders): boolean {
  if (meta.vary.includes('*')) return false;
  if (meta.vary.length === 0) return true;
  return meta.key.endsWith(secondaryKey(meta.vary, requestHeaders));
}
