/**
 * Range requests answered from a stored whole response (RFC 9110 §14.1–14.2, If-Range §13.1.5).
 * One byte range is served as 206; several are answered with the full response, which a server
 * may always do (§14.2), so no multipart/byteranges is ever built.
 */
import type { StoredMeta } from '../types.js';
import { parseEntityTag, strongMatch } from './entity-tag.js';
import { fieldValue, type RequestHeaders } from './field-list.js';
import { parseHttpDate } from './http-date.js';

export type RangeSelection = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

const FULL: RangeSelection = { kind: 'full' };

/**
 * What to send for a request's Range against a stored entry: only for GET (§14.2) and 200
 * entries; If-Range must match (§13.1.5) or the full response is sent. A single `bytes=` range
 * (`0-99`, open `100-`, suffix `-500`; the end clamps to size − 1) gives its inclusive bounds;
 * a first byte at or past the size, or a suffix of 0, is unsatisfiable (§14.1.1, 416). A
 * malformed Range, another unit, or several ranges give the full response. A suffix range of an
 * empty body is served full (there is no byte to point at, and a 416 would help no one).
 */
export function selectRange(method: string, requestHeaders: RequestHeaders, meta: Pick<StoredMeta, 'status' | 'size' | 'headers' | 'responseTime'>): RangeSelection {
  if (method !== 'GET' || meta.status !== 200) return FULL;
  const range = fieldValue(requestHeaders, 'range');
  if (range === undefined) return FULL;
  const ifRange = fieldValue(requestHeaders, 'if-range');
  if (ifRange !== undefined && !ifRangeMatches(ifRange, meta)) return FULL;

  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(range);
  if (!m) return FULL;
  const specs = m[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length !== 1) return FULL;
  const size = meta.size;
  const suffix = /^-(\d+)$/.exec(specs[0]);
  if (suffix) {
    const length = Number(suffix[1]);
    if (length === 0) return { kind: 'unsatisfiable' };
    if (size === 0) return FULL;
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const span = /^(\d+)-(\d*)$/.exec(specs[0]);
  if (!span) return FULL;
  const start = Number(span[1]);
  const last = span[2] === '' ? Infinity : Number(span[2]);
  if (last < start) return FULL; // an invalid range-spec: the field is ignored (§14.1.1)
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(last, size - 1) };
}

/**
 * If-Range (RFC 9110 §13.1.5): an entity-tag must strongly match the entry's ETag; an HTTP-date
 * must exactly equal its Last-Modified. Anything else (weak tags, no validator, garbage) fails.
 */
export function ifRangeMatches(value: string, meta: Pick<StoredMeta, 'headers' | 'responseTime'>): boolean {
  const text = value.trim();
  if (text.startsWith('"') || text.startsWith('W/')) {
    const tag = parseEntityTag(text);
    const stored = parseEntityTag(meta.headers.etag);
    return tag !== undefined && stored !== undefined && strongMatch(tag, stored);
  }
  const date = parseHttpDate(text, meta.responseTime);
  const lastModified = parseHttpDate(meta.headers['last-modified'], meta.responseTime);
  return date !== undefined && lastModified !== undefined && date === lastModified;
}
