/**
 * Conditional requests answered from a stored entry (RFC 9110 §13): the order of §13.2.2 and the
 * comparison each precondition uses.
 */
import type { StoredMeta } from '../types.js';
import { parseEntityTag, parseEntityTagList, strongMatch, weakMatch } from './entity-tag.js';
import { fieldValue, type RequestHeaders } from './field-list.js';
import { parseHttpDate } from './http-date.js';

/**
 * The status a request's preconditions give against a stored entry (RFC 9110 §13.2.2): 200 (go on),
 * 304 or 412. In order: If-Match (strong comparison, §13.1.1); without it If-Unmodified-Since
 * (§13.1.4, needs a Last-Modified); If-None-Match (weak comparison, `*` matches, §13.1.2), failing
 * as 304 for GET/HEAD and 412 otherwise; without it, for GET/HEAD, If-Modified-Since (§13.1.3).
 * Invalid or repeated dates are ignored. For If-Modified-Since an entry without Last-Modified uses
 * its response time (it has not changed since we fetched it, as far as this cache knows; Cloudflare
 * calls this smart edge revalidation). Preconditions are ignored for non-2xx entries (§13.2.1).
 */
export function evaluatePreconditions(method: string, requestHeaders: RequestHeaders, meta: Pick<StoredMeta, 'status' | 'headers' | 'responseTime'>): 200 | 304 | 412 {
  if (meta.status < 200 || meta.status > 299) return 200;
  // The common case, a request with no precondition, parses nothing (this runs on every hit).
  const h = requestHeaders;
  if (h['if-match'] === undefined && h['if-none-match'] === undefined && h['if-modified-since'] === undefined && h['if-unmodified-since'] === undefined) return 200;
  const getOrHead = method === 'GET' || method === 'HEAD';
  const etag = parseEntityTag(meta.headers.etag);
  const lastModified = parseHttpDate(meta.headers['last-modified'], meta.responseTime);

  const ifMatch = fieldValue(requestHeaders, 'if-match');
  if (ifMatch !== undefined) {
    const tags = parseEntityTagList(ifMatch);
    // `*` matches any current representation, and the entry is one.
    if (tags !== '*' && !(etag && tags.some((t) => strongMatch(t, etag)))) return 412;
  } else {
    const since = singleDate(requestHeaders['if-unmodified-since'], meta.responseTime);
    if (since !== undefined && lastModified !== undefined && lastModified > since) return 412;
  }

  const ifNoneMatch = fieldValue(requestHeaders, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    const tags = parseEntityTagList(ifNoneMatch);
    if (tags === '*' || (etag && tags.some((t) => weakMatch(t, etag)))) return getOrHead ? 304 : 412;
  } else if (getOrHead) {
    const since = singleDate(requestHeaders['if-modified-since'], meta.responseTime);
    // HTTP-dates have whole seconds: the response time compares at that resolution.
    const modified = lastModified ?? Math.floor(meta.responseTime / 1000) * 1000;
    if (since !== undefined && modified <= since) return 304;
  }
  return 200;
}

/** A date precondition field: one field line holding a valid HTTP-date, else undefined (ignored). */
function singleDate(value: string | string[] | undefined, reference: number): number | undefined {
  if (Array.isArray(value)) return value.length === 1 ? parseHttpDate(value[0], reference) : undefined;
  return parseHttpDate(value, reference);
}
