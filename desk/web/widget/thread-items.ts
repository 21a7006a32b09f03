/**
 * The thread as rows, pure: the earlier conversations (each closed by its end line, and a rating
 * row when resolved), the open one, then the outbox; day lines between days; bubbles grouped by
 * author within 5 minutes (`first` / `last` round their corners); the receipt under the last own
 * message, and always under a pending or refused one.
 */
import type { AttachmentView, Author, VisitorConversationView } from '../../src/protocol.js';
import type { Strings } from './locales/strings.js';
import type { ThreadMessage, WidgetState } from './state.js';

export type Receipt = 'read' | 'sent' | 'sending' | 'failed';

export interface ThreadItem {
  /** clientId, or message id, or end-/rate- plus the conversation id: stable across renders. */
  key: string;
  kind: Author['kind'] | 'rate';
  own: boolean;
  /** The author's name; none for the outbox and the end rows (so they never group with a named author). */
  name?: string;
  body: string;
  /** Its files (shown under the text, or alone: a message may be only files). */
  files?: AttachmentView[];
  at: number;
  receipt?: Receipt;
  /** For the end and rating rows. */
  conversation?: VisitorConversationView;
}

export type Row =
  | { type: 'day'; label: string }
  | { type: 'system'; item: ThreadItem }
  | { type: 'rate'; item: ThreadItem; conversation: VisitorConversationView }
  | { type: 'message'; item: ThreadItem; first: boolean; last: boolean; meta: boolean; receipt: boolean };

const GROUP_GAP = 5 * 60_000;

export function threadItems(state: Pick<WidgetState, 'earlier' | 'messages' | 'conversation' | 'outbox'>, t: Strings): ThreadItem[] {
  const items: ThreadItem[] = [];
  for (const e of state.earlier) {
    for (const m of e.messages) items.push(itemOf(m, e.conversation));
    endOf(items, e.conversation, e.messages[e.messages.length - 1]!.createdAt, t);
  }
  for (const m of state.messages) items.push(itemOf(m, state.conversation));
  const current = state.conversation;
  if (current && current.state === 'resolved' && state.messages.length) endOf(items, current, state.messages[state.messages.length - 1]!.createdAt, t);
  for (const o of state.outbox) {
    items.push({ key: o.clientId, kind: 'visitor', own: true, body: o.body, files: o.attachments, at: o.createdAt, receipt: o.failed ? 'failed' : o.accepted ? 'sent' : 'sending' });
  }
  return items;
}

/** Rows in order, `dayOf` naming each item's day. */
export function threadRows(items: readonly ThreadItem[], dayOf: (at: number) => string): Row[] {
  const rows: Row[] = [];
  const days = items.map((it) => dayOf(it.at));
  let lastOwn = -1;
  for (let j = items.length - 1; j >= 0; j--) {
    if (items[j]!.own) {
      lastOwn = j;
      break;
    }
  }
  const apart = (a: number, b: number) => {
    const x = items[a]!;
    const y = items[b]!;
    return x.kind !== y.kind || x.name !== y.name || y.at - x.at > GROUP_GAP || days[a] !== days[b];
  };
  items.forEach((item, i) => {
    if (days[i] !== days[i - 1]) rows.push({ type: 'day', label: days[i]! });
    if (item.kind === 'system') rows.push({ type: 'system', item });
    else if (item.kind === 'rate') rows.push({ type: 'rate', item, conversation: item.conversation! });
    else {
      const first = i === 0 || apart(i - 1, i);
      const last = i === items.length - 1 || apart(i, i + 1);
      const pending = item.receipt === 'sending' || item.receipt === 'failed';
      rows.push({ type: 'message', item, first, last, meta: last || pending || i === lastOwn, receipt: item.own && (i === lastOwn || pending) });
    }
  });
  return rows;
}

function itemOf(m: ThreadMessage, conv: VisitorConversationView | null): ThreadItem {
  const own = m.author.kind === 'visitor';
  const receipt = own ? (conv && m.seq <= (conv.operatorReadSeq || 0) ? 'read' : 'sent') : undefined;
  return { key: m.clientId || m.id, kind: m.author.kind, own, name: m.author.name, body: m.body, files: m.attachments, at: m.createdAt, receipt };
}

/** The line that closes a conversation's thread, and under a resolved one the rating row. */
function endOf(items: ThreadItem[], conv: VisitorConversationView, at: number, t: Strings): void {
  const resolved = conv.state === 'resolved';
  items.push({ key: `end-${conv.id}`, kind: 'system', own: false, body: resolved ? t.resolved : t.earlier, at, conversation: conv });
  if (resolved) items.push({ key: `rate-${conv.id}`, kind: 'rate', own: false, body: '', at, conversation: conv });
}
