/**
 * The inbox's views: each function renders one region from the state and nothing else. Actions
 * go back through the `actions` object the controller passes in.
 */
import { h, icon, avatar, personAvatar, shortTime, clockTime, fullTime, dayLabel, countryName, browserSummary } from './inbox-dom.js';
import { FILTERS, filterCounts, visitorLabel } from './inbox-state.js';

const $ = (id) => document.getElementById(id);

export function renderFilters(state, actions) {
  const counts = filterCounts(state.conversations.values(), state.me?.id);
  $('filters').replaceChildren(...FILTERS.map((f) => h('button', {
    type: 'button', class: 'filter', 'aria-pressed': String(state.filter === f.id), dataset: { filter: f.id },
    onclick: () => actions.setFilter(f.id),
  }, h('span', {}, f.label), h('span', { class: 'count' }, String(counts[f.id])))));
}

/**
 * The conversation list is a listbox with one Tab stop (a roving tabindex): the conversation last
 * focused, else the selected one, else the first; arrow keys, Home and End move within it, Enter
 * or Space opens. A re-render keeps the focus where it was.
 */
export function renderList(state, actions) {
  const list = $('conv-list');
  const focusedId = list.contains(document.activeElement) ? document.activeElement.dataset.id : undefined;
  const items = state.visibleConversations();
  if (!items.length) {
    const empty = { open: 'No open conversations. Nice work!', unassigned: 'Nothing waiting for an owner.', mine: 'Nothing assigned to you.', resolved: 'No resolved conversations yet.' };
    list.replaceChildren(h('li', { class: 'list-empty' }, state.search ? `No message matches “${state.search.q}”.` : empty[state.filter] || 'Nothing here.'));
    return;
  }
  // While searching, each conversation shows the message that matched.
  const matched = new Map(state.search ? state.search.results.map((r) => [r.conversation.id, r.message]) : []);
  const has = (id) => id !== undefined && items.some((c) => c.id === id);
  const current = has(state.listFocus) ? state.listFocus : has(state.selected) ? state.selected : items[0].id;
  list.replaceChildren(...items.map((c) => {
    const typing = state.typingIn(c.id);
    const last = matched.get(c.id) || c.lastMessage;
    const who = !last ? '' : last.note ? 'Note: ' : last.author?.kind === 'operator' ? (last.author.id === state.me?.id ? 'You: ' : `${first(last.author.name)}: `) : '';
    const unread = c.unread > 0 && c.id !== state.selected;
    return h('li', {
      role: 'option', class: `conv${unread ? ' unread' : ''}`, 'aria-selected': String(c.id === state.selected),
      tabindex: c.id === current ? '0' : '-1', dataset: { id: c.id },
      onclick: () => actions.select(c.id),
      onfocus: () => { state.listFocus = c.id; },
      onkeydown: (e) => listKey(e, c.id, actions),
    },
    personAvatar(c.visitor.name || c.visitor.email),
    h('div', { class: 'conv-main' },
      h('div', { class: 'conv-top' },
        h('span', { class: 'conv-name' }, visitorLabel(c)),
        h('time', { class: 'conv-time', datetime: new Date(c.lastActivityAt).toISOString(), title: fullTime(c.lastActivityAt) }, shortTime(c.lastActivityAt))),
      h('div', { class: 'conv-bottom' },
        typing ? h('span', { class: 'conv-excerpt typing' }, 'typing…')
          : h('span', { class: 'conv-excerpt' }, last ? who + oneLine(last.body) : 'No messages yet'),
        c.assignee && c.assignee !== state.me?.id && state.filter !== 'mine' ? h('span', { class: 'conv-assignee', title: `Assigned to ${state.operatorName(c.assignee)}` }, first(state.operatorName(c.assignee))) : null,
        unread ? h('span', { class: 'badge', 'aria-label': `${c.unread} unread` }, c.unread > 99 ? '99+' : String(c.unread)) : null)));
  }));
  if (focusedId) list.querySelector(`[data-id="${CSS.escape(focusedId)}"]`)?.focus();
}

const LIST_MOVES = { ArrowDown: 1, ArrowUp: -1, Home: -Infinity, End: Infinity };

function listKey(e, id, actions) {
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    actions.select(id);
    return;
  }
  const move = LIST_MOVES[e.key];
  if (move === undefined) return;
  e.preventDefault();
  const options = [...$('conv-list').querySelectorAll('.conv')];
  const at = options.indexOf(e.currentTarget);
  const next = options[Math.max(0, Math.min(options.length - 1, Number.isFinite(move) ? at + move : move < 0 ? 0 : options.length - 1))];
  if (!next || next === e.currentTarget) return;
  e.currentTarget.tabIndex = -1;
  next.tabIndex = 0;
  next.focus();
}

/** Focus into the app after signing in: the list's Tab stop, else the first filter. */
export function focusList() {
  ($('conv-list').querySelector('.conv[tabindex="0"]') || $('filters').querySelector('button'))?.focus();
}

/** Assign to any teammate (or nobody): the workspace's operators, from GET /api/operators. */
function assigneeMenu(state, c, actions) {
  if (!state.operators.length) return null;
  const select = h('select', { id: 'assignee', onchange: (e) => actions.assign(c.id, e.target.value || null) },
    h('option', { value: '' }, 'Unassigned'),
    ...state.operators.map((o) => h('option', { value: o.id }, o.id === state.me?.id ? `${o.name} (you)` : o.name)));
  select.value = c.assignee || '';
  return h('div', { class: 'assignee' }, h('label', { for: 'assignee' }, 'Assigned to'), select);
}

export function renderThreadHead(state) {
  const c = state.conversations.get(state.selected);
  if (!c) return;
  const page = c.visitor.meta?.page;
  $('thread-head').replaceChildren(
    h('button', { type: 'button', class: 'icon-btn back', 'aria-label': 'Back to the list', onclick: () => document.body.classList.remove('show-thread') }, icon('back')),
    h('div', { class: 'thread-title' },
      h('h2', {}, visitorLabel(c)),
      h('p', { class: 'muted' }, c.visitor.email && c.visitor.name ? c.visitor.email : page ? pageLabel(page) : 'Chat')),
    h('span', { class: `state-pill ${c.state}` }, c.state === 'open' ? 'Open' : 'Resolved'),
    h('button', { type: 'button', class: 'icon-btn details-toggle', 'aria-label': 'Visitor details', onclick: () => document.body.classList.toggle('show-details') }, icon('info')));
}

/** The message log; keeps the scroll at the bottom when the operator was already there. */
export function renderMessages(state, { forceBottom = false } = {}) {
  const box = $('messages');
  const c = state.conversations.get(state.selected);
  if (!c) return;
  const t = state.thread(c.id);
  const nearBottom = forceBottom || box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  const items = [
    ...t.messages.map((m) => ({ ...m, status: 'stored' })),
    ...t.pending.map((p) => ({ clientId: p.clientId, body: p.body, note: p.note, createdAt: p.createdAt, author: { kind: 'operator', id: state.me?.id, name: state.me?.name }, status: p.failed ? 'failed' : 'sending' })),
  ];
  // "Seen" goes under the last operator reply the visitor has read (notes are never shown to them).
  let seenAt = -1;
  items.forEach((m, i) => { if (m.status === 'stored' && m.author.kind === 'operator' && !m.note && m.seq <= c.visitorReadSeq) seenAt = i; });
  let lastReply = -1;
  items.forEach((m, i) => { if (m.author.kind === 'operator' && !m.note) lastReply = i; });

  const nodes = [];
  if (!t.loaded && !items.length) nodes.push(h('p', { class: 'loading' }, 'Loading messages…'));
  let day = '';
  items.forEach((m, i) => {
    const d = dayLabel(m.createdAt);
    if (d !== day) { nodes.push(h('div', { class: 'day-sep' }, h('span', {}, d))); day = d; }
    if (m.author.kind === 'system') { nodes.push(h('div', { class: 'system-msg' }, m.body)); return; }
    const prev = items[i - 1];
    const grouped = prev && prev.author.kind === m.author.kind && prev.author.id === m.author.id && !!prev.note === !!m.note
      && m.createdAt - prev.createdAt < 5 * 60_000 && dayLabel(prev.createdAt) === d;
    const side = m.author.kind === 'visitor' ? 'in' : 'out';
    let receipt = null;
    if (m.status === 'sending') receipt = h('span', { class: 'receipt' }, 'Sending…');
    else if (m.status === 'failed') receipt = h('span', { class: 'receipt failed' }, 'Not delivered');
    else if (i === seenAt) receipt = h('span', { class: 'receipt seen' }, icon('check', 13), 'Seen');
    else if (i === lastReply && m.status === 'stored') receipt = h('span', { class: 'receipt' }, 'Sent');
    nodes.push(h('div', { class: `msg ${side}${m.note ? ' note' : ''}${grouped ? ' grouped' : ''}`, dataset: { seq: m.seq ?? '', state: m.status } },
      grouped ? null : h('div', { class: 'msg-head' },
        h('span', { class: 'msg-author' }, m.note ? `${m.author.name} · internal note` : side === 'in' ? visitorLabel(c) : m.author.name),
        h('time', { title: fullTime(m.createdAt) }, clockTime(m.createdAt)),
        m.via === 'email' ? h('span', { class: 'via' }, 'via email') : null),
      h('div', { class: 'msg-body' }, m.body),
      receipt));
  });
  const typing = state.typingIn(c.id);
  if (typing) nodes.push(h('div', { class: 'typing-row' }, h('span', { class: 'dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), h('span', {}, `${typing.name || visitorLabel(c)} is typing…`)));
  const teammate = state.teamTyping.get(c.id);
  if (teammate && teammate.until > Date.now()) nodes.push(h('div', { class: 'teammate-typing', role: 'status' }, `${teammate.name} is writing a reply here too.`));
  box.replaceChildren(...nodes);
  if (nearBottom) box.scrollTop = box.scrollHeight;
}

export function renderDetails(state, actions) {
  const box = $('details');
  const c = state.conversations.get(state.selected);
  if (!c) { box.replaceChildren(); return; }
  const v = c.visitor, meta = v.meta || {};
  const mine = c.assignee && c.assignee === state.me?.id;
  const row = (label, value, extra = {}) => value ? h('div', { class: 'detail' }, h('dt', {}, label), h('dd', extra, value)) : null;
  // The visitor's own first-seen time when the server gives it, else the start of their first conversation we know.
  const firstSeen = v.createdAt || Number(meta.firstSeen) || Math.min(...[...state.conversations.values()]
    .filter((x) => x.visitor.id === v.id && x.createdAt).map((x) => x.createdAt));
  box.replaceChildren(
    h('button', { type: 'button', class: 'icon-btn details-close', 'aria-label': 'Close details', onclick: () => document.body.classList.remove('show-details') }, icon('close')),
    h('div', { class: 'visitor-card' },
      personAvatar(c.visitor.name || c.visitor.email, 'large'),
      h('h3', {}, visitorLabel(c)),
      v.email ? h('a', { class: 'muted', href: `mailto:${v.email}` }, v.email) : h('p', { class: 'muted' }, 'No email yet')),
    h('div', { class: 'actions' },
      c.state === 'open'
        ? h('button', { type: 'button', class: 'btn primary', dataset: { action: 'resolve' }, onclick: () => actions.resolve(c.id) }, icon('check', 16), 'Resolve')
        : h('button', { type: 'button', class: 'btn', dataset: { action: 'reopen' }, onclick: () => actions.reopen(c.id) }, icon('reopen', 16), 'Reopen'),
      mine
        ? h('button', { type: 'button', class: 'btn', dataset: { action: 'unassign' }, onclick: () => actions.assign(c.id, null) }, icon('userX', 16), 'Unassign')
        : h('button', { type: 'button', class: 'btn', dataset: { action: 'assign' }, onclick: () => actions.assign(c.id, state.me.id) }, icon('user', 16), 'Assign to me')),
    assigneeMenu(state, c, actions),
    h('section', { class: 'detail-section' },
      h('h4', {}, 'Conversation'),
      h('dl', {},
        row('Status', c.state === 'open' ? 'Open' : 'Resolved'),
        row('Assignee', c.assignee ? state.operatorName(c.assignee) : 'Unassigned'),
        row('Rating', c.rating === 'good' ? '👍 Good' : c.rating === 'bad' ? '👎 Bad' : ''),
        row('Started', c.createdAt ? fullTime(c.createdAt) : ''))),
    h('section', { class: 'detail-section' },
      h('h4', {}, 'Visitor'),
      h('dl', {},
        row('Email', v.email),
        row('Name', v.name),
        meta.page ? h('div', { class: 'detail' }, h('dt', {}, 'Page'), h('dd', {}, h('a', { href: safeUrl(meta.page), target: '_blank', rel: 'noopener noreferrer', title: meta.page }, pageLabel(meta.page)))) : null,
        row('Country', meta.country ? `${countryName(meta.country)} (${meta.country.toUpperCase()})` : ''),
        row('Browser', browserSummary(meta.userAgent), { title: meta.userAgent || '' }),
        row('First seen', Number.isFinite(firstSeen) ? fullTime(firstSeen) : ''))));
}

export function renderTeam(state) {
  const others = state.presence.filter((o) => o.id !== state.me?.id);
  $('team').replaceChildren(...others.map((o) => h('span', { class: 'teammate', title: `${o.name}: ${o.status}` },
    avatar(o.name), h('span', { class: `dot ${o.status}` }), h('span', { class: 'sr-only' }, `${o.name} is ${o.status}`))));
  const mine = state.presence.find((o) => o.id === state.me?.id)?.status || 'online';
  for (const b of document.querySelectorAll('.presence-toggle button')) b.setAttribute('aria-pressed', String(b.dataset.status === mine));
}

export function renderConn(state) {
  const pill = $('conn');
  pill.hidden = state.conn === 'online';
  pill.className = `conn-pill ${state.conn}`;
  pill.textContent = state.conn === 'offline' ? 'Offline — waiting for the network' : state.conn === 'reconnecting' ? 'Reconnecting…' : 'Connecting…';
}

function first(name) { return String(name || '').split(/\s+/)[0]; }
function oneLine(text) { return String(text).replace(/\s+/g, ' ').trim(); }
function pageLabel(url) {
  try { const u = new URL(url); return u.host + (u.pathname === '/' ? '' : u.pathname); } catch { return url; }
}
function safeUrl(url) {
  try { const u = new URL(url); return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : '#'; } catch { return '#'; }
}
