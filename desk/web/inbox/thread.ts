/**
 * The middle column: the thread's head (who, where from, open or resolved) and its messages, the
 * stored ones by seq, then the operator's sends not yet acknowledged; receipts under the
 * operator's replies, the visitor typing, a teammate writing here too. A message's files follow
 * its words (files.ts).
 */
import type { AttachmentView, Author } from '../../src/protocol.js';
import { richText } from '../shared/rich-text.js';
import { visitorLabel } from './conversations.js';
import { byId, h, icon } from './dom.js';
import { messageFiles } from './files.js';
import { clockTime, dayLabel, fullTime, pageLabel } from './format.js';
import type { InboxState } from './state.js';

/** Within this, two messages of one author are one group (one head). */
const GROUPED_WITHIN = 5 * 60_000;
/** Closer than this to the bottom counts as "at the bottom": new messages keep the view there. */
const NEAR_BOTTOM = 120;

export function renderThreadHead(state: InboxState): void {
  const c = state.selected ? state.conversations.get(state.selected) : undefined;
  if (!c) return;
  const page = c.visitor.meta.page;
  byId('thread-head').replaceChildren(
    h('button', { type: 'button', class: 'icon-btn back', 'aria-label': 'Back to the list', onclick: () => document.body.classList.remove('show-thread') }, icon('back')),
    h('div', { class: 'thread-title' }, h('h2', {}, visitorLabel(c)), h('p', { class: 'muted' }, c.visitor.email && c.visitor.name ? c.visitor.email : page ? pageLabel(page) : 'Chat')),
    h('span', { class: `state-pill ${c.state}` }, c.state === 'open' ? 'Open' : 'Resolved'),
    h('button', { type: 'button', class: 'icon-btn details-toggle', 'aria-label': 'Visitor details', onclick: () => document.body.classList.toggle('show-details') }, icon('info')),
  );
}

/** A message as shown: stored (it has a seq), or one of ours on its way. */
interface Shown {
  seq?: number;
  author: Author;
  body: string;
  note: boolean;
  attachments: AttachmentView[];
  via: 'chat' | 'email';
  createdAt: number;
  status: 'stored' | 'sending' | 'failed';
}

/** The message log; keeps the scroll at the bottom when the operator was already there (or `forceBottom`). */
export function renderMessages(state: InboxState, forceBottom: boolean): void {
  const box = byId('messages');
  const c = state.selected ? state.conversations.get(state.selected) : undefined;
  if (!c) return;
  const t = state.thread(c.id);
  const nearBottom = forceBottom || box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM;
  const me: Author = { kind: 'operator', id: state.me?.id ?? '', name: state.me?.name ?? '' };
  const items: Shown[] = [
    ...t.messages.map((m): Shown => ({ ...m, status: 'stored' })),
    ...t.pending.map((p): Shown => ({ body: p.body, note: p.note, attachments: p.attachments, via: 'chat', createdAt: p.createdAt, author: me, status: p.failed ? 'failed' : 'sending' })),
  ];
  // "Seen" goes under the last operator reply the visitor has read (notes are never shown to them); "Sent" under the last reply.
  const reply = (m: Shown) => m.author.kind === 'operator' && !m.note;
  const seenAt = lastIndex(items, (m) => m.status === 'stored' && reply(m) && (m.seq ?? 0) <= c.visitorReadSeq);
  const lastReply = lastIndex(items, reply);

  const nodes: Node[] = [];
  if (!t.loaded && !items.length) nodes.push(h('p', { class: 'loading' }, 'Loading messages…'));
  let day = '';
  items.forEach((m, i) => {
    const d = dayLabel(m.createdAt);
    if (d !== day) {
      nodes.push(h('div', { class: 'day-sep' }, h('span', {}, d)));
      day = d;
    }
    if (m.author.kind === 'system') {
      nodes.push(h('div', { class: 'system-msg' }, richText(m.body)));
      return;
    }
    const prev = items[i - 1];
    const grouped =
      !!prev && prev.author.kind === m.author.kind && prev.author.id === m.author.id && prev.note === m.note && m.createdAt - prev.createdAt < GROUPED_WITHIN && dayLabel(prev.createdAt) === d;
    const side = m.author.kind === 'visitor' ? 'in' : 'out';
    const receipt =
      m.status === 'sending'
        ? h('span', { class: 'receipt' }, 'Sending…')
        : m.status === 'failed'
          ? h('span', { class: 'receipt failed' }, 'Not delivered')
          : i === seenAt
            ? h('span', { class: 'receipt seen' }, icon('check', 13), 'Seen')
            : i === lastReply
              ? h('span', { class: 'receipt' }, 'Sent')
              : null;
    nodes.push(
      h(
        'div',
        { class: `msg ${side}${m.note ? ' note' : ''}${grouped ? ' grouped' : ''}`, dataset: { seq: String(m.seq ?? ''), state: m.status } },
        grouped
          ? null
          : h(
              'div',
              { class: 'msg-head' },
              h('span', { class: 'msg-author' }, m.note ? `${m.author.name} · internal note` : side === 'in' ? visitorLabel(c) : m.author.name),
              h('time', { title: fullTime(m.createdAt) }, clockTime(m.createdAt)),
              m.via === 'email' ? h('span', { class: 'via' }, 'via email') : null,
            ),
        // A message of files alone shows no empty bubble.
        m.body ? h('div', { class: 'msg-body' }, richText(m.body)) : null,
        messageFiles(m.attachments),
        receipt,
      ),
    );
  });
  const typing = state.typingIn(c.id);
  if (typing) {
    const dots = h('span', { class: 'dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i'));
    nodes.push(h('div', { class: 'typing-row' }, dots, h('span', {}, `${typing.name || visitorLabel(c)} is typing…`)));
  }
  const teammate = state.teammateTypingIn(c.id);
  if (teammate) nodes.push(h('div', { class: 'teammate-typing', role: 'status' }, `${teammate.name} is writing a reply here too.`));
  box.replaceChildren(...nodes);
  if (nearBottom) box.scrollTop = box.scrollHeight;
}

/**
 * The thread stays at its bottom while the composer under it grows or shrinks (files in its
 * tray, an error), when the operator was there: the last message never hides behind it.
 */
export function keepThreadBottom(): void {
  const box = byId('messages');
  let atBottom = true;
  box.addEventListener(
    'scroll',
    () => {
      atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM;
    },
    { passive: true },
  );
  new ResizeObserver(() => {
    if (atBottom) box.scrollTop = box.scrollHeight;
  }).observe(box);
}

/** Array.prototype.findLastIndex, which the browsers the inbox supports (Safari 14) lack. */
function lastIndex<T>(items: T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i])) return i;
  return -1;
}
