/**
 * The request target, read once and normalised (RFC 9112 §3.2, RFC 3986 §6), so that every rule,
 * the cache key and the origin see the same path. Without this, `/x/../admin`, `/x/%2e%2e/admin`,
 * `//admin` and `GET http://other/admin` slip past rules written for `/admin/*` while the origin
 * resolves them to it. Like Envoy's `normalize_path` + `merge_slashes`:
 *
 * - origin-form `/p?q`: the path is normalised, the query kept byte for byte;
 * - absolute-form `http://host/p?q` (§3.2.2): the authority comes from the target (the Host
 *   header is ignored, as the RFC says a server MUST) and the request goes on in origin-form;
 * - asterisk-form `*`: only with OPTIONS (§3.2.4), answered by the edge itself;
 * - anything else (authority-form outside CONNECT, a bad percent-escape): not a valid target.
 *
 * Percent-encoded unreserved characters are decoded (`%2e` → `.`, `%7E` → `~`), other escapes
 * keep their meaning with upper-case hex (§6.2.2.1); `%2F` stays an escape, never a separator
 * (Envoy's default, KEEP_UNCHANGED): rules see what the origin's router sees. A fragment is
 * dropped (it is never part of a target; Envoy strips it too).
 */

export type RequestTarget =
  | { form: 'origin'; path: string }
  | { form: 'absolute'; path: string; authority: string; scheme: 'http' | 'https' }
  | { form: 'asterisk' }
  | { form: 'invalid'; reason: string };

/** Reads a raw request target (`req.url` / `:path`). Pure; never throws. */
export function parseTarget(raw: string): RequestTarget {
  if (raw === '*') return { form: 'asterisk' };
  if (raw.charCodeAt(0) === 47 /* / */) {
    const path = normalizeTarget(raw);
    return path === undefined ? { form: 'invalid', reason: 'bad percent-encoding in the path' } : { form: 'origin', path };
  }
  const m = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(raw);
  if (!m) return { form: 'invalid', reason: 'the target is neither a path nor an absolute http(s) URL' };
  const authority = m[2];
  if (!authority || /[@\s]/.test(authority)) return { form: 'invalid', reason: 'the target has no valid authority' };
  const rest = m[3] === '' || m[3].charCodeAt(0) !== 47 ? `/${m[3]}` : m[3];
  const path = normalizeTarget(rest);
  if (path === undefined) return { form: 'invalid', reason: 'bad percent-encoding in the path' };
  return { form: 'absolute', path, authority, scheme: m[1].toLowerCase() as 'http' | 'https' };
}

/** Characters whose presence means the path may need work; most paths have none. */
const NEEDS_WORK = /%|\/\.|\/\/|#/;

/**
 * `/a/./b/../c//d%2e%41?q` → `/a/c/d.A?q`. Returns undefined for a malformed escape. The query
 * (after the first `?`) is left untouched: it is the application's, and a cache key keeps it.
 */
export function normalizeTarget(target: string): string | undefined {
  if (!NEEDS_WORK.test(target)) return target;
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q);
  const decoded = decodeUnreserved(rawPath);
  if (decoded === undefined) return undefined;
  return removeDotSegments(decoded.replace(/\/{2,}/g, '/')) + query;
}

const HEX = /^[0-9A-Fa-f]{2}$/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** RFC 3986 §6.2.2.1–2: decode escapes of unreserved characters, upper-case the rest. */
function decodeUnreserved(path: string): string | undefined {
  if (!path.includes('%')) return path;
  let out = '';
  let i = 0;
  while (i < path.length) {
    const p = path.indexOf('%', i);
    if (p < 0) {
      out += path.slice(i);
      break;
    }
    out += path.slice(i, p);
    const hex = path.slice(p + 1, p + 3);
    if (!HEX.test(hex)) return undefined;
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    out += UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
    i = p + 3;
  }
  return out;
}

/** RFC 3986 §5.2.4 on an absolute path: `.` and `..` segments go, never above the root. */
function removeDotSegments(path: string): string {
  if (!path.includes('.')) return path;
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i];
    const last = i === segments.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..') out.pop();
      if (last) out.push(''); // `/a/b/..` → `/a/`: a trailing dot segment leaves a directory
    } else out.push(s);
  }
  return `/${out.join('/')}`;
}
