/**
 * The clearance: what a visitor gets for solving a challenge, a cookie that lets its browser
 * through until it expires. Stateless, so any worker (and later any PoP) sharing the secret
 * accepts it; bound to the client's network prefix and user agent so a copied cookie does not
 * work from elsewhere, and to the site (host) that challenged, so a clearance earned on one site
 * of the edge does not open another.
 *
 * Cookie value format: `1.<expiresAt ms epoch, decimal>.<base64url HMAC-SHA256>`, the MAC over
 * `outpost/clearance/v1\n<expiresAt>\n<clientPrefix>\n<shortHash(userAgent)>\n<host>` (sign.ts).
 * Neither the prefix, the user agent nor the host is carried: the verifier recomputes the MAC from the request,
 * so a mismatch reads exactly like a forgery. About 60 characters, cookie-octets only.
 */
import { clientKey } from '../rate-limit.js';
import { assertSecret, BASE64URL, mac, MAC_LENGTH, macEquals, MIN_SECRET_LENGTH, PURPOSE_CLEARANCE, shortHash } from './sign.js';

export const CLEARANCE_COOKIE_NAME = '__outpost_clearance';

/** Longest cookie value looked at; anything longer is refused without parsing. */
const MAX_VALUE_LENGTH = 128;
const VALUE = /^1\.(\d{1,16})\.([A-Za-z0-9_-]+)$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * The network a client is bound to: IPv4 by /24 (`203.0.113.0/24`), IPv6 by /64
 * (`2001:db8:1:2::/64`, RFC 5952 form), IPv4-mapped IPv6 as its IPv4 /24. A /24 or /64 rather
 * than the exact address keeps CGNAT pools and IPv6 privacy addresses from re-challenging.
 * A string that is not an address comes back unchanged (still a usable binding).
 */
export function clientPrefix(ip: string): string {
  const key = clientKey(ip, 64);
  const m = IPV4.exec(key);
  if (!m) return key;
  const octets = m.slice(1, 4).map(Number);
  if (octets.some((o) => o > 255) || Number(m[4]) > 255) return key;
  return `${octets.join('.')}.0/24`;
}

export interface ClearanceInput {
  clientPrefix: string;
  userAgent: string;
  /** The site's host name (lower case, no port), as the route phase read it. */
  host: string;
  /** Now, ms since the epoch. */
  now: number;
  lifetimeMs: number;
}

/** Issues a clearance cookie value. Throws RangeError on a configuration error (short secret, bad lifetime). */
export function issueClearance(secret: string, input: ClearanceInput): string {
  assertSecret(secret);
  if (!Number.isFinite(input.now) || !Number.isFinite(input.lifetimeMs) || input.lifetimeMs <= 0) {
    throw new RangeError('clearance now and lifetimeMs must be finite, lifetimeMs > 0');
  }
  const expiresAt = Math.floor(input.now + input.lifetimeMs);
  return `1.${expiresAt}.${mac(secret, PURPOSE_CLEARANCE, signed(expiresAt, input.clientPrefix, input.userAgent, input.host))}`;
}

/** True if `value` is a clearance we issued, for this prefix, user agent and host, not yet expired. Never throws. */
export function verifyClearance(secret: string, value: unknown, ctx: { clientPrefix: string; userAgent: string; host: string; now: number }): boolean {
  if (typeof value !== 'string' || value.length > MAX_VALUE_LENGTH) return false;
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) return false;
  const m = VALUE.exec(value);
  if (!m || m[2].length !== MAC_LENGTH || !BASE64URL.test(m[2])) return false;
  const expiresAt = Number(m[1]);
  if (!macEquals(m[2], mac(secret, PURPOSE_CLEARANCE, signed(expiresAt, String(ctx.clientPrefix), String(ctx.userAgent), String(ctx.host))))) return false;
  return ctx.now < expiresAt;
}

/**
 * The Set-Cookie value for a clearance: HttpOnly (no script needs it), SameSite=Lax (sent on
 * top-level navigations from other sites, so links into the site work), Path=/, Max-Age (no
 * Expires: every current browser honours Max-Age), Secure when asked. No Domain attribute, so
 * it stays host-only; with `secure` a name starting `__Host-` is accepted by browsers too.
 */
export function clearanceCookie(value: string, options: { name?: string; maxAgeSeconds: number; secure: boolean }): string {
  const name = options.name ?? CLEARANCE_COOKIE_NAME;
  // RFC 6265 §4.1.1: a token for the name, cookie-octets for the value.
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new TypeError(`invalid cookie name: ${JSON.stringify(name)}`);
  if (!/^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/.test(value)) throw new TypeError('invalid cookie value');
  const maxAge = Math.max(0, Math.floor(options.maxAgeSeconds));
  if (!Number.isFinite(maxAge)) throw new RangeError('maxAgeSeconds must be finite');
  return `${name}=${value}; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}`;
}

function signed(expiresAt: number, prefix: string, userAgent: string, host: string): string {
  return `${expiresAt}\n${prefix}\n${shortHash(userAgent)}\n${host}`;
}
