/**
 * Revalidating a stored response with the origin (RFC 9111 §4.3): the conditional request, whether
 * a 304 selects the entry, and the header update the 304 brings.
 */
import type { StoredMeta } from '../types.js';
import { parseEntityTag, strongMatch, weakMatch } from './entity-tag.js';
import { storedHeaders } from './stored-headers.js';

/**
 * The validators to send when revalidating an entry (RFC 9111 §4.3.1): If-None-Match with its
 * ETag (weak ones too: If-None-Match compares weakly), If-Modified-Since with its Last-Modified.
 */
export function revalidationHeaders(meta: Pick<StoredMeta, 'headers'>): Record<string, string> {
  const out: Record<string, string> = {};
  const etag = meta.headers.etag;
  const lastModified = meta.headers['last-modified'];
  if (etag !== undefined && etag.trim() !== '') out['if-none-match'] = etag.trim();
  if (lastModified !== undefined && lastModified.trim() !== '') out['if-modified-since'] = lastModified.trim();
  return out;
}

/**
 * Fields a 304 does not update (RFC 9111 §3.2), on top of those never stored (§3.1):
 * Content-Length (the stored body's length is what it is), and fields the stored body depends on
 * or that describe a part (Content-Encoding: the bytes are stored as coded; Content-Range: only
 * whole responses are stored; §3.2 allows omitting both).
 */
export const NOT_UPDATED_BY_304: ReadonlySet<string> = new Set(['content-length', 'content-encoding', 'content-range']);

/**
 * The stored header fields after a 304 (RFC 9111 §4.3.4, §3.2; RFC 9110 §15.4.5): every field of
 * the 304 replaces the stored one, except those §3.1 keeps out of storage (hop-by-hop, named by
 * Connection, proxy-specific, Set-Cookie, Age, Cache-Tag) and {@link NOT_UPDATED_BY_304}. The
 * result is filtered again, so a field the new Cache-Control names in `private="…"` is dropped.
 * Freshness must be decided again from the result (a 304 with `max-age` changes the lifetime).
 */
export function mergeNotModified(stored: Record<string, string>, notModified: Record<string, string>): Record<string, string> {
  const update = storedHeaders(notModified);
  const merged: Record<string, string> = { ...stored };
  for (const [name, value] of Object.entries(update)) {
    if (!NOT_UPDATED_BY_304.has(name)) merged[name] = value;
  }
  return storedHeaders(merged);
}

/**
 * Whether a 304 selects this stored entry for update (RFC 9111 §4.3.4): a strong ETag in the 304
 * must strongly match the stored ETag; a weak one must weakly match; without an ETag a
 * Last-Modified in the 304 must equal the stored one. A 304 with no validator at all selects the
 * entry: it answers the conditional request this cache made for this very entry (§4.3.4's third
 * case asks that the entry lack validators too; origins that omit validators from their 304s
 * would otherwise never refresh anything).
 */
export function notModifiedMatches(meta: Pick<StoredMeta, 'headers'>, headers304: Record<string, string>): boolean {
  const etagField = headers304.etag;
  if (etagField !== undefined) {
    const received = parseEntityTag(etagField);
    const stored = parseEntityTag(meta.headers.etag);
    if (received === undefined || stored === undefined) return false;
    return received.weak ? weakMatch(received, stored) : strongMatch(received, stored);
  }
  const lastModified = headers304['last-modified'];
  if (lastModified !== undefined) return lastModified.trim() === (meta.headers['last-modified'] ?? '').trim();
  return true;
}
