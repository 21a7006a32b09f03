/**
 * Session affinity cookies: stateless and signed. The cookie names the pinned origin
 * (`pool/origin`) and an expiry, with an HMAC-SHA256 over both, so any worker of any PoP that
 * shares the key can honour it and nobody can forge a pin to an origin of their choosing.
 *
 *   value = base64url(`${pool}/${origin}|${expiresAtSeconds}`) + "." + base64url(hmac)
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface AffinityPin {
  /** `pool/origin`, as OriginRuntime.id. */
  originId: string;
  /** Unix seconds. */
  expiresAt: number;
}

export function signPin(pin: AffinityPin, key: string | Buffer): string {
  const payload = Buffer.from(`${pin.originId}|${pin.expiresAt}`).toString('base64url');
  return `${payload}.${mac(payload, key)}`;
}

/** The pin in a cookie value, or undefined if it is malformed, forged or expired. */
export function verifyPin(value: string, key: string | Buffer, nowSeconds: number): AffinityPin | undefined {
  const dot = value.indexOf('.');
  if (dot <= 0 || value.length > 512) return undefined;
  const payload = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1), 'base64url');
  const expected = Buffer.from(mac(payload, key), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const text = Buffer.from(payload, 'base64url').toString();
  const bar = text.lastIndexOf('|');
  const expiresAt = Number(text.slice(bar + 1));
  if (bar <= 0 || !Number.isInteger(expiresAt) || expiresAt <= nowSeconds) return undefined;
  return { originId: text.slice(0, bar), expiresAt };
}

function mac(payload: string, key: string | Buffer): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

/** The value of cookie `name` in a Cookie header (RFC 6265 §5.4), or undefined. */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const text = Array.isArray(header) ? header.join('; ') : header;
  let from = 0;
  while (from < text.length) {
    const semi = text.indexOf(';', from);
    const end = semi === -1 ? text.length : semi;
    const eq = text.indexOf('=', from);
    if (eq !== -1 && eq < end && text.slice(from, eq).trim() === name) return text.slice(eq + 1, end).trim();
    from = end + 1;
  }
  return undefined;
}

export interface CookieAttributes {
  name: string;
  maxAgeSeconds: number;
  secure: boolean;
  httpOnly: boolean;
  sameSite: 'lax' | 'strict' | 'none' | undefined;
}

/** The Set-Cookie value for a pin (RFC 6265 §4.1). */
export function affinityCookie(value: string, a: CookieAttributes): string {
  let out = `${a.name}=${value}; Path=/; Max-Age=${a.maxAgeSeconds}`;
  if (a.secure) out += '; Secure';
  if (a.httpOnly) out += '; HttpOnly';
  if (a.sameSite) out += `; SameSite=${a.sameSite[0].toUpperCase()}${a.sameSite.slice(1)}`;
  return out;
}
