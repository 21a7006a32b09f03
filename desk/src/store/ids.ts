/**
 * Record ids and secrets. Ids are a kind prefix and 16 random bytes in base64url (`c_3q2…`), so a
 * stray id in a log says what it names and cannot be guessed or enumerated.
 */
import { randomBytes } from 'node:crypto';

export type IdKind = 'w' | 'o' | 'v' | 'c' | 'm' | 'cr' | 'f';

export function newId(kind: IdKind): string {
  return `${kind}_${randomBytes(16).toString('base64url')}`;
}

/**
 * The secret of a conversation's reply address (`reply+<token>@domain`). Lowercase hex, not
 * base64url: mail systems may fold the case of a local part (RFC 5321 §2.4 lets the receiving
 * host decide), and a folded token must still find its conversation.
 */
export function newReplyToken(): string {
  return randomBytes(16).toString('hex');
}
