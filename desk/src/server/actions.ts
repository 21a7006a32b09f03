/**
 * What operators and visitors do to conversations, shared by the WebSocket events and the REST
 * API so both take the same path: check, store, then emit. The store gives ordering (seq) and
 * idempotency (clientId); these functions decide who hears about it.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { AttachmentRef, Conversation, EmailHeaders, Message, Operator, Via, Visitor } from '../store/types.js';
import { sameSecret } from './sessions.js';
import type { DeskContext } from './desk-context.js';
import { DeskError } from './errors.js';
import { messageView, operatorAuthor, operatorConversation, visitorAuthor, visitorConversation } from './views.js';

export type Actor = { kind: 'visitor'; workspaceId: string; visitor: Visitor; conversationId: string } | { kind: 'operator'; workspaceId: string; operator: Operator };

/**
 * The conversation an event is about: a visitor's own (naming another is `forbidden`), or for an
 * operator the one named, in the operator's workspace (anything else is `unknown_conversation`,
 * so ids of other workspaces are not confirmed).
 */
export async function conversationFor(desk: DeskContext, actor: Actor, id: string | undefined, ref?: string): Promise<Conversation> {
  if (actor.kind === 'visitor') {
    if (id !== undefined && id !== actor.conversationId) throw new DeskError('forbidden', 'not your conversation', ref);
    const c = await desk.store.getConversation(actor.conversationId);
    if (!c) throw new DeskError('unknown_conversation', 'conversation not found', ref);
    return c;
  }
  if (id === undefined) throw new DeskError('bad_event', 'conversation is required', ref);
  const c = await desk.store.getConversation(id);
  if (!c || c.workspaceId !== actor.workspaceId) throw new DeskError('unknown_conversation', 'conversation not found', ref);
  return c;
}

/**
 * As conversationFor, except that a visitor may also name one of its earlier conversations (the
 * widget shows them above the open one and marks their answers read).
 */
export async function ownConversation(desk: DeskContext, actor: Actor, id: string | undefined): Promise<Conversation> {
  if (actor.kind !== 'visitor' || id === undefined || id === actor.conversationId) return conversationFor(desk, actor, id);
  const c = await desk.store.getConversation(id);
  if (!c || c.visitorId !== actor.visitor.id) throw new DeskError('forbidden', 'not your conversation');
  return c;
}

/** Who uploaded a file: only they may send it (server/attachments.ts). */
export function uploaderOf(actor: Actor): string {
  return actor.kind === 'visitor' ? `visitor:${actor.visitor.id}` : `operator:${actor.operator.id}`;
}

/** The files a message names, checked: each uploaded by this actor into this conversation. */
async function attachmentsOf(desk: DeskContext, actor: Actor, conversationId: string, ids: string[] | undefined, ref: string): Promise<AttachmentRef[]> {
  if (!ids?.length) return [];
  const found = await Promise.all([...new Set(ids)].map((id) => desk.store.getAttachment(id)));
  const who = uploaderOf(actor);
  return found.map((a) => {
    if (!a || a.conversationId !== conversationId || a.uploader !== who) throw new DeskError('bad_event', 'unknown attachment', ref);
    return { id: a.id, name: a.name, type: a.type, size: a.size };
  });
}

export interface SendInput {
  clientId: string;
  body: string;
  note?: boolean;
  /** Ids of files this actor uploaded into the conversation (server/attachments.ts). */
  attachments?: string[];
  /** 'email' with the email's headers for a reply that came by email (email/inbound.ts). */
  via?: Via;
  email?: EmailHeaders;
}

/**
 * Stores a message (once per clientId), acknowledges it through `ack` before anything else is
 * sent, then fans out: `message.new` to the operators and (not for notes) to the visitor, and the
 * conversation's new summary to the operators. A duplicate is acknowledged again and its
 * `message.new` sent again (clients keep one message per seq): the node that stored it first may
 * have died before it told anyone, and the resend is then the only way the others hear of it. A
 * visitor writing into a resolved conversation reopens it.
 */
export async function sendMessage(
  desk: DeskContext,
  actor: Actor,
  conv: Conversation,
  input: SendInput,
  ack: (result: { message: Message; duplicate: boolean }) => void = () => {},
): Promise<{ message: Message; duplicate: boolean }> {
  const note = input.note === true;
  if (note && actor.kind !== 'operator') throw new DeskError('forbidden', 'only operators write notes', input.clientId);
  const author = actor.kind === 'visitor' ? visitorAuthor(actor.visitor) : operatorAuthor(actor.operator);
  const attachments = await attachmentsOf(desk, actor, conv.id, input.attachments, input.clientId);
  // The author has read what they wrote; a visitor's message reopens a resolved conversation.
  // Both in the append's own transaction: one write per message.
  const reopen = actor.kind === 'visitor' && conv.state === 'resolved';
  const result = await desk.store.appendMessage({
    conversationId: conv.id,
    clientId: input.clientId,
    author,
    body: input.body,
    note,
    via: input.via ?? 'chat',
    ...(input.email ? { email: input.email } : {}),
    ...(attachments.length ? { attachments } : {}),
    markRead: true,
    reopen,
  });
  ack(result);
  const { message } = result;
  const view = messageView(message);
  const ws = conv.workspaceId;
  // A conversation new to the operators' lists (its first message) or back in them (reopened) is
  // announced before its message; otherwise the message itself says what changed (last message,
  // unread, the author's read mark: PROTOCOL.md) and no summary is read or sent per message.
  if (result.conversation && (message.seq === 1 || reopen)) await announce(desk, result.conversation, { webhook: reopen, toVisitor: reopen });
  // The webhook heard of it the first time; a duplicate changes nothing else either.
  desk.emit(ws, { kind: 'operators' }, { type: 'message.new', message: view }, result.duplicate ? {} : { webhook: { type: 'message.new', data: { message: view } } });
  if (!message.note) desk.emit(ws, { kind: 'visitor', conversation: conv.id }, { type: 'message.new', message: view });
  return result;
}

export type ConversationChange = { state: 'open' | 'resolved' } | { assigneeId: string | null } | { labels: string[] } | { snoozedUntil: number | null };

/** Labels: at most 10 a conversation, each 1–40 characters, trimmed, the same label once (whatever its case). */
export const MAX_LABELS = 10;
export const MAX_LABEL = 40;
/** A snooze ends within 30 days. */
export const MAX_SNOOZE_MS = 30 * 24 * 60 * 60 * 1000;

export function cleanLabels(labels: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of labels) {
    const label = raw.normalize('NFC').replace(/\s+/g, ' ').trim();
    if (!label || seen.has(label.toLowerCase())) continue;
    if ([...label].length > MAX_LABEL) throw new DeskError('bad_event', `a label is at most ${MAX_LABEL} characters`);
    seen.add(label.toLowerCase());
    out.push(label);
  }
  if (out.length > MAX_LABELS) throw new DeskError('bad_event', `at most ${MAX_LABELS} labels`);
  return out;
}

/**
 * Resolve, reopen or assign (operators): the operators get the new summary, the visitor the new
 * state, and the thread an activity line for the operators ("Ada resolved this") when something
 * changed.
 */
export async function changeConversation(desk: DeskContext, actor: Actor, conv: Conversation, change: ConversationChange): Promise<Conversation> {
  if (actor.kind !== 'operator') throw new DeskError('forbidden', 'operators only');
  let target: Operator | undefined;
  if ('assigneeId' in change && change.assigneeId !== null) {
    target = await desk.store.getOperator(change.assigneeId);
    if (!target || target.workspaceId !== conv.workspaceId) throw new DeskError('bad_event', 'unknown operator');
  }
  if ('labels' in change) change = { labels: cleanLabels(change.labels) };
  if ('snoozedUntil' in change && change.snoozedUntil !== null) {
    const now = Date.now();
    if (!(change.snoozedUntil > now && change.snoozedUntil <= now + MAX_SNOOZE_MS)) throw new DeskError('bad_event', 'a snooze ends in the future, within 30 days');
    if (conv.state !== 'open') throw new DeskError('bad_event', 'only an open conversation can be snoozed');
  }
  let updated = await desk.store.updateConversation(conv.id, change);
  const line = activityLine(actor.operator, conv, change, target);
  // The summary announced ends with the line (its lastSeq and last message).
  if (line) updated = await appendActivity(desk, updated, line);
  await announce(desk, updated, { webhook: true, toVisitor: 'state' in change });
  return updated;
}

/** What an activity line says of a change, or nothing when it changed nothing. */
export function activityLine(by: Operator, before: Conversation, change: ConversationChange, target?: Operator): string | undefined {
  if ('labels' in change) {
    const added = change.labels.filter((l) => !before.labels.includes(l));
    const removed = before.labels.filter((l) => !change.labels.includes(l));
    const parts = [added.length ? `added ${added.join(', ')}` : '', removed.length ? `removed ${removed.join(', ')}` : ''].filter(Boolean);
    return parts.length ? `${by.name} ${parts.join(' and ')} (labels)` : undefined;
  }
  if ('snoozedUntil' in change) {
    if (change.snoozedUntil === null) return before.snoozedUntil === undefined ? undefined : `${by.name} woke this conversation`;
    return `${by.name} snoozed this conversation until ${new Date(change.snoozedUntil).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  }
  if ('state' in change) {
    if (change.state === before.state) return undefined;
    return `${by.name} ${change.state === 'resolved' ? 'resolved' : 'reopened'} this conversation`;
  }
  if (change.assigneeId === (before.assigneeId ?? null)) return undefined;
  if (change.assigneeId === null) return `${by.name} unassigned this conversation`;
  if (change.assigneeId === by.id) return `${by.name} took this conversation`;
  return `${by.name} assigned this conversation to ${target?.name ?? 'a teammate'}`;
}

/**
 * The snoozes due by now end: each conversation back in the open lists gets an activity line and
 * its summary to the operators. Every node runs it; the store gives each conversation to one.
 */
export async function wakeSnoozed(desk: DeskContext, now = Date.now()): Promise<void> {
  for (const conv of await desk.store.wakeSnoozed(now)) {
    const updated = await appendActivity(desk, conv, 'The snooze ended');
    await announce(desk, updated, { webhook: true, toVisitor: false });
  }
}

/** An activity line: a system note (operators only, never emailed), in the thread's order. */
async function appendActivity(desk: DeskContext, conv: Conversation, body: string): Promise<Conversation> {
  const { message, conversation } = await desk.store.appendMessage({ conversationId: conv.id, clientId: `a_${randomUUID()}`, author: ACTIVITY, body, note: true });
  desk.emit(conv.workspaceId, { kind: 'operators' }, { type: 'message.new', message: messageView(message) });
  return conversation ?? conv;
}

const ACTIVITY = { kind: 'system', id: '', name: 'Desk' } as const;

/** A visitor leaves an email address (for replies by email); operators see the conversation change. */
export async function setVisitorEmail(desk: DeskContext, actor: Actor, email: string): Promise<Visitor> {
  if (actor.kind !== 'visitor') throw new DeskError('forbidden', 'visitors only');
  const visitor = await desk.store.updateVisitor(actor.visitor.id, { email });
  const conv = await desk.store.getConversation(actor.conversationId);
  if (conv) await announce(desk, conv, { webhook: true, toVisitor: false });
  return visitor;
}

/**
 * A host site vouches for its logged-in visitor (`Desk.identify`): the email, signed with the
 * workspace's identity secret by the site's own server (HMAC-SHA256 of the lowercase email, hex).
 * A valid signature makes the address the visitor's, verified, with its name; anything else is
 * refused and changes nothing (so nobody can write as someone else's account).
 */
export async function identifyVisitor(desk: DeskContext, actor: Actor, claim: { email: string; name?: string; userHash: string }): Promise<Visitor> {
  if (actor.kind !== 'visitor') throw new DeskError('forbidden', 'visitors only');
  const workspace = await desk.workspace(actor.workspaceId);
  const secret = workspace?.identitySecret;
  const email = claim.email.toLowerCase();
  if (!secret || !sameSecret(claim.userHash.toLowerCase(), createHmac('sha256', secret).update(email).digest('hex'))) {
    throw new DeskError('forbidden', 'identity not verified');
  }
  const visitor = await desk.store.updateVisitor(actor.visitor.id, { email, emailVerified: true, ...(claim.name ? { name: claim.name } : {}) });
  const conv = await desk.store.getConversation(actor.conversationId);
  if (conv) await announce(desk, conv, { webhook: true, toVisitor: false });
  return visitor;
}

/** `conversation.update` to the operators (full summary) and, if asked, to the visitor (state and read marks). */
export async function announce(desk: DeskContext, conv: Conversation, opts: { webhook: boolean; toVisitor: boolean }): Promise<void> {
  const view = await operatorConversation(desk.store, conv);
  desk.emit(
    conv.workspaceId,
    { kind: 'operators' },
    { type: 'conversation.update', conversation: view },
    opts.webhook ? { webhook: { type: 'conversation.update', data: { conversation: view } } } : {},
  );
  if (opts.toVisitor) {
    desk.emit(conv.workspaceId, { kind: 'visitor', conversation: conv.id }, { type: 'conversation.update', conversation: visitorConversation(conv) });
  }
}
