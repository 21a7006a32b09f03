/**
 * The visitor's read marks: sent while the panel is open on a visible page, for the open
 * conversation and the earlier ones (what is left unread is unread.ts's count).
 */
import type { Widget } from './context.js';

/** Marks everything shown as read, when the visitor can see it. */
export function sendReadMarks(w: Widget): void {
  const { state } = w;
  if (!state.open || document.visibilityState !== 'visible' || !state.conversation || !w.online()) return;
  for (const e of state.earlier) {
    const upTo = e.messages[e.messages.length - 1]!.seq;
    if (upTo > (e.conversation.visitorReadSeq || 0) && w.send({ type: 'read', conversation: e.conversation.id, upToSeq: upTo })) e.conversation.visitorReadSeq = upTo;
  }
  const upTo = state.lastSeq;
  if (upTo <= state.readSent) return;
  if (!w.send({ type: 'read', conversation: state.conversation.id, upToSeq: upTo })) return;
  state.readSent = upTo;
  state.conversation.visitorReadSeq = Math.max(state.conversation.visitorReadSeq || 0, upTo);
  w.storage.set('visitorReadSeq', String(state.conversation.visitorReadSeq));
  w.renderBadge();
}
