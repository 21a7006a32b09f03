/**
 * Reply addresses and Message-IDs. A conversation's reply address is
 * `reply+<replyToken>@<emailDomain>` (subaddressing, RFC 5233): the token is the conversation's
 * secret, so an email to it is the visitor's. `reply@<domain>` without a token is accepted too,
 * routed by In-Reply-To / References (some providers drop the `+…` part).
 */
import { createHmac, randomBytes } from 'node:crypto';

/** The visitor's reply address; with `signature`, an operator's (operatorSignature). */
export function replyAddress(token: string, domain: string, signature?: string): string {
  return `reply+${token}${signature ? `.${signature}` : ''}@${domain}`;
}

/**
 * `reply+tok@d` → {token: 'tok', domain: 'd'}; `reply+tok.sig@d` also gives the signature;
 * `reply@d` → {token: undefined, domain}; anything else undefined.
 */
export function parseReplyAddress(address: string): { token: string | undefined; signature: string | undefined; domain: string } | undefined {
  const m = /^reply(?:\+([a-z0-9]{1,100})(?:\.([a-f0-9]{20}))?)?@([^@\s]+)$/i.exec(address.trim());
  if (!m) return undefined;
  return { token: m[1]?.toLowerCase(), signature: m[2]?.toLowerCase(), domain: m[3]!.toLowerCase() };
}

/**
 * What makes a reply address an operator's: an HMAC of conversation and operator under the
 * workspace's secret. The From header is anyone's to write, and the visitor knows the plain
 * reply token, so a reply counts as an operator's only when it came to that operator's signed
 * address and from that operator's email address.
 */
export function operatorSignature(secret: string, conversationId: string, operatorId: string): string {
  return createHmac('sha256', secret).update(`desk-email-operator:${conversationId}:${operatorId}`).digest('hex').slice(0, 20);
}

/** A new Message-ID (RFC 5322 §3.6.4), `<random@domain>`. */
export function newMessageId(domain: string): string {
  return `<${randomBytes(12).toString('base64url')}@${domain}>`;
}

/**
 * The References of a reply in a thread of `ids` (oldest first): the first and the last nine, so
 * the header stays short in long threads (RFC 5322 §3.6.4 allows trimming; the first keeps the root).
 */
export function referencesFor(ids: string[]): string[] {
  return ids.length <= 10 ? ids : [ids[0]!, ...ids.slice(-9)];
}
