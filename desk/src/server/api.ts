/**
 * The REST API under /api: sign-in and everything the inbox does besides the socket. Sends and
 * conversation changes go through actions.ts, the same path as the WebSocket events, so they fan
 * out the same way. Auth: `Authorization: Bearer <session token>`. Errors: `{error: {code,
 * message}}` with the matching status.
 *
 *   POST /api/login {email, password}              → {token, expiresAt, operator}; 429 + Retry-After when throttled
 *   POST /api/logout                               → 204
 *   GET  /api/me                                   → {operator, workspace: {id, name}}
 *   GET  /api/operators                            → {operators: [{id, name, email}]} (the workspace's, to assign to)
 *   GET  /api/search?q=words                       → {results: [{conversation, message}]} (per conversation its newest
 *                                                     message with every word, the last as a prefix; ≤ 20, newest first)
 *   GET  /api/conversations?filter=open|unassigned|mine|snoozed|resolved|all  → {conversations}
 *   GET  /api/conversations/:id/messages?afterSeq= → {conversation, messages} (≤ 500; ask again from the last)
 *   POST /api/conversations/:id/messages {body, clientId, note?, attachments?} → 201 {message, duplicate} (200 when a repeat;
 *                                                    attachments: ids from POST /api/attachments, server/attachments.ts)
 *   POST /api/conversations/:id/resolve | reopen   → {conversation}
 *   POST /api/conversations/:id/assign {operator?} → {conversation} (no operator = me; null = nobody)
 *   POST /api/conversations/:id/label {labels}     → {conversation} (the whole set: ≤ 10, each ≤ 40 characters)
 *   POST /api/conversations/:id/snooze {until}     → {conversation} (ms, within 30 days; null wakes it)
 *   POST /api/conversations/:id/transcript         → 202 {to, confirmation} (the transcript, notes left out, emailed to the
 *                                                    visitor's confirmed address, or a confirmation link first: transcripts.ts)
 *   GET  /api/canned                               → {canned}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { MAX_ATTACHMENTS } from '../attachments/kinds.js';
import type { ConversationFilter, DeskStore, Message, Operator } from '../store/types.js';
import { changeConversation, conversationFor, sendMessage, type Actor } from './actions.js';
import { checkBody } from './client-events.js';
import type { DeskContext } from './desk-context.js';
import { DeskError } from './errors.js';
import { inboxList } from './hello.js';
import { clientAddress } from './login-throttle.js';
import { decodeSegment, readJson, sendError, sendJson } from './http-io.js';
import { dummyHash, verifyPassword } from './passwords.js';
import { endSession, operatorForToken, startSession } from './sessions.js';
import { requestTranscript } from './transcripts.js';
import { messageView, operatorConversation, operatorView, visibleMessagesAfter, type MessageView, type OperatorConversationView } from './views.js';

const FILTERS: ConversationFilter[] = ['open', 'unassigned', 'mine', 'snoozed', 'resolved', 'all'];
const loginBody = z.object({ email: z.string().min(1).max(320), password: z.string().min(1).max(1000) });
const sendBody = z.object({ body: z.string(), clientId: z.string().min(1).max(100), note: z.boolean().optional(), attachments: z.array(z.string().min(1).max(100)).max(MAX_ATTACHMENTS).optional() });
const assignBody = z.object({ operator: z.string().min(1).max(100).nullable().optional() });
const labelBody = z.object({ labels: z.array(z.string().max(200)).max(50) });
const snoozeBody = z.object({ until: z.number().int().nullable() });

export interface ApiHooks {
  /** A session ended: close its sockets. */
  onLogout(token: string): void;
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h && /^Bearer\s+(\S+)$/i.exec(h);
  return m ? m[1] : undefined;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new DeskError('bad_event', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
}

/** Answers a request under /api; returns false when the path is not the API's. */
export async function handleApi(desk: DeskContext, hooks: ApiHooks, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (!url.pathname.startsWith('/api/')) return false;
  try {
    await route(desk, hooks, req, res, url);
  } catch (err) {
    if (!(err instanceof DeskError)) desk.log.error({ err, path: url.pathname }, 'desk api failed');
    sendError(res, err);
  }
  return true;
}

async function route(desk: DeskContext, hooks: ApiHooks, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const { store } = desk;
  const method = req.method ?? 'GET';
  const path = url.pathname;

  if (path === '/api/login') {
    if (method !== 'POST') throw new DeskError('not_found', 'POST /api/login');
    const { email, password } = parse(loginBody, await readJson(req));
    // Throttled before the password costs a scrypt (login-throttle.ts); unknown accounts too.
    const address = clientAddress(req);
    const wait = desk.loginThrottle.attempt(email, address, Date.now());
    if (wait) throw new DeskError('rate_limited', 'too many sign-in attempts; try again later', undefined, wait / 1000);
    const operator = await store.operatorByEmail(email.trim().toLowerCase());
    // Verify against a dummy when the account does not exist: same time either way.
    const ok = await verifyPassword(password, operator?.passwordHash ?? (await dummyHash()));
    if (!operator || !ok) throw new DeskError('invalid_credentials', 'wrong email or password');
    desk.loginThrottle.succeeded(email, address);
    const session = await startSession(store, operator.id);
    sendJson(res, 200, { token: session.token, expiresAt: session.expiresAt, operator: operatorView(operator) });
    return;
  }

  const token = bearer(req);
  const operator: Operator | undefined = token ? await operatorForToken(store, token) : undefined;
  if (!token || !operator) throw new DeskError('unauthorized', 'sign in first');
  const actor: Actor = { kind: 'operator', workspaceId: operator.workspaceId, operator };

  if (path === '/api/logout' && method === 'POST') {
    await endSession(store, token);
    hooks.onLogout(token);
    res.writeHead(204, { 'cache-control': 'no-store' }).end();
    return;
  }
  if (path === '/api/me' && method === 'GET') {
    const workspace = await desk.workspace(operator.workspaceId);
    sendJson(res, 200, { operator: operatorView(operator), workspace: workspace ? { id: workspace.id, name: workspace.name } : null });
    return;
  }
  if (path === '/api/operators' && method === 'GET') {
    // The teammates a conversation can be assigned to (the inbox's assignee menu).
    const operators = await store.listOperators(operator.workspaceId);
    sendJson(res, 200, { operators: operators.map(operatorView) });
    return;
  }
  if (path === '/api/canned' && method === 'GET') {
    const canned = await store.listCanned(operator.workspaceId);
    sendJson(res, 200, { canned: canned.map((c) => ({ id: c.id, shortcut: c.shortcut, body: c.body })) });
    return;
  }
  if (path === '/api/conversations' && method === 'GET') {
    const filter = (url.searchParams.get('filter') ?? 'open') as ConversationFilter;
    if (!FILTERS.includes(filter)) throw new DeskError('bad_event', `filter is one of ${FILTERS.join(', ')}`);
    sendJson(res, 200, { conversations: await inboxList(store, operator.workspaceId, { filter, operatorId: operator.id }) });
    return;
  }

  if (path === '/api/search' && method === 'GET') {
    const q = url.searchParams.get('q') ?? '';
    if (q.length > 200) throw new DeskError('bad_event', 'q is at most 200 characters');
    sendJson(res, 200, { results: await searchResults(store, operator.workspaceId, q) });
    return;
  }

  const m = /^\/api\/conversations\/([^/]{1,100})\/(messages|resolve|reopen|assign|label|snooze|transcript)$/.exec(path);
  if (!m) throw new DeskError('not_found', 'no such endpoint');
  const [, id, action] = m as unknown as [string, string, string];
  const conv = await conversationFor(desk, actor, decodeSegment(id));

  if (action === 'messages' && method === 'GET') {
    const afterSeq = Number(url.searchParams.get('afterSeq') ?? '0');
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new DeskError('bad_event', 'afterSeq is a whole number ≥ 0');
    const messages = await visibleMessagesAfter(store, conv.id, afterSeq, false);
    sendJson(res, 200, { conversation: await operatorConversation(store, conv), messages: messages.map(messageView) });
    return;
  }
  if (method !== 'POST') throw new DeskError('not_found', 'no such endpoint');
  if (action === 'messages') {
    const input = parse(sendBody, await readJson(req));
    checkBody(input.body, input.clientId, (input.attachments?.length ?? 0) > 0);
    const { message, duplicate } = await sendMessage(desk, actor, conv, input);
    sendJson(res, duplicate ? 200 : 201, { message: messageView(message), duplicate });
    return;
  }
  if (action === 'transcript') {
    sendJson(res, 202, await requestTranscript(desk, conv));
    return;
  }
  let updated: Awaited<ReturnType<typeof changeConversation>>;
  if (action === 'assign') {
    const { operator: target } = parse(assignBody, await readJson(req));
    updated = await changeConversation(desk, actor, conv, { assigneeId: target === undefined ? operator.id : target });
  } else if (action === 'label') {
    updated = await changeConversation(desk, actor, conv, { labels: parse(labelBody, await readJson(req)).labels });
  } else if (action === 'snooze') {
    updated = await changeConversation(desk, actor, conv, { snoozedUntil: parse(snoozeBody, await readJson(req)).until });
  } else {
    updated = await changeConversation(desk, actor, conv, { state: action === 'resolve' ? 'resolved' : 'open' });
  }
  sendJson(res, 200, { conversation: await operatorConversation(store, updated) });
}

/** The conversations whose messages match `q`, each with its newest matching message (SEARCH_CONVERSATIONS at most). */
async function searchResults(store: DeskStore, workspaceId: string, q: string): Promise<{ conversation: OperatorConversationView; message: MessageView }[]> {
  const newest = new Map<string, Message>();
  for (const m of await store.searchMessages(workspaceId, q, 200)) {
    if (!newest.has(m.conversationId)) newest.set(m.conversationId, m);
    if (newest.size === SEARCH_CONVERSATIONS) break;
  }
  const convs = await Promise.all([...newest.keys()].map((id) => store.getConversation(id)));
  const views = await Promise.all(convs.map((c) => (c ? operatorConversation(store, c) : undefined)));
  return [...newest.values()].flatMap((m, i) => (views[i] ? [{ conversation: views[i]!, message: messageView(m) }] : []));
}

const SEARCH_CONVERSATIONS = 20;
