/**
 * Operator sign-in sessions. The token handed to the inbox is 32 random bytes; the store keeps
 * only its SHA-256, so a copy of the database does not hold live credentials. Sessions last 12 h.
 * Visitor tokens are different: they are the widget's identity in localStorage, stored as given.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DeskStore, Operator } from '../store/types.js';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** Whether a secret given equals the one expected, in a time that does not tell where they differ. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The request is a regional node's: its `x-desk-regional` header is `secret` (desk/REGIONAL.md). */
export function fromRegionalNode(req: IncomingMessage, secret: string | undefined): boolean {
  const given = req.headers['x-desk-regional'];
  return secret !== undefined && typeof given === 'string' && sameSecret(given, secret);
}

/** A fresh secret token (256 bits, base64url). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function sessionKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export async function startSession(store: DeskStore, operatorId: string, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
  const token = newToken();
  const expiresAt = now + SESSION_TTL_MS;
  await store.createSession(sessionKey(token), operatorId, expiresAt);
  return { token, expiresAt };
}

export function operatorForToken(store: DeskStore, token: string, now = Date.now()): Promise<Operator | undefined> {
  if (token.length === 0 || token.length > 200) return Promise.resolve(undefined);
  return store.operatorBySession(sessionKey(token), now);
}

export function endSession(store: DeskStore, token: string): Promise<void> {
  return store.deleteSession(sessionKey(token));
}
