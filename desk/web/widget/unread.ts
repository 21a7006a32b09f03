/** What the launcher's badge counts: operators' answers after the visitor's read marks. */
import type { WidgetState } from './state.js';

/** Operators' answers after the visitor's read marks, in the open conversation and the earlier ones. */
export function unreadCount(state: Pick<WidgetState, 'messages' | 'earlier' | 'conversation' | 'readSent'>): number {
  const readUpTo = Math.max(state.readSent, state.conversation?.visitorReadSeq || 0);
  let unread = state.messages.filter((m) => m.author.kind === 'operator' && m.seq > readUpTo).length;
  for (const e of state.earlier) unread += e.messages.filter((m) => m.author.kind === 'operator' && m.seq > (e.conversation.visitorReadSeq || 0)).length;
  return unread;
}
