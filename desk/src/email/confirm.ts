/**
 * The link that proves a visitor owns the address they typed, before Desk emails anything there
 * on their request (a transcript). Stateless: the link carries visitor, conversation, address and
 * expiry, signed with an HMAC under the workspace's secret, so any node can check it without a
 * table of pending confirmations. Pure.
 */
import { createHmac } from 'node:crypto';
import { sameSecret } from '../server/sessions.js';

/** A link is good for a day. */
export const CONFIRM_TTL_MS = 24 * 60 * 60 * 1000;

export interface Confirmation {
  visitor: string;
  conversation: string;
  email: string;
  /** ms epoch */
  expires: number;
}

function sign(secret: string, c: Confirmation): string {
  return createHmac('sha256', secret).update(`desk-email-confirm:${c.visitor}:${c.conversation}:${c.email}:${c.expires}`).digest('hex').slice(0, 32);
}

/** `<base>/email/confirm?v=…&c=…&e=…&x=…&s=…` */
export function confirmationLink(base: string, secret: string, c: Confirmation): string {
  const url = new URL('/email/confirm', base);
  url.search = new URLSearchParams({ v: c.visitor, c: c.conversation, e: c.email, x: String(c.expires), s: sign(secret, c) }).toString();
  return url.href;
}

/** The link's claims, unchecked (the caller needs the conversation's workspace for the secret), or undefined when malformed. */
export function readConfirmation(params: URLSearchParams): (Confirmation & { signature: string }) | undefined {
  const [visitor, conversation, email, x, signature] = ['v', 'c', 'e', 'x', 's'].map((k) => params.get(k) ?? '');
  const expires = Number(x);
  if (!visitor || !conversation || !email || !signature || !Number.isSafeInteger(expires)) return undefined;
  if (visitor.length > 100 || conversation.length > 100 || email.length > 320 || signature.length > 64) return undefined;
  return { visitor, conversation, email, expires, signature };
}

/** Whether the claims were signed under `secret` and have not expired. */
export function confirmationValid(secret: string, c: Confirmation & { signature: string }, now: number): boolean {
  return c.expires > now && sameSecret(c.signature, sign(secret, c));
}
