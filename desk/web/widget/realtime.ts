/**
 * The widget's side of desk/PROTOCOL.md: the hello it makes at each connect, and what it does
 * with each server event. The connection (shared/connection.ts) moves them and keeps the link
 * alive; here the welcome brings the thread up to date (a sync for what one page did not hold),
 * re-sends the identity and the outbox, and marks read what the visitor sees.
 */
import type { ClientEventOf, ServerEvent, ServerEventOf } from '../../src/protocol.js';
import type { Widget } from './context.js';
import { findInOutbox, flushOutbox, saveOutbox } from './outbox.js';
import { sendReadMarks } from './reads.js';
import { addMessages, resetConversation, updateConversation } from './thread.js';
import { onTyping } from './typing.js';

/** A sync answer holds at most this many messages; a full one means ask again from the last. */
const SYNC_PAGE = 500;
/** After rate_limited, the outbox waits this long before trying again. */
const RATE_LIMIT_PAUSE = 2000;

/** Who we are and what we have: the session, and the last seq of the conversation it belongs to (a new conversation is sent whole). */
export function visitorHello(w: Widget): ClientEventOf<'visitor.hello'> {
  const { state } = w;
  const hello: ClientEventOf<'visitor.hello'> = { type: 'visitor.hello', workspace: w.config.workspace, page: location.href };
  if (state.session) hello.session = state.session;
  if (state.conversation) {
    hello.conversation = state.conversation.id;
    hello.lastSeq = state.lastSeq;
  }
  return hello;
}

export function onServerEvent(w: Widget, ev: ServerEvent): void {
  const { state } = w;
  switch (ev.type) {
    case 'visitor.welcome':
      onWelcome(w, ev);
      break;
    case 'visitor.identified':
      if (!ev.email) break;
      state.email = ev.email;
      w.storage.set('email', ev.email);
      w.render();
      break;
    case 'message.ack':
      onAck(w, ev);
      break;
    case 'message.accepted': {
      // A regional node has it on disk: "Sent"; it stays in the outbox until the ack.
      const item = findInOutbox(w, ev.clientId);
      if (!item) break;
      item.accepted = true;
      w.render();
      break;
    }
    case 'message.new':
      if (ev.message) addMessages(w, [ev.message]);
      break;
    case 'sync':
      if (!state.conversation || ev.conversation !== state.conversation.id) break;
      addMessages(w, ev.messages || []);
      if ((ev.messages || []).length >= SYNC_PAGE) w.send({ type: 'sync', conversation: state.conversation.id, afterSeq: state.lastSeq });
      break;
    case 'typing':
      onTyping(w, ev);
      break;
    case 'read':
      if (ev.by !== 'operator' || !state.conversation || ev.conversation !== state.conversation.id) break;
      state.conversation.operatorReadSeq = Math.max(state.conversation.operatorReadSeq || 0, ev.upToSeq || 0);
      w.storage.set('operatorReadSeq', String(state.conversation.operatorReadSeq));
      w.render();
      break;
    case 'conversation.update':
      updateConversation(w, ev.conversation);
      break;
    case 'transcript.sent':
      w.showEmailNote(ev.confirmation ? w.locale.t.transcriptConfirm(ev.to) : w.locale.t.transcriptSent(ev.to));
      break;
    case 'presence':
      state.availability = { available: !!ev.available, operators: ev.operators || [] };
      w.render();
      break;
    case 'error':
      onError(w, ev);
      break;
  }
}

function onWelcome(w: Widget, ev: ServerEventOf<'visitor.welcome'>): void {
  const { state } = w;
  state.connected = true;
  if (ev.session && ev.session !== state.session) {
    state.session = ev.session;
    w.storage.set('session', ev.session);
  }
  const conv = ev.conversation;
  if (ev.workspace?.name) state.title = ev.workspace.name;
  if (!state.conversation || state.conversation.id !== conv.id) resetConversation(w, conv);
  else updateConversation(w, conv);
  // The conversations before this one (resolved since, say), shown above it: an answer that came
  // after the visitor left stays in sight, unread and counted on the badge.
  state.emailOn = ev.email === true;
  state.attachments = ev.attachments ?? null;
  state.earlier = (ev.earlier || []).filter((e) => e?.conversation && e.conversation.id !== conv.id && (e.messages || []).length);
  addMessages(w, ev.messages || []);
  // A welcome carries at most one page; the rest comes by sync (a trailing note costs one empty answer).
  if ((conv.lastSeq || 0) > state.lastSeq) w.send({ type: 'sync', conversation: conv.id, afterSeq: state.lastSeq });
  if (ev.availability) state.availability = { available: !!ev.availability.available, operators: ev.availability.operators || [] };
  if (state.identity) w.send(state.identity);
  flushOutbox(w);
  w.render();
  sendReadMarks(w);
}

function onAck(w: Widget, ev: ServerEventOf<'message.ack'>): void {
  const { state } = w;
  const item = findInOutbox(w, ev.clientId);
  // Stored in another conversation than ours (ours was resolved meanwhile): that one is ours now.
  if (ev.conversation && state.conversation && ev.conversation !== state.conversation.id) {
    resetConversation(w, { id: ev.conversation });
    w.send({ type: 'sync', conversation: ev.conversation, afterSeq: 0 });
  }
  if (!item) return;
  // The ack may beat message.new: show the message as sent right away; message.new replaces it.
  const you = { kind: 'visitor', id: '', name: 'You' } as const;
  addMessages(w, [{ id: ev.id, seq: ev.seq, clientId: item.clientId, body: item.body, attachments: item.attachments, note: false, author: you, createdAt: item.createdAt }], true);
}

function onError(w: Widget, ev: ServerEventOf<'error'>): void {
  const item = ev.ref ? findInOutbox(w, ev.ref) : undefined;
  if (!item) {
    if (ev.code !== 'rate_limited') console.warn('[desk]', ev.code, ev.message);
    return;
  }
  if (ev.code === 'rate_limited') {
    setTimeout(() => flushOutbox(w), RATE_LIMIT_PAUSE);
    return;
  }
  item.failed = ev.code || true;
  saveOutbox(w);
  w.render();
}
