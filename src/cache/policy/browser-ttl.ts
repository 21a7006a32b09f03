/**
 * The Cache-Control a client sees (Cloudflare's Browser Cache TTL): a rule may lengthen how long
 * browsers keep a response, never shorten what the origin allowed, and never override an origin
 * that keeps the response out of shared or any caches.
 */
import { parseCacheControl } from './cache-control.js';
import { splitList } from './field-list.js';

/**
 * The client's Cache-Control for an origin value and a rule's browser TTL (seconds). Without a
 * browser TTL: the origin value, unchanged. With one: unchanged when the origin says `private`,
 * `no-store` or `no-cache` (it asked every cache to keep out or to check; RFC 9111 §5.2.2);
 * else `max-age=<browserTtl>` replaces a lower, missing, repeated or malformed max-age, a
 * higher valid max-age stays, `s-maxage` (meant for this cache, §5.2.2.10) is dropped, and every
 * other directive (public, immutable, stale-while-revalidate, …) is kept in its place.
 */
export function clientCacheControl(originValue: string | undefined, browserTtl: number | undefined): string | undefined {
  if (browserTtl === undefined) return originValue;
  const ttl = Math.max(0, Math.floor(browserTtl));
  if (originValue === undefined || originValue.trim() === '') return `max-age=${ttl}`;
  const d = parseCacheControl(originValue);
  if (d.private !== undefined || d.noStore || d.noCache !== undefined) return originValue;
  const originMaxAge = d.maxAge !== undefined && !d.conflicts.includes('max-age') && !d.invalid ? d.maxAge : undefined;
  const maxAge = `max-age=${originMaxAge !== undefined && originMaxAge >= ttl ? originMaxAge : ttl}`;
  const out: string[] = [];
  let placed = false;
  for (const member of splitList(originValue)) {
    const name = member.split('=', 1)[0].trim().toLowerCase();
    if (name === 's-maxage') continue;
    if (name === 'max-age') {
      if (!placed) out.push(maxAge);
      placed = true;
      continue;
    }
    out.push(member);
  }
  if (!placed) out.push(maxAge);
  return out.join(', ');
}
