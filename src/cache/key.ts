/**
 * Cache keys. The primary key is the request URL as the rule's `cacheKey` shapes it (query kept,
 * ignored or sorted) plus, when the rule asks, the values of chosen headers and cookies. Nothing
 * else of the request is keyed: an unkeyed header (X-Forwarded-Host, X-Original-URL, …) can
 * change what the origin answers, so such requests are only served from cache when the origin's
 * answer does not depend on them (it must say so with Vary, RFC 9111 §4.1), which is the point
 * of keying on the URL alone. A response that varies gets a secondary key from the request
 * fields its Vary names (policy/vary.ts), stored under `primary \0 secondary`, with a marker at
 * the primary key that lists the Vary names.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RuleConfig } from '../config/cache-schema.js';
import { secondaryKey } from './policy/vary.js';
import { acceptEncodingKey } from './compress.js';

/** Separates the URL from keyed header/cookie values. */
const EXTRAS = '\u0001';
/** Separates the primary key from the secondary (Vary) key. */
export const VARIANT = '\u0000';

/** `scheme://host/path?query` with the query as the rule's cacheKey.query says. */
export function cacheUrl(scheme: string, host: string, path: string, rule: RuleConfig | undefined): string {
  const mode = rule?.cacheKey?.query ?? 'include';
  let p = path;
  if (mode !== 'include') {
    const q = p.indexOf('?');
    if (q !== -1) p = mode === 'ignore' ? p.slice(0, q) : p.slice(0, q) + sortedQuery(p.slice(q + 1));
  }
  return `${scheme}://${host}${p}`;
}

/** `?a=1&b=2` with parameters sorted by name (stable for repeated names); empty query dropped. */
export function sortedQuery(query: string): string {
  if (!query) return '';
  const parts = query.split('&').filter((s) => s !== '');
  const sorted = parts
    .map((s, i) => ({ s, i, name: s.split('=', 1)[0] }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.i - b.i))
    .map((p) => p.s);
  return sorted.length ? `?${sorted.join('&')}` : '';
}

/** The primary key: the cache URL, plus the keyed header and cookie values of the rule. */
export function primaryKey(url: string, headers: IncomingHttpHeaders, rule: RuleConfig | undefined): string {
  const ck = rule?.cacheKey;
  if (!ck || (ck.headers.length === 0 && ck.cookies.length === 0)) return url;
  let extras = '';
  for (const name of ck.headers) {
    const v = headers[name];
    extras += `h:${name}=${v === undefined ? '' : Array.isArray(v) ? v.join(',') : v.trim()}\n`;
  }
  if (ck.cookies.length) {
    const jar = cookies(headers.cookie);
    for (const name of ck.cookies) extras += `c:${name}=${jar.get(name) ?? ''}\n`;
  }
  return url + EXTRAS + extras;
}

/** Secondary keys of `Vary: Accept-Encoding` alone, by negotiated encoding (br, gzip, identity). */
const ENCODING_ONLY = new Map<string, string>();

/** The store key of the variant a request selects. */
export function variantKey(primary: string, vary: readonly string[], headers: IncomingHttpHeaders): string {
  if (vary.length === 0) return primary;
  if (vary.length === 1 && vary[0] === 'accept-encoding') {
    // The common case (the edge adds Vary: Accept-Encoding to what it may compress): the
    // secondary key of each negotiated encoding is made once, not per hit.
    const encoding = acceptEncodingKey(headers['accept-encoding']);
    let secondary = ENCODING_ONLY.get(encoding);
    if (secondary === undefined) ENCODING_ONLY.set(encoding, (secondary = secondaryKey(['accept-encoding'], { 'accept-encoding': encoding })));
    return primary + VARIANT + secondary;
  }
  // Accept-Encoding is keyed by the encoding the edge negotiates (br, gzip or identity), not by
  // its raw value: `gzip, deflate, br` and `br, gzip` share one stored copy.
  const h = vary.includes('accept-encoding') ? { ...headers, 'accept-encoding': acceptEncodingKey(headers['accept-encoding']) } : headers;
  return primary + VARIANT + secondaryKey(vary as string[], h);
}

/** Cookie name → value of a Cookie header (first of each name wins). */
export function cookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (name && !out.has(name)) out.set(name, eq === -1 ? '' : part.slice(eq + 1).trim());
  }
  return out;
}
