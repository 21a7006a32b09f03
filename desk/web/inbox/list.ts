/**
 * The left column: the filters with their counts, and the conversation list. The list is a
 * listbox with one Tab stop (a roving tabindex): the conversation last focused, else the selected
 * one, else the first; arrow keys, Home and End move within it, Enter or Space opens. A re-render
 * keeps the focus where it was.
 */
import { richText } from '../shared/rich-text.js';
import type { InboxActions } from './actions.js';
import { FILTERS, type Filter, type InboxConversation, filterCounts, previewText, visitorLabel } from './conversations.js';
import { byId, h, personAvatar } from './dom.js';
import { firstName, fullTime, oneLine, shortTime } from './format.js';
import type { InboxState } from './state.js';

const EMPTY: Record<Filter, string> = {
  open: 'No open conversations. Nice work!',
  unassigned: 'Nothing waiting for an owner.',
  mine: 'Nothing assigned to you.',
  snoozed: 'Nothing snoozed.',
  resolved: 'No resolved conversations yet.',
};

export function renderFilters(state: InboxState, actions: InboxActions): void {
  const counts = filterCounts(state.conversations.values(), state.me?.id);
  byId('filters').replaceChildren(
    ...FILTERS.map((f) =>
      h(
        'button',
        { type: 'button', class: 'filter', 'aria-pressed': String(state.filter === f.id), dataset: { filter: f.id }, onclick: () => actions.setFilter(f.id) },
        h('span', {}, f.label),
        h('span', { class: 'count' }, String(counts[f.id])),
      ),
    ),
  );
}

export function renderList(state: InboxState, actions: InboxActions): void {
  const list = byId('conv-list');
  const focused = document.activeElement instanceof HTMLElement && list.contains(document.activeElement) ? document.activeElement.dataset.id : undefined;
  const items = state.visibleConversations();
  if (!items.length) {
    list.replaceChildren(h('li', { class: 'list-empty' }, state.search ? `No message matches “${state.search.q}”.` : EMPTY[state.filter]));
    return;
  }
  const has = (id: string | null | undefined) => !!id && items.some((c) => c.id === id);
  const current = has(state.listFocus) ? state.listFocus : has(state.selected) ? state.selected : items[0].id;
  list.replaceChildren(...items.map((c) => row(state, c, c.id === current, actions)));
  if (focused) list.querySelector<HTMLElement>(`[data-id="${CSS.escape(focused)}"]`)?.focus();
}

/** One conversation: who, when, the last message (while searching, the one that matched; its files when it has no words), its owner and unread count. */
function row(state: InboxState, c: InboxConversation, tabStop: boolean, actions: InboxActions): HTMLLIElement {
  const typing = state.typingIn(c.id);
  const hit = state.search?.results.find((r) => r.conversation.id === c.id)?.message;
  const last = hit ? { ...hit, files: hit.attachments.map((a) => a.name) } : c.lastMessage;
  const me = state.me?.id;
  // An activity line (author system) speaks for itself; a note says it is one.
  const who = !last || last.author.kind === 'system' ? '' : last.note ? 'Note: ' : last.author.kind === 'operator' ? (last.author.id === me ? 'You: ' : `${firstName(last.author.name)}: `) : '';
  const unread = c.unread > 0 && c.id !== state.selected;
  const owner = c.assignee && c.assignee !== me && state.filter !== 'mine' ? state.operatorName(c.assignee) : '';
  return h(
    'li',
    {
      role: 'option',
      class: `conv${unread ? ' unread' : ''}`,
      'aria-selected': String(c.id === state.selected),
      tabindex: tabStop ? '0' : '-1',
      dataset: { id: c.id },
      onclick: () => actions.select(c.id),
      onfocus: () => {
        state.listFocus = c.id;
      },
      onkeydown: (e) => listKey(e, c.id, actions),
    },
    personAvatar(c.visitor.name || c.visitor.email),
    h(
      'div',
      { class: 'conv-main' },
      h(
        'div',
        { class: 'conv-top' },
        h('span', { class: 'conv-name' }, visitorLabel(c)),
        h('time', { class: 'conv-time', datetime: new Date(c.lastActivityAt).toISOString(), title: fullTime(c.lastActivityAt) }, shortTime(c.lastActivityAt)),
      ),
      h(
        'div',
        { class: 'conv-bottom' },
        typing ? h('span', { class: 'conv-excerpt typing' }, 'typing…') : h('span', { class: 'conv-excerpt' }, ...(last ? [who, preview(last)] : ['No messages yet'])),
        labelChips(c.labels),
        owner ? h('span', { class: 'conv-assignee', title: `Assigned to ${owner}` }, firstName(owner)) : null,
        unread && h('span', { class: 'badge', 'aria-label': `${c.unread} unread` }, c.unread > 99 ? '99+' : String(c.unread)),
      ),
    ),
  );
}

/** A row's labels: at most three, then "+n". */
const LABELS_SHOWN = 3;
function labelChips(labels: readonly string[]): HTMLSpanElement | null {
  if (!labels.length) return null;
  const more = labels.length - LABELS_SHOWN;
  return h(
    'span',
    { class: 'conv-labels', title: `Labels: ${labels.join(', ')}` },
    ...labels.slice(0, LABELS_SHOWN).map((l) => h('span', { class: 'label-chip small' }, l)),
    more > 0 ? h('span', { class: 'label-chip small more' }, `+${more}`) : null,
  );
}

/**
 * A message on one line of the list: its words through richText, their links become their text
 * (an option holds nothing interactive); files' names as they are.
 */
function preview(last: { body: string; files?: string[] }): DocumentFragment | string {
  if (!last.body.trim()) return previewText(last);
  const out = richText(oneLine(last.body));
  for (const a of out.querySelectorAll('a')) a.replaceWith(...a.childNodes);
  return out;
}

const LIST_MOVES: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, Home: Number.NEGATIVE_INFINITY, End: Number.POSITIVE_INFINITY };

function listKey(e: KeyboardEvent, id: string, actions: InboxActions): void {
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    actions.select(id);
    return;
  }
  const move = LIST_MOVES[e.key];
  const here = e.currentTarget;
  if (move === undefined || !(here instanceof HTMLElement)) return;
  e.preventDefault();
  const options = [...byId('conv-list').querySelectorAll<HTMLElement>('.conv')];
  const at = options.indexOf(here);
  const to = Number.isFinite(move) ? at + move : move < 0 ? 0 : options.length - 1;
  const next = options[Math.max(0, Math.min(options.length - 1, to))];
  if (!next || next === here) return;
  here.tabIndex = -1;
  next.tabIndex = 0;
  next.focus();
}

/** Focus into the app after signing in: the list's Tab stop, else the first filter. */
export function focusList(): void {
  (byId('conv-list').querySelector<HTMLElement>('.conv[tabindex="0"]') ?? byId('filters').querySelector('button'))?.focus();
}
