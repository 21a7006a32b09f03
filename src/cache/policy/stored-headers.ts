/**
 * Which response header fields a stored copy keeps (RFC 9111 §3.1), shared by the fill decision and
 * the 304 merge (§3.2 applies the same exceptions to updates).
 */
import { parseCacheControl } from './cache-control.js';
import { parseCdnCacheControl } from './cdn-cache-control.js';
import { splitList } from './field-list.js';

/**
 * Fields never stored: hop-by-hop ones (RFC 9110 §7.6.1, plus Trailer: a stored body has no
 * trailers to announce), the proxy-specific ones §3.1 forbids storing, Set-Cookie (one user's
 * cookie must not reach everyone; Set-Cookie2 is its obsolete twin), Age (recomputed on every
 * answer, §5.1), and Cache-Tag (this cache's own purge tags, kept in the metadata instead).
 */
export const UNSTORED_FIELDS: ReadonlySet<string> = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'proxy-authenticate',
  'proxy-authentication-info',
  'proxy-authorization',
  'set-cookie',
  'set-cookie2',
  'age',
  'cache-tag',
]);

/**
 * The header fields to store from a response (RFC 9111 §3.1): everything except the
 * {@link UNSTORED_FIELDS}, the fields the Connection field names (RFC 9110 §7.6.1), and the fields
 * named by qualified `private="…"` (§5.2.2.7, a shared cache must not store them) and
 * `no-cache="…"` (§5.2.2.4, not reusable without revalidation; dropping them is the simple way to
 * comply) in Cache-Control or a valid CDN-Cache-Control. Names are expected lowercase.
 */
export function storedHeaders(headers: Record<string, string>): Record<string, string> {
  const drop = new Set(UNSTORED_FIELDS);
  if (headers.connection !== undefined) for (const name of splitList(headers.connection)) drop.add(name.toLowerCase());
  for (const d of [parseCacheControl(headers['cache-control']), parseCdnCacheControl(headers['cdn-cache-control'])]) {
    if (Array.isArray(d?.private)) for (const name of d.private) drop.add(name);
    if (Array.isArray(d?.noCache)) for (const name of d.noCache) drop.add(name);
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!drop.has(name)) out[name] = value;
  }
  return out;
}
