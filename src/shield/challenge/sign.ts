/**
 * The HMAC and hashing primitives shared by challenge tokens and clearance cookies (internal).
 * Every MAC is HMAC-SHA256 over `purpose + '\n' + data`, so a value signed for one purpose
 * (a challenge token) can never be replayed as another (a clearance cookie) under the same key.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Purpose labels; bump the version to invalidate every value of that kind at once. */
export const PURPOSE_CHALLENGE = 'outpost/challenge/v1';
export const PURPOSE_CLEARANCE = 'outpost/clearance/v1';

/** Shortest secret accepted when issuing (a shorter one is a configuration error). */
export const MIN_SECRET_LENGTH = 16;

/** base64url of a 32-byte MAC is 43 characters. */
export const MAC_LENGTH = 43;

export const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function assertSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new RangeError(`shield secret must be a string of at least ${MIN_SECRET_LENGTH} characters`);
  }
}

/** base64url(HMAC-SHA256(secret, purpose '\n' data)). */
export function mac(secret: string, purpose: string, data: string): string {
  return createHmac('sha256', secret).update(`${purpose}\n${data}`).digest('base64url');
}

/**
 * Constant-time comparison of a received MAC with the expected one. The length is not secret
 * (every MAC is 43 characters), so a length mismatch returns early.
 */
export function macEquals(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The first 128 bits of SHA-256(value), base64url (22 characters): binds a value without carrying it. */
export function shortHash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest().subarray(0, 16).toString('base64url');
}
