/**
 * The operator inbox: sign-in (POST /api/login, token in sessionStorage), then the three
 * columns — filters and conversations, the selected thread with its composer, visitor details —
 * kept live over the realtime socket (desk/PROTOCOL.md). After every welcome it resyncs each
 * thread it holds with `sync {afterSeq: the last seq it has}` and re-sends unacknowledged
 * replies (same clientId, so the server stores them once): a drop loses nothing.
 */
import { h, icon, avatar } from './inbox-dom.js';
import { InboxState, visitorLabel } from './inbox-state.js';
import { setupNotifications } from './inbox-notify.js';
import { openConnection } from './inbox-connection.js';
import { setupComposer } from './inbox-composer.js';
import { renderFilters, renderList, renderThreadHead, renderMessages, renderDetails, renderTeam, renderConn, focusList } from './inbox-views.js';

const TOKEN_KEY = 'desk:operator-token';
const OPERATOR_KEY = 'desk:operator';
const PRESENCE_KEY = 'desk:presence';
const TYPING_SHOWN = 6000;
const PAGE = 500;

const state = new InboxState();
let token = null;
let conn = null;
let composer = null;

// ---------------------------------------------------------------- sign in / out

function showSignin(message) {
  document.getElementById('app').hidden = true;
  document.getElementById('signin').hidden = false;
  const err = document.getElementById('signin-error');
  err.hidden = !message;
  err.textContent = message || '';
  document.getElementById('signin-email').focus();
}

async function signIn(e) {
  e.preventDefault();
  const email = document.getElementById('signin-email').value.trim();
  const password = document.getElementById('signin-password').value;
  const err = document.getElementById('signin-error');
  const button = document.getElementById('signin-submit');
  if (!email || !password) { err.textContent = 'Enter your email and password.'; err.hidden = false; return; }
  button.disabled = true; button.textContent = 'Signing in…';
  try {
    const res = await fetch('api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    if (!res.ok) {
      const wait = Number(res.headers.get('retry-after'));
      err.textContent =
        res.status === 401 || res.status === 403
          ? 'Wrong email or password.'
          : res.status === 429
            ? `Too many attempts. Try again in ${wait > 90 ? `${Math.ceil(wait / 60)} minutes` : `${wait || 'a few'} seconds`}.`
            : `Sign-in failed (${await errorText(res)}).`;
      err.hidden = false;
      return;
    }
    const body = await res.json();
    sessionStorage.setItem(TOKEN_KEY, body.token);
    sessionStorage.setItem(OPERATOR_KEY, JSON.stringify(body.operator));
    start(body.token, body.operator);
  } catch {
    err.textContent = 'Could not reach the server. Check your connection and try again.';
    err.hidden = false;
  } finally {
    button.disabled = false; button.textContent = 'Sign in';
  }
}

function signOut(message) {
  if (token && !message) fetch('api/logout', { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch(() => {});
  token = null;
  conn?.stop();
  conn = null;
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(OPERATOR_KEY);
  location.hash = '';
  showSignin(message);
}

// ---------------------------------------------------------------- REST

async function api(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  if (res.status === 401) { signOut('Your session expired. Please sign in again.'); throw new Error('unauthorized'); }
  if (!res.ok) throw new Error(await errorText(res));
  return res.json();
}

async function errorText(res) {
  try { const b = await res.json(); return b?.error?.message || b?.message || b?.error || res.statusText; } catch { return res.statusText || String(res.status); }
}

async function loadConversations(filter) {
  const body = await api(`api/conversations?filter=${encodeURIComponent(filter)}`);
  for (const c of Array.isArray(body) ? body : body.conversations || []) state.upsertConversation(c);
  schedule('list', 'thread', 'details');
}

/** The whole history of a thread, 500 at a time (REST works while the socket reconnects). */
async function loadThread(id) {
  const t = state.thread(id);
  if (t.loaded || t.loading) return;
  t.loading = true;
  try {
    let after = 0;
    for (;;) {
      const body = await api(`api/conversations/${encodeURIComponent(id)}/messages?afterSeq=${after}`);
      const messages = Array.isArray(body) ? body : body.messages || [];
      if (body.conversation?.id) state.upsertConversation(body.conversation);
      state.addMessages(id, messages);
      if (messages.length < PAGE) break;
      after = messages[messages.length - 1].seq;
    }
    t.loaded = true;
  } catch (err) {
    if (err.message !== 'unauthorized') toast('Could not load this conversation. Retrying when the connection is back.');
  } finally {
    t.loading = false;
  }
  schedule('thread', 'list');
  markRead(id);
}

// ---------------------------------------------------------------- realtime

function onEvent(ev) {
  switch (ev.type) {
    case 'operator.welcome': {
      if (ev.operator) { state.me = ev.operator; sessionStorage.setItem(OPERATOR_KEY, JSON.stringify(ev.operator)); }
      for (const c of ev.conversations || []) state.upsertConversation(c);
      state.presence = ev.presence || [];
      if (ev.workspace?.name) document.getElementById('workspace-name').textContent = ev.workspace.name;
      if (sessionStorage.getItem(PRESENCE_KEY) === 'away') conn.send({ type: 'presence.set', status: 'away' });
      // Whatever happened while we were away: each open thread from its last seq, pending sends again.
      for (const [id, t] of state.threads) {
        if (t.loaded || t.messages.length) conn.send({ type: 'sync', conversation: id, afterSeq: state.lastSeqOf(id) });
        for (const p of t.pending) if (!p.failed) conn.send({ type: 'message.send', conversation: id, clientId: p.clientId, body: p.body, note: p.note });
      }
      loadConversations('all').catch(() => {});
      schedule('all');
      break;
    }
    case 'message.new': {
      const m = ev.message;
      const id = m?.conversation ?? m?.conversationId;
      if (!id) break;
      if (!state.conversations.has(id)) { state.upsertConversation({ id, lastActivityAt: m.createdAt }); loadConversations('all').catch(() => {}); }
      const known = state.thread(id).messages.some((x) => x.seq === m.seq);
      state.addMessages(id, [m]);
      const c = state.conversations.get(id);
      if (!known && m.author?.kind === 'visitor') {
        if (viewing(id)) markRead(id); else c.unread = (c.unread || 0) + 1;
        notify.visitorMessage(id, visitorLabel(c), m.body, viewing(id));
      }
      schedule('list', 'filters', id === state.selected ? 'thread' : null);
      break;
    }
    case 'message.ack': {
      const id = ev.conversation;
      const t = id && state.threads.get(id);
      const p = t?.pending.find((x) => x.clientId === ev.clientId);
      if (p) state.addMessages(id, [{ id: ev.id, seq: ev.seq, clientId: p.clientId, body: p.body, note: p.note, createdAt: p.createdAt, author: { kind: 'operator', id: state.me.id, name: state.me.name } }]);
      schedule('thread', 'list');
      break;
    }
    case 'sync': {
      const messages = ev.messages || [];
      state.addMessages(ev.conversation, messages);
      if (messages.length >= PAGE) conn.send({ type: 'sync', conversation: ev.conversation, afterSeq: messages[messages.length - 1].seq });
      markRead(ev.conversation);
      schedule('thread', 'list');
      break;
    }
    case 'typing': {
      if (ev.author?.kind === 'operator') {
        // A teammate writing in the same conversation: shown above the composer, so two do not answer at once.
        if (ev.author.id === state.me?.id) break;
        if (ev.state === 'start') {
          state.teamTyping.set(ev.conversation, { name: ev.author.name || 'A teammate', until: Date.now() + TYPING_SHOWN });
          setTimeout(() => schedule('thread'), TYPING_SHOWN + 50);
        } else state.teamTyping.delete(ev.conversation);
        schedule('thread');
        break;
      }
      if (ev.author?.kind !== 'visitor') break;
      if (ev.state === 'start') {
        state.typing.set(ev.conversation, { name: ev.author.name && ev.author.name !== 'Visitor' ? ev.author.name : '', until: Date.now() + TYPING_SHOWN });
        setTimeout(() => schedule('thread', 'list'), TYPING_SHOWN + 50);
      } else state.typing.delete(ev.conversation);
      schedule('thread', 'list');
      break;
    }
    case 'read': {
      const c = state.conversations.get(ev.conversation);
      if (!c) break;
      if (ev.by === 'visitor') c.visitorReadSeq = Math.max(c.visitorReadSeq, ev.upToSeq);
      else {
        c.operatorReadSeq = Math.max(c.operatorReadSeq, ev.upToSeq);
        if (c.operatorReadSeq >= c.lastSeq) c.unread = 0;
      }
      schedule('thread', 'list');
      break;
    }
    case 'conversation.update':
      if (ev.conversation?.id) state.upsertConversation(ev.conversation);
      schedule('list', 'filters', 'thread', 'details');
      break;
    case 'presence':
      state.presence = ev.operators || [];
      schedule('team', 'details');
      break;
    case 'error': {
      for (const [, t] of state.threads) {
        const p = ev.ref && t.pending.find((x) => x.clientId === ev.ref);
        if (p) { p.failed = ev.code !== 'rate_limited'; if (!p.failed) setTimeout(() => resend(p), 2000); }
      }
      if (!ev.ref || ev.code !== 'rate_limited') toast(ev.message || `Something went wrong (${ev.code}).`);
      schedule('thread');
      break;
    }
  }
}

function viewing(id) { return state.selected === id && document.visibilityState === 'visible'; }

function markRead(id) {
  const c = state.conversations.get(id);
  if (!c || !viewing(id)) return;
  const upTo = Math.max(c.lastSeq, state.lastSeqOf(id));
  if (upTo <= c.operatorReadSeq && !c.unread) return;
  if (conn?.send({ type: 'read', conversation: id, upToSeq: upTo })) {
    c.operatorReadSeq = upTo;
    c.unread = 0;
    schedule('list');
  }
}

function resend(p) {
  for (const [id, t] of state.threads) if (t.pending.includes(p)) conn?.send({ type: 'message.send', conversation: id, clientId: p.clientId, body: p.body, note: p.note });
}

// ---------------------------------------------------------------- actions

const actions = {
  setFilter(filter) {
    state.filter = filter;
    schedule('filters', 'list');
    loadConversations(filter).catch(() => {});
  },
  select(id) {
    state.selected = id;
    history.replaceState(null, '', `#${id}`);
    document.body.classList.add('show-thread');
    composer.show(id);
    schedule('list', 'thread', 'details', 'threadhead', 'scroll');
    loadThread(id);
    markRead(id);
    composer.focus();
  },
  assign(id, operatorId) { command({ type: 'conversation.assign', conversation: id, operator: operatorId }, (c) => { c.assignee = operatorId; }); },
  resolve(id) { command({ type: 'conversation.resolve', conversation: id }, (c) => { c.state = 'resolved'; }); },
  reopen(id) { command({ type: 'conversation.reopen', conversation: id }, (c) => { c.state = 'open'; }); },
};

/** Sends a conversation command and applies it locally at once; the server's update confirms it. */
function command(ev, apply) {
  if (!conn?.send(ev)) { toast('Not connected right now. Try again in a moment.'); return; }
  const c = state.conversations.get(ev.conversation);
  if (c) apply(c);
  schedule('list', 'filters', 'details', 'threadhead');
}

function sendMessage(body, note) {
  const id = state.selected;
  if (!id) return;
  const p = { clientId: `k_${randomId()}`, body, note, createdAt: Date.now() };
  state.thread(id).pending.push(p);
  conn?.send({ type: 'message.send', conversation: id, clientId: p.clientId, body, note });
  schedule('thread', 'scroll');
}

function setPresence(status) {
  sessionStorage.setItem(PRESENCE_KEY, status);
  const me = state.presence.find((o) => o.id === state.me?.id);
  if (me) me.status = status; else state.presence.push({ id: state.me.id, name: state.me.name, status });
  conn?.send({ type: 'presence.set', status });
  schedule('team');
}

// ---------------------------------------------------------------- rendering (batched per frame)

let pending = new Set();
let frame = 0;
function schedule(...parts) {
  for (const p of parts) if (p) pending.add(p);
  if (!frame) frame = requestAnimationFrame(flush);
}
function flush() {
  frame = 0;
  const parts = pending;
  pending = new Set();
  const all = parts.has('all');
  const has = (p) => all || parts.has(p);
  const selected = state.conversations.get(state.selected);
  if (has('filters') || has('list')) renderFilters(state, actions);
  if (has('list')) renderList(state, actions);
  document.getElementById('thread-empty').hidden = !!selected;
  document.getElementById('thread-view').hidden = !selected;
  document.body.classList.toggle('has-selection', !!selected);
  if (selected) {
    if (has('threadhead') || has('details') || has('thread')) renderThreadHead(state);
    if (has('thread') || has('scroll')) renderMessages(state, { forceBottom: parts.has('scroll') });
    if (has('details') || has('team')) renderDetails(state, actions);
  }
  if (has('team')) renderTeam(state);
  renderConn(state);
  const unread = [...state.conversations.values()].reduce((n, c) => n + (c.state === 'open' && c.id !== state.selected ? c.unread || 0 : 0), 0);
  document.title = `${unread ? `(${unread}) ` : ''}Inbox — Desk`;
}

// ---------------------------------------------------------------- boot

function start(t, operator) {
  token = t;
  state.me = operator;
  document.getElementById('signin').hidden = true;
  document.getElementById('app').hidden = false;
  document.getElementById('me').replaceChildren(avatar(operator?.name || '?'), h('span', { class: 'me-name' }, operator?.name || ''));
  if (!composer) composer = setupComposer({ state, onSend: sendMessage, onTyping: (id, s) => conn?.send({ type: 'typing', conversation: id, state: s }) });
  api('api/me').then((body) => {
    if (body.workspace?.name) document.getElementById('workspace-name').textContent = body.workspace.name;
  }).catch(() => {});
  api('api/canned').then((body) => { state.canned = Array.isArray(body) ? body : body.canned || []; }).catch(() => {});
  api('api/operators').then((body) => { state.operators = body.operators || []; schedule('details'); }).catch(() => {});
  // The sign-in form is gone (its button had the focus): focus goes into the app, once the list is drawn.
  const focusAfter = document.activeElement === document.body || document.getElementById('signin').contains(document.activeElement);
  loadConversations('all').then(() => {
    const wanted = decodeURIComponent(location.hash.slice(1));
    if (wanted && state.conversations.has(wanted)) actions.select(wanted);
    if (focusAfter) requestAnimationFrame(() => requestAnimationFrame(focusList));
  }).catch(() => {});
  conn = openConnection({
    url: new URL('ws', location.href).href.replace(/^http/, 'ws'),
    hello: () => ({ type: 'operator.hello', token }),
    onEvent,
    onState: (s) => { state.conn = s; schedule('conn'); },
    onUnauthorized: () => signOut('Your session expired. Please sign in again.'),
  });
  schedule('all');
}

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

let toastTimer = 0;
function toast(text) {
  let el = document.getElementById('toast');
  if (!el) { el = h('div', { id: 'toast', class: 'toast', role: 'status' }); document.body.append(el); }
  el.textContent = text;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 4000);
}

document.getElementById('signin-form').addEventListener('submit', signIn);

// Search: the words typed, 200 ms after the last key; an answer for older words is dropped.
let searchTimer = 0;
let searchAsked = '';
const searchInput = document.getElementById('search');
document.getElementById('search-form').addEventListener('submit', (e) => e.preventDefault());
searchInput.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, 200);
});
searchInput.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && searchInput.value) { e.preventDefault(); searchInput.value = ''; runSearch(); }
});
function runSearch() {
  const q = searchInput.value.trim();
  searchAsked = q;
  if (!q) { state.search = undefined; schedule('list'); return; }
  api(`api/search?q=${encodeURIComponent(q)}`).then((body) => {
    if (searchAsked !== q) return;
    for (const r of body.results || []) state.upsertConversation(r.conversation);
    state.search = { q, results: body.results || [] };
    schedule('list', 'filters');
  }).catch(() => {});
}
document.getElementById('signout').append(icon('logout'));
document.getElementById('notify').append(icon('bell'));
const notify = setupNotifications({ button: document.getElementById('notify'), onOpen: (id) => actions.select(id) });
document.getElementById('signout').addEventListener('click', () => signOut());
for (const b of document.querySelectorAll('.presence-toggle button')) b.addEventListener('click', () => setPresence(b.dataset.status));
document.addEventListener('visibilitychange', () => { if (state.selected) markRead(state.selected); });
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && document.body.classList.contains('show-details')) document.body.classList.remove('show-details');
});
setInterval(() => schedule('list'), 60_000); // relative times ("5m") stay true

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) start(saved, JSON.parse(sessionStorage.getItem(OPERATOR_KEY) || 'null'));
else showSignin();
