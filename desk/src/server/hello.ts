/**
 * The two hellos (PROTOCOL.md, Hello). A visitor is created on its first hello (or when its
 * session token is unknown) with what the edge and the browser told us in `meta`; it gets its
 * open conversation, the messages after its `lastSeq`, and who is at the desk. An operator
 * proves itself with a session token from POST /api/login.
 *
 * The socket joins the hub before the database is read and holds what arrives meanwhile, so a
 * message stored during the hello is in the welcome or follows it, never lost in between.
 */
import type { DeskConnection } from './connection.js';
import type { ClientEventOf } from './client-events.js';
import { publicPresence, type DeskContext } from './desk-context.js';
import { DeskError } from './errors.js';
import { operatorOriginAllowed, visitorOriginAllowed } from './origins.js';
import { available } from './presence.js';
import { newToken, operatorForToken } from './sessions.js';
import { messageView, operatorView, summaryView, visibleMessagesAfter, visitorConversation, type MessageView, type VisitorConversationView } from './views.js';
import type { ConversationFilter, ConversationSummary, DeskStore } from '../store/types.js';

export async function visitorHello(desk: DeskContext, conn: DeskConnection, ev: ClientEventOf<'visitor.hello'>): Promise<void> {
  const { store } = desk;
  const workspace = await desk.workspace(ev.workspace);
  if (!workspace) throw new DeskError('unauthorized', 'unknown workspace');
  if (!visitorOriginAllowed(workspace.allowedOrigins, conn.upgrade)) throw new DeskError('forbidden', 'this site may not use the workspace');

  const meta: Record<string, string> = {};
  if (ev.page) meta.page = ev.page;
  if (conn.upgrade.country) meta.country = conn.upgrade.country;
  if (conn.upgrade.userAgent) meta.userAgent = conn.upgrade.userAgent;

  // A regional node that welcomed a new visitor itself gave it a session and a conversation id:
  // they are created with those (desk/REGIONAL.md). From anyone else, `mint` means nothing.
  const mint = conn.upgrade.regional && ev.mint && ev.session && /^[\w-]{20,200}$/.test(ev.session) ? { token: ev.session, ...ev.mint } : undefined;
  let visitor = ev.session ? await store.visitorByToken(ev.session) : undefined;
  if (visitor && visitor.workspaceId !== workspace.id) visitor = undefined;
  if (!visitor) visitor = await store.createVisitor({ workspaceId: workspace.id, token: mint?.token ?? newToken(), meta });
  else visitor = await store.updateVisitor(visitor.id, { meta: { ...visitor.meta, ...meta }, lastSeenAt: Date.now() });
  const conv = await store.openConversation(workspace.id, visitor.id, mint?.conversation);

  conn.identity = { kind: 'visitor', workspaceId: workspace.id, visitor, conversationId: conv.id };
  conn.hold();
  desk.hub.join(conn);
  // lastSeq belongs to the conversation the client had; a new conversation is sent whole.
  const afterSeq = ev.conversation !== undefined && ev.conversation !== conv.id ? 0 : (ev.lastSeq ?? 0);
  const [messages, current, earlier] = await Promise.all([visibleMessagesAfter(store, conv.id, afterSeq, true), store.getConversation(conv.id), earlierOf(store, visitor.id, conv.id)]);
  const lastSent = messages.length ? messages[messages.length - 1]!.seq : afterSeq;
  conn.markSeen(conv.id, lastSent);
  const operators = desk.presenceList(workspace.id);
  conn.release({
    type: 'visitor.welcome',
    session: visitor.token,
    workspace: { id: workspace.id, name: workspace.name },
    conversation: visitorConversation(current ?? conv),
    messages: messages.map(messageView),
    earlier,
    // Whether this Desk sends email at all: the widget promises replies by email only then.
    email: desk.mailer !== undefined,
    attachments: desk.attachments,
    availability: { available: available(operators), operators: publicPresence(operators) },
  });
}

/** How many of a visitor's conversations before the open one its widget shows, and how many messages of each (the last ones). */
export const EARLIER_CONVERSATIONS = 3;
export const EARLIER_MESSAGES = 50;

/**
 * The visitor's conversations before the open one, oldest first, each with its last messages:
 * an answer that came after the visitor left stays in its thread when the conversation was
 * resolved meanwhile (a new one opens on the next visit), unread marks and all.
 */
async function earlierOf(store: DeskStore, visitorId: string, openId: string): Promise<{ conversation: VisitorConversationView; messages: MessageView[] }[]> {
  const convs = (await store.visitorConversations(visitorId, EARLIER_CONVERSATIONS + 1)).filter((c) => c.id !== openId && c.lastSeq > 0).slice(0, EARLIER_CONVERSATIONS);
  const pages = await Promise.all(convs.map((c) => visibleMessagesAfter(store, c.id, Math.max(0, c.lastSeq - EARLIER_MESSAGES), true)));
  return convs
    .map((c, i) => ({ conversation: visitorConversation(c), messages: pages[i]!.map(messageView) }))
    .filter((e) => e.messages.length > 0)
    .reverse();
}

export async function operatorHello(desk: DeskContext, conn: DeskConnection, ev: ClientEventOf<'operator.hello'>): Promise<void> {
  if (!operatorOriginAllowed(conn.upgrade)) throw new DeskError('forbidden', 'the inbox connects from its own origin');
  const operator = await operatorForToken(desk.store, ev.token);
  if (!operator) throw new DeskError('unauthorized', 'unknown or expired session');

  conn.identity = { kind: 'operator', workspaceId: operator.workspaceId, operator, token: ev.token };
  conn.hold();
  desk.hub.join(conn);
  desk.presence.connect(operator.workspaceId, operator.id, operator.name);
  desk.publishPresence(operator.workspaceId);
  desk.refreshPresence(operator.workspaceId);
  const conversations = await inboxList(desk.store, operator.workspaceId, { filter: 'all', operatorId: operator.id });
  conn.release({
    type: 'operator.welcome',
    operator: operatorView(operator),
    conversations,
    presence: desk.presenceList(operator.workspaceId),
    attachments: desk.attachments,
  });
}

/**
 * Conversations as the inbox lists them, with their visitors. Conversations nobody wrote in yet
 * (every widget hello opens one) are left out.
 */
export async function inboxList(store: DeskStore, workspaceId: string, q: { filter: ConversationFilter; operatorId?: string; limit?: number }): Promise<ReturnType<typeof summaryView>[]> {
  const limit = q.limit ?? 100;
  const rows: ConversationSummary[] = (await store.listConversations(workspaceId, { ...q, limit: limit * 2 })).filter((c) => c.lastSeq > 0).slice(0, limit);
  return rows.map((c) => summaryView(c));
}
