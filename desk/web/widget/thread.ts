/**
 * The open conversation's thread as events change it: messages merged by seq (settling the
 * outbox), a new conversation starting over, the conversation's own updates, and the cache of
 * the last 200 messages in localStorage for an instant render on the next page.
 */
import type { VisitorConversationView } from '../../src/protocol.js';
import type { Widget } from './context.js';
import { type IncomingMessage, place } from './messages.js';
import { removeFromOutbox } from './outbox.js';
import { sendReadMarks } from './reads.js';

const CACHE_LIMIT = 200;

/** Merges stored messages by seq, settling the outbox; `provisional` for one made from an ack. */
export function addMessages(w: Widget, messages: readonly IncomingMessage[], provisional = false): void {
  const { state } = w;
  let changed = false;
  for (const m of messages) {
    if (!m || typeof m.seq !== 'number' || m.note) continue;
    if (m.conversation && state.conversation && m.conversation !== state.conversation.id) continue;
    place(state.messages, m, provisional);
    if (m.clientId) removeFromOutbox(w, m.clientId);
    if (m.author?.kind === 'operator') state.typing = null;
    if (m.seq > state.lastSeq) state.lastSeq = m.seq;
    changed = true;
  }
  if (!changed) return;
  if (state.conversation) state.conversation.lastSeq = Math.max(state.conversation.lastSeq || 0, state.lastSeq);
  saveThread(w);
  w.render();
  sendReadMarks(w);
}

/** A new conversation (first visit, or the previous one resolved) starts its seqs over: what we cached says nothing about it. */
export function resetConversation(w: Widget, conv: Partial<VisitorConversationView> & { id: string }): void {
  const { state } = w;
  state.conversation = {
    id: conv.id,
    state: conv.state || 'open',
    lastSeq: conv.lastSeq || 0,
    visitorReadSeq: conv.visitorReadSeq || 0,
    operatorReadSeq: conv.operatorReadSeq || 0,
    rating: conv.rating ?? null,
  };
  state.messages = [];
  state.lastSeq = 0;
  state.readSent = state.conversation.visitorReadSeq;
  saveThread(w);
}

/** The open conversation's state, rating and read marks (marks only move forward). */
export function updateConversation(w: Widget, conv: Partial<VisitorConversationView> | undefined): void {
  const { state, storage } = w;
  const c = state.conversation;
  if (!conv || !c || conv.id !== c.id) return;
  if (conv.state) c.state = conv.state;
  if (conv.rating) c.rating = conv.rating;
  c.lastSeq = Math.max(c.lastSeq || 0, conv.lastSeq || 0);
  c.operatorReadSeq = Math.max(c.operatorReadSeq || 0, conv.operatorReadSeq || 0);
  c.visitorReadSeq = Math.max(c.visitorReadSeq || 0, conv.visitorReadSeq || 0);
  state.readSent = Math.max(state.readSent, c.visitorReadSeq);
  storage.set('operatorReadSeq', String(c.operatorReadSeq));
  storage.set('visitorReadSeq', String(c.visitorReadSeq));
  w.render();
}

function saveThread(w: Widget): void {
  const { state, storage } = w;
  if (!state.conversation) return;
  storage.setJSON('messages', { conversation: state.conversation.id, messages: state.messages.slice(-CACHE_LIMIT) });
  storage.set('lastSeq', String(state.lastSeq));
}
