/**
 * What a purge names, written the way cache keys are (key.ts: `scheme://host/path`, the host
 * lowercase and without a port). A user copies a URL from the browser, port included
 * (`http://example.com:8080/static/`); the key never has one, since one site is one cache
 * whatever port it was reached on, so the port is dropped here, or the purge would match
 * nothing at all. A prefix without a scheme stands for both.
 */

/** Cache-key prefixes for a purge prefix (`example.com/static/`, `https://example.com:8443/static/`). */
export function purgePrefixes(raw: string): string[] {
  const t = raw.trim();
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(t);
  const schemes = m ? [m[1].toLowerCase()] : ['http', 'https'];
  const rest = m ? t.slice(m[0].length) : t;
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  const host = purgeHost(authority);
  // With a port the host name was written whole: it ends there (example.com:8080 is not a
  // prefix of example.community).
  const tail = host !== authority.toLowerCase() && path === '' ? '/' : path;
  return schemes.map((s) => `${s}://${host}${tail}`);
}

/** The host of a purge by host, as entries store it: lowercase, without a port. */
export function purgeHost(raw: string): string {
  const h = raw.trim().toLowerCase();
  // `[::1]:8080` → `[::1]`; `example.com:8080` → `example.com`; a bare IPv6 address has several colons.
  if (h.startsWith('[')) return h.replace(/^(\[[^\]]*\]):\d*$/, '$1');
  return h.split(':').length === 2 ? h.replace(/:\d*$/, '') : h;
}
