/**
 * What the server's events (desk/PROTOCOL.md, Events) do to the inbox: each changes the state and
 * names the parts to redraw. After every welcome the inbox asks for what it missed in each thread
 * it holds (from the last seq it has) and sends again what was not acknowledged (same clientId:
 * stored once): a drop loses nothing.
 */
import type { MessageView, Outgoing, ServerEvent, ServerEventOf } from '../../src/protocol.js';
import { MESSAGES_PAGE } from './api.js';
import { previewText, stubConversation, visitorLabel } from './conversations.js';
import type { Notifier } from './notify.js';
import { savedAvailability } from './presence.js';
import type { Part, Schedule } from './render.js';
import { saveOperator } from './signin.js';
import type { InboxState, PendingSend } from './state.js';

/** A typing mark lasts this long without a new `start` (the server expires typing after 6 s too). */
const TYPING_SHOWN = 6000;
/** A send refused as rate-limited is tried again after this. */
const RETRY_RATE_LIMITED = 2000;

export interface EventContext {
  state: InboxState;
  send(ev: Outgoing): boolean;
  schedule: Schedule;
  /** The operator is looking at this conversation: selected, and the tab visible. */
  viewing(id: string): boolean;
  markRead(id: string): void;
  /** Asks for the whole list again (after a welcome, or for a conversation we did not know of). */
  reloadList(): void;
  notify: Notifier;
  toast(text: string): void;
}

export function sendPending(send: (ev: Outgoing) => boolean, conversation: string, p: PendingSend): boolean {
  const attachments = p.attachments.length ? p.attachments.map((a) => a.id) : undefined;
  return send({ type: 'message.send', conversation, clientId: p.clientId, body: p.body, note: p.note, attachments });
}

/** After a welcome: each thread held from its last seq, and every send still pending (not refused). */
function resync(state: InboxState, send: (ev: Outgoing) => boolean): void {
  for (const [id, t] of state.threads) {
    if (t.loaded || t.messages.length) send({ type: 'sync', conversation: id, afterSeq: state.lastSeqOf(id) });
    for (const p of t.pending) if (!p.failed) sendPending(send, id, p);
  }
}

export function applyEvent(ev: ServerEvent, ctx: EventContext): void {
  const { state, schedule } = ctx;
  switch (ev.type) {
    case 'operator.welcome':
      welcomed(ev, ctx);
      break;
    case 'message.new':
      messageNew(ev.message, ctx);
      break;
    case 'message.ack':
      acknowledged(ev, state);
      schedule('thread', 'list');
      break;
    case 'sync': {
      state.addMessages(ev.conversation, ev.messages);
      const last = ev.messages[ev.messages.length - 1];
      if (ev.messages.length >= MESSAGES_PAGE) ctx.send({ type: 'sync', conversation: ev.conversation, afterSeq: last.seq });
      ctx.markRead(ev.conversation);
      schedule('thread', 'list');
      break;
    }
    case 'typing':
      typing(ev, ctx);
      break;
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
      state.upsertConversation(ev.conversation);
      schedule('list', 'filters', 'thread', 'details');
      break;
    case 'presence':
      // Operators get each teammate's id.
      state.presence = ev.operators.flatMap((o) => ('id' in o ? [o] : []));
      schedule('team', 'details');
      break;
    case 'error':
      refused(ev, ctx);
      schedule('thread');
      break;
  }
}

/** Signed in on this socket: who I am, the list, the team; then my availability, what was missed, what is pending. */
function welcomed(ev: ServerEventOf<'operator.welcome'>, ctx: EventContext): void {
  const { state } = ctx;
  state.me = ev.operator;
  saveOperator(ev.operator);
  for (const c of ev.conversations) state.upsertConversation(c);
  state.presence = ev.presence;
  state.attachments = ev.attachments;
  if (savedAvailability() === 'away') ctx.send({ type: 'presence.set', status: 'away' });
  resync(state, ctx.send);
  ctx.reloadList();
  ctx.schedule('all');
}

/** Our send is stored: it becomes a message of the thread (its message.new replaces it by seq). */
function acknowledged(ev: ServerEventOf<'message.ack'>, state: InboxState): void {
  const p = state.threads.get(ev.conversation)?.pending.find((x) => x.clientId === ev.clientId);
  if (!p) return;
  const author = { kind: 'operator' as const, id: state.me?.id ?? '', name: state.me?.name ?? '' };
  state.addMessages(ev.conversation, [
    { id: ev.id, conversation: ev.conversation, seq: ev.seq, clientId: p.clientId, body: p.body, note: p.note, attachments: p.attachments, via: 'chat', createdAt: p.createdAt, author },
  ]);
}

/** The visitor typing shows in the thread and the list; a teammate (never myself) above the composer, so two do not answer at once. */
function typing(ev: ServerEventOf<'typing'>, ctx: EventContext): void {
  const { state, schedule } = ctx;
  const { author, conversation } = ev;
  const team = author.kind === 'operator';
  if ((team && author.id === state.me?.id) || (!team && author.kind !== 'visitor')) return;
  const marks = team ? state.teamTyping : state.typing;
  const parts: Part[] = team ? ['thread'] : ['thread', 'list'];
  if (ev.state === 'start') {
    const name = team ? author.name || 'A teammate' : author.name && author.name !== 'Visitor' ? author.name : '';
    marks.set(conversation, { name, until: Date.now() + TYPING_SHOWN });
    setTimeout(() => schedule(...parts), TYPING_SHOWN + 50);
  } else marks.delete(conversation);
  schedule(...parts);
}

/** An error for one of our sends marks it not delivered, or (rate-limited) tries it again soon; others are told. */
function refused(ev: ServerEventOf<'error'>, ctx: EventContext): void {
  for (const [id, t] of ctx.state.threads) {
    const p = ev.ref ? t.pending.find((x) => x.clientId === ev.ref) : undefined;
    if (!p) continue;
    p.failed = ev.code !== 'rate_limited';
    if (!p.failed) setTimeout(() => retry(ctx, id, p), RETRY_RATE_LIMITED);
  }
  if (!ev.ref || ev.code !== 'rate_limited') ctx.toast(ev.message || `Something went wrong (${ev.code}).`);
}

/** A stored message: into its thread (once per seq); a visitor's is unread unless on screen, and may notify. */
function messageNew(m: MessageView, ctx: EventContext): void {
  const { state } = ctx;
  const id = m.conversation;
  if (!state.conversations.has(id)) {
    state.conversations.set(id, stubConversation(id, m.createdAt));
    ctx.reloadList();
  }
  const known = state.thread(id).messages.some((x) => x.seq === m.seq);
  state.addMessages(id, [m]);
  const c = state.conversations.get(id);
  // The server sends no summary per message (PROTOCOL.md): its author has read up to it.
  if (c && m.author.kind === 'visitor') c.visitorReadSeq = Math.max(c.visitorReadSeq, m.seq);
  if (c && m.author.kind === 'operator' && !m.note && m.seq > c.operatorReadSeq) {
    c.operatorReadSeq = m.seq;
    c.unread = 0;
  }
  if (c && !known && m.author.kind === 'visitor') {
    if (ctx.viewing(id)) ctx.markRead(id);
    else c.unread = (c.unread || 0) + 1;
    ctx.notify.visitorMessage(id, visitorLabel(c), previewText({ body: m.body, files: m.attachments.map((a) => a.name) }), ctx.viewing(id));
  }
  ctx.schedule('list', 'filters', id === state.selected ? 'thread' : null);
}

/** A rate-limited send again, unless it was settled meanwhile. */
function retry(ctx: EventContext, conversation: string, p: PendingSend): void {
  if (ctx.state.threads.get(conversation)?.pending.includes(p)) sendPending(ctx.send, conversation, p);
}
