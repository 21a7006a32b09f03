/**
 * The signed-in inbox: the token, the realtime connection (shared/connection.ts, its events
 * applied by events.ts) and the REST reads (loading.ts), and the actions the views ask for.
 * Conversation commands apply locally at once; the server's update confirms them.
 */
import type { AttachmentView, ClientEventOf } from '../../src/protocol.js';
import type { Connection } from '../shared/connection.js';
import { UploadError, upload } from '../shared/upload.js';
import type { InboxActions } from './actions.js';
import { type ListFilter, logout, type OperatorApi, type OperatorView, operatorApi, type SearchResult } from './api.js';
import { setupComposer } from './composer.js';
import type { InboxConversation } from './conversations.js';
import { byId } from './dom.js';
import { applyEvent, type EventContext, sendPending } from './events.js';
import { focusList } from './list.js';
import { loadConversations as load, loadThread as readThread, loadWorkspace } from './loading.js';
import { setupNotifications } from './notify.js';
import { type Availability, setAvailability } from './presence.js';
import { connectOperator } from './realtime.js';
import { createRenderer, type Schedule } from './render.js';
import { forgetSession, showSignin } from './signin.js';
import type { InboxState, PendingSend } from './state.js';
import { toast } from './toast.js';
import { renderMe } from './topbar.js';

const EXPIRED = 'Your session expired. Please sign in again.';

type Command = ClientEventOf<'conversation.assign' | 'conversation.resolve' | 'conversation.reopen' | 'conversation.label' | 'conversation.snooze'>;

export interface Inbox {
  start(token: string, operator: OperatorView | null): void;
  /** With a message: the server ended the session (and says why on the sign-in form). */
  signOut(message?: string): void;
  search(q: string): Promise<SearchResult[]>;
  /** What the search box found, or undefined when it is empty again. */
  showSearch(q: string, results: SearchResult[] | undefined): void;
  setPresence(status: Availability): void;
  /** The tab was shown or hidden: what is on screen is read now. */
  visibilityChanged(): void;
  schedule: Schedule;
}

export function createInbox(state: InboxState): Inbox {
  let token: string | null = null;
  let conn: Connection | null = null;
  let api: OperatorApi | null = null;
  const send: EventContext['send'] = (ev) => conn?.send(ev) ?? false;

  const actions: InboxActions = {
    setFilter(filter) {
      state.filter = filter;
      schedule('filters', 'list');
      loadConversations(filter);
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
    assign: (id, operator) => command({ type: 'conversation.assign', conversation: id, operator }, (c) => (c.assignee = operator)),
    resolve: (id) => command({ type: 'conversation.resolve', conversation: id }, (c) => (c.state = 'resolved')),
    reopen: (id) => command({ type: 'conversation.reopen', conversation: id }, (c) => (c.state = 'open')),
    // Labels and snoozes wait for the server's update: it may refuse them (a toast says why).
    label: (id, labels) => command({ type: 'conversation.label', conversation: id, labels }, () => {}),
    snooze: (id, until) => command({ type: 'conversation.snooze', conversation: id, until }, () => {}),
  };
  const schedule = createRenderer(state, actions);
  const composer = setupComposer({ state, onSend: sendMessage, onTyping: (id, s) => send({ type: 'typing', conversation: id, state: s }), upload: uploadFile });
  const notify = setupNotifications(byId<HTMLButtonElement>('notify'), (id) => actions.select(id));
  const events: EventContext = { state, send, schedule, viewing, markRead, reloadList: () => loadConversations('all'), notify, toast };

  function command(ev: Command, apply: (c: InboxConversation) => void): void {
    if (!send(ev)) {
      toast('Not connected right now. Try again in a moment.');
      return;
    }
    const c = state.conversations.get(ev.conversation);
    if (c) apply(c);
    schedule('list', 'filters', 'details', 'threadhead');
  }

  function sendMessage(body: string, note: boolean, attachments: AttachmentView[]): void {
    const id = state.selected;
    if (!id) return;
    const p: PendingSend = { clientId: `k_${randomId()}`, body, note, attachments, createdAt: Date.now() };
    state.thread(id).pending.push(p);
    sendPending(send, id, p);
    schedule('thread', 'scroll');
  }

  /** A file up into a conversation, as the operator signed in (PROTOCOL.md, Attachments); paths relative to the page. */
  function uploadFile(conversation: string, file: File): Promise<AttachmentView> {
    if (!token || !state.attachments) return Promise.reject(new UploadError('failed'));
    return upload('.', { conversation }, file, { authorization: `Bearer ${token}` }, state.attachments);
  }

  function viewing(id: string): boolean {
    return state.selected === id && document.visibilityState === 'visible';
  }

  /** Tells the server (and the teammates) that what is on screen is read. */
  function markRead(id: string): void {
    const c = state.conversations.get(id);
    if (!c || !viewing(id)) return;
    const upTo = Math.max(c.lastSeq, state.lastSeqOf(id));
    if (upTo <= c.operatorReadSeq && !c.unread) return;
    if (!send({ type: 'read', conversation: id, upToSeq: upTo })) return;
    c.operatorReadSeq = upTo;
    c.unread = 0;
    schedule('list');
  }

  function loadConversations(filter: ListFilter): Promise<void> {
    return api ? load(api, state, schedule, filter) : Promise.resolve();
  }

  function loadThread(id: string): void {
    if (api) readThread(api, state, id, () => (schedule('thread', 'list'), markRead(id)));
  }

  function start(t: string, operator: OperatorView | null): void {
    token = t;
    state.me = operator;
    byId('signin').hidden = true;
    byId('app').hidden = false;
    renderMe(operator);
    const expired = () => {
      if (token === t) signOut(EXPIRED);
    };
    api = operatorApi(t, expired);
    loadWorkspace(api, state, schedule);
    // The sign-in form is gone (its button had the focus): focus goes into the app, once the list is drawn.
    const focusAfter = document.activeElement === document.body || byId('signin').contains(document.activeElement);
    loadConversations('all').then(() => {
      const wanted = hashConversation();
      if (wanted && state.conversations.has(wanted)) actions.select(wanted);
      if (focusAfter) requestAnimationFrame(() => requestAnimationFrame(focusList));
    });
    conn = connectOperator(t, {
      onEvent: (ev) => {
        applyEvent(ev, events);
        if (ev.type === 'operator.welcome') composer.refresh();
      },
      onState: (s) => {
        state.conn = s;
        schedule('conn');
      },
      onUnauthorized: expired,
    });
    schedule('all');
  }

  function signOut(message?: string): void {
    if (token && !message) logout(token);
    token = null;
    api = null;
    conn?.stop();
    conn = null;
    forgetSession();
    location.hash = '';
    showSignin(message);
  }

  return {
    start,
    signOut,
    search: (q) => (api ? api.search(q) : Promise.reject(new Error('signed out'))),
    showSearch(q, results) {
      for (const r of results ?? []) state.upsertConversation(r.conversation);
      state.search = results && { q, results };
      schedule('list', 'filters');
    },
    setPresence(status) {
      setAvailability(state, status, send);
      schedule('team');
    },
    visibilityChanged() {
      if (state.selected) markRead(state.selected);
    },
    schedule,
  };
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The conversation the URL names (#c_…: a reload or a link opens it), or ''. */
function hashConversation(): string {
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch {
    return '';
  }
}
