/**
 * Invalidation after unsafe requests (RFC 9111 §4.4): a successful POST/PUT/DELETE/… through the
 * cache makes the stored responses for its URL, and for the URLs its Location and
 * Content-Location name on the same origin, stale.
 */

/** Methods defined as safe (RFC 9110 §9.2.1); any other method is unsafe, unknown ones included. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Whether a method is unsafe (RFC 9110 §9.2.1). Method names are case-sensitive (§9.1). */
export function isUnsafeMethod(method: string): boolean {
  return !SAFE.has(method);
}

/**
 * The URLs to invalidate (RFC 9111 §4.4) after a response to `method` on `requestUrl` (absolute):
 * none for a safe method or an error status (only 2xx and 3xx invalidate); else the request URL
 * and the Location / Content-Location URLs, resolved against it, when they share its origin
 * (scheme, host and port; §4.4 forbids invalidating other origins, a denial-of-service lever).
 * URLs come back normalized by WHATWG URL parsing (lowercase host, default port dropped), without
 * fragment, deduplicated.
 */
export function invalidatedUrls(method: string, status: number, requestUrl: string, responseHeaders: Record<string, string>): string[] {
  if (!isUnsafeMethod(method) || status < 200 || status > 399) return [];
  const base = parse(requestUrl);
  if (!base) return [];
  const urls = [base.href];
  for (const name of ['location', 'content-location']) {
    const value = responseHeaders[name];
    if (value === undefined || value.trim() === '') continue;
    const target = parse(value.trim(), base.href);
    if (target && target.origin === base.origin && !urls.includes(target.href)) urls.push(target.href);
  }
  return urls;
}

function parse(url: string, base?: string): URL | undefined {
  try {
    const u = new URL(url, base);
    u.hash = '';
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined;
  } catch {
    return undefined;
  }
}
