/**
 * The thread's messages in the server's order (by seq, never by the clocks), pure: a message the
 * server sends again (a retried send, a resync) replaces the one of its seq, so there is one per
 * seq whatever arrives twice.
 */
import type { MessageView } from '../../src/protocol.js';
import type { ThreadMessage } from './state.js';

/** PROTOCOL.md: a message body is at most 5,000 characters. */
export const MAX_BODY = 5000;

/** A message as it arrives: from the server, or made from an ack before its message.new. */
export type IncomingMessage = Pick<MessageView, 'id' | 'seq' | 'clientId' | 'body' | 'author' | 'createdAt'> & Partial<Pick<MessageView, 'conversation' | 'note' | 'via' | 'attachments'>>;

/** What the thread keeps of a message (and caches in localStorage). */
export function slim(m: IncomingMessage): ThreadMessage {
  return {
    id: m.id,
    seq: m.seq,
    clientId: m.clientId,
    body: String(m.body || ''),
    via: m.via,
    author: { kind: m.author?.kind || 'system', name: m.author?.name || '' },
    attachments: m.attachments?.length ? m.attachments : undefined,
    createdAt: m.createdAt || Date.now(),
  };
}

/** Where `seq` is in `list` (sorted by seq), or where it would go. */
export function indexBySeq(list: readonly ThreadMessage[], seq: number): { found: boolean; index: number } {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const s = list[mid]!.seq;
    if (s === seq) return { found: true, index: mid };
    if (s < seq) lo = mid + 1;
    else hi = mid;
  }
  return { found: false, index: lo };
}

/**
 * Puts `m` in its place. A provisional message (made from an ack) never replaces the real one of
 * its seq; the real one replaces it.
 */
export function place(list: ThreadMessage[], m: IncomingMessage, provisional: boolean): void {
  const at = indexBySeq(list, m.seq);
  if (!at.found) list.splice(at.index, 0, slim(m));
  else if (!provisional) list[at.index] = slim(m);
}
