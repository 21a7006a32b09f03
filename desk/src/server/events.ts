/**
 * One handler per client event after the hello (desk/PROTOCOL.md, Events). Each checks who may
 * do it, does it, answers the sender and emits to whoever else should know. Errors are thrown
 * as DeskErrors and turned into `error` events by the caller (realtime.ts).
 */
import { announce, changeConversation, conversationFor, identifyVisitor, ownConversation, sendMessage, setVisitorEmail, type Actor, type ConversationChange } from './actions.js';
import type { ClientEvent, ClientEventOf } from './client-events.js';
import type { DeskConnection } from './connection.js';
import type { DeskContext } from './desk-context.js';
import { DeskError } from './errors.js';
import { messageView, operatorAuthor, visibleMessagesAfter, visitorAuthor } from './views.js';
import type { Audience } from './hub.js';
import { requestTranscript } from './transcripts.js';

export function actorOf(conn: DeskConnection): Actor {
  const id = conn.identity;
  if (id.kind === 'visitor') return { kind: 'visitor', workspaceId: id.workspaceId, visitor: id.visitor, conversationId: id.conversationId };
  if (id.kind === 'operator') return { kind: 'operator', workspaceId: id.workspaceId, operator: id.operator };
  throw new DeskError('unauthorized', 'say hello first');
}

/** The other side of a conversation from the actor's: operators for a visitor, the visitor for an operator. */
function otherSide(actor: Actor, conversation: string): Audience {
  return actor.kind === 'visitor' ? { kind: 'operators' } : { kind: 'visitor', conversation };
}

export async function handleEvent(desk: DeskContext, conn: DeskConnection, actor: Actor, ev: ClientEvent): Promise<void> {
  switch (ev.type) {
    case 'visitor.hello':
    case 'operator.hello':
      throw new DeskError('bad_event', 'already said hello');

    case 'ping':
      conn.send({ type: 'pong', t: ev.t });
      return;

    case 'message.send': {
      const conv = await conversationFor(desk, actor, ev.conversation, ev.clientId);
      if (conn.typing.has(conv.id)) stopTyping(desk, conn, conv.id);
      await sendMessage(desk, actor, conv, ev, ({ message }) => conn.send({ type: 'message.ack', clientId: message.clientId, id: message.id, seq: message.seq, conversation: message.conversationId }));
      return;
    }

    case 'typing': {
      const conv = await conversationFor(desk, actor, ev.conversation);
      if (ev.state === 'stop') {
        if (conn.typing.has(conv.id)) stopTyping(desk, conn, conv.id);
        return;
      }
      const now = Date.now();
      const timeout = desk.timings.typingTimeoutMs;
      const was = conn.typing.get(conv.id);
      if (was) clearTimeout(was.timer);
      const timer = setTimeout(() => stopTyping(desk, conn, conv.id), timeout);
      timer.unref();
      // A client repeats `start` while typing; pass it on again only when the other side's copy is about to expire.
      const resend = !was || now - was.sentAt >= timeout / 2;
      conn.typing.set(conv.id, { timer, sentAt: resend ? now : was.sentAt });
      if (resend) emitTyping(desk, actor, conv.id, 'start');
      return;
    }

    case 'read': {
      const conv = await ownConversation(desk, actor, ev.conversation);
      const upTo = Math.min(ev.upToSeq, conv.lastSeq);
      const by = actor.kind;
      if (upTo <= (by === 'visitor' ? conv.visitorReadSeq : conv.operatorReadSeq)) return;
      const updated = await desk.store.updateConversation(conv.id, by === 'visitor' ? { visitorReadSeq: upTo } : { operatorReadSeq: upTo });
      const event = { type: 'read', conversation: conv.id, by, upToSeq: by === 'visitor' ? updated.visitorReadSeq : updated.operatorReadSeq };
      desk.emit(conv.workspaceId, otherSide(actor, conv.id), event);
      // Other operators' unread badges follow an operator's read too.
      if (by === 'operator') desk.emit(conv.workspaceId, { kind: 'operators' }, event);
      return;
    }

    case 'sync': {
      const conv = await conversationFor(desk, actor, ev.conversation);
      const messages = await visibleMessagesAfter(desk.store, conv.id, ev.afterSeq, actor.kind === 'visitor');
      conn.send({ type: 'sync', conversation: conv.id, messages: messages.map(messageView) });
      if (messages.length) conn.markSeen(conv.id, messages[messages.length - 1]!.seq);
      return;
    }

    case 'visitor.identify': {
      const visitor = await identifyVisitor(desk, actor, ev);
      if (conn.identity.kind === 'visitor') conn.identity = { ...conn.identity, visitor };
      conn.send({ type: 'visitor.identified', email: visitor.email, name: visitor.name ?? null });
      return;
    }

    case 'visitor.email': {
      const visitor = await setVisitorEmail(desk, actor, ev.email);
      if (conn.identity.kind === 'visitor') conn.identity = { ...conn.identity, visitor };
      return;
    }

    case 'transcript.request': {
      const conv = await conversationFor(desk, actor, ev.conversation);
      const { to, confirmation } = await requestTranscript(desk, conv);
      conn.send({ type: 'transcript.sent', conversation: conv.id, to, confirmation });
      return;
    }

    case 'conversation.rate': {
      // The visitor's word on a resolved conversation (its own, the open one or an earlier one).
      if (actor.kind !== 'visitor') throw new DeskError('forbidden', 'visitors only');
      const conv = await ownConversation(desk, actor, ev.conversation);
      if (conv.state !== 'resolved') throw new DeskError('bad_event', 'only a resolved conversation is rated');
      const rated = await desk.store.updateConversation(conv.id, { rating: ev.rating });
      await announce(desk, rated, { webhook: true, toVisitor: true });
      return;
    }

    case 'conversation.assign':
    case 'conversation.resolve':
    case 'conversation.reopen':
    case 'conversation.label':
    case 'conversation.snooze': {
      if (actor.kind !== 'operator') throw new DeskError('forbidden', 'operators only');
      const conv = await conversationFor(desk, actor, ev.conversation);
      await changeConversation(desk, actor, conv, changeOf(ev));
      return;
    }

    case 'presence.set': {
      if (actor.kind !== 'operator') throw new DeskError('forbidden', 'operators only');
      desk.presence.setStatus(actor.workspaceId, actor.operator.id, ev.status);
      desk.publishPresence(actor.workspaceId);
      desk.refreshPresence(actor.workspaceId);
      return;
    }
  }
}

function authorOf(actor: Actor) {
  return actor.kind === 'visitor' ? visitorAuthor(actor.visitor) : operatorAuthor(actor.operator);
}

/** Ends a socket's typing in a conversation (stop, send, timeout or disconnect) and tells the other side. */
export function stopTyping(desk: DeskContext, conn: DeskConnection, conversation: string): void {
  const t = conn.typing.get(conversation);
  if (!t) return;
  clearTimeout(t.timer);
  conn.typing.delete(conversation);
  let actor: Actor;
  try {
    actor = actorOf(conn);
  } catch {
    return;
  }
  emitTyping(desk, actor, conversation, 'stop');
}

/** Typing goes to the other side; an operator's also to the teammates, so two never answer at once unawares (the inbox ignores its own). */
function emitTyping(desk: DeskContext, actor: Actor, conversation: string, state: 'start' | 'stop'): void {
  const event = { type: 'typing', conversation, author: authorOf(actor), state };
  desk.emit(actor.workspaceId, otherSide(actor, conversation), event);
  if (actor.kind === 'operator') desk.emit(actor.workspaceId, { kind: 'operators' }, event);
}

/** What an operator's conversation event changes. */
function changeOf(ev: ClientEventOf<'conversation.assign' | 'conversation.resolve' | 'conversation.reopen' | 'conversation.label' | 'conversation.snooze'>): ConversationChange {
  switch (ev.type) {
    case 'conversation.assign':
      return { assigneeId: ev.operator };
    case 'conversation.label':
      return { labels: ev.labels };
    case 'conversation.snooze':
      return { snoozedUntil: ev.until };
    default:
      return { state: ev.type === 'conversation.resolve' ? 'resolved' : 'open' };
  }
}
