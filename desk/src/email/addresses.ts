/**
 * Reply addresses and Message-IDs. A conversation's reply address is
 * `reply+<replyToken>@<emailDomain>` (subaddressing, RFC 5233): the token is the conversation's
 * secret, so an email to it is the visitor's. `reply@<domain>` without a token is accepted too,
 * routed by In-Reply-To / References (some providers drop the `+…` part).
 */
import { randomBytes } from 'node:crypto';

export function replyAddress(token: string, domain: string): string {
  return `reply+${token}@${domain}`;
}

/** `reply+tok@d` → {token: 'tok', domain: 'd'}; `reply@d` → {token: undefined, domain}; anything else undefined. */
export function parseReplyAddress(address: string): { token: string | undefined; domain: string } | undefined {
  const m = /^reply(?:\+([a-z0-9]{1,100}))?@([^@\s]+)$/i.exec(address.trim());
  if (!m) return undefined;
  return { token: m[1]?.toLowerCase(), domain: m[2]!.toLowerCase() };
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
