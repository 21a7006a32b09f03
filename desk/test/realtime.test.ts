/**
 * One Desk node over real sockets: a visitor widget and an operator inbox as ws clients, the REST
 * API with fetch, a webhook receiver checking signatures. SQLite in memory.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_IDENTITY_SECRET, seedDemo } from '../src/seed.js';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { openStore, type DeskStore } from '../src/store/index.js';
import { api, DeskClient, login, operator, sleep, until, visitor } from './support/desk-client.js';

/** SQLite in memory, migrated (openStore migrates). */
function newStore(): Promise<DeskStore> {
  return openStore('sqlite::memory:');
}

interface Hook {
  headers: http.IncomingHttpHeaders;
  body: string;
}

let store: DeskStore;
let node: DeskNode;
let base: string;
let token: string;
let hooks: Hook[] = [];
let receiver: http.Server;
let publicDir: string;

beforeAll(async () => {
  store = await newStore();
  await seedDemo(store);
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hooks.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  publicDir = mkdtempSync(path.join(tmpdir(), 'desk-public-'));
  writeFileSync(path.join(publicDir, 'index.html'), '<!doctype html><title>demo</title>');
  writeFileSync(path.join(publicDir, 'inbox.html'), '<!doctype html><title>inbox</title>');
  writeFileSync(path.join(publicDir, 'widget.js'), 'console.log("widget")');
  node = await startDeskNode({
    port: 0,
    store,
    nodeId: 'test-1',
    publicDir,
    webhooks: [`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`],
    log: pino({ level: 'silent' }),
    timings: { typingTimeoutMs: 300, heartbeatMs: 200, snoozeSweepMs: 200 },
  });
  base = `http://127.0.0.1:${node.port}`;
  token = await login(base);
});

afterAll(async () => {
  await node?.close();
  await new Promise((r) => receiver?.close(r));
  await store?.close();
  if (publicDir) rmSync(publicDir, { recursive: true, force: true });
});

describe('visitor and operator', () => {
  it('exchange messages both ways, acknowledged, with per-conversation seqs', async () => {
    const op = await operator(base, token);
    expect(op.welcome.operator).toMatchObject({ email: 'ada@acme.test', name: 'Ada' });
    expect(op.welcome.presence).toEqual([expect.objectContaining({ name: 'Ada', status: 'online' })]);

    const v = await visitor(base, { page: 'https://shop.example/cart' }, { headers: { 'x-outpost-country': 'DE', 'user-agent': 'TestBrowser/1 (KHTML, like Gecko)' } });
    expect(v.welcome.session).toMatch(/^[\w-]{20,}$/);
    expect(v.welcome.messages).toEqual([]);
    expect(v.welcome.availability).toEqual({ available: true, operators: [{ name: 'Ada', status: 'online' }] });
    expect(v.welcome.conversation).toEqual({ id: v.conversation, state: 'open', visitorReadSeq: 0, operatorReadSeq: 0, lastSeq: 0, rating: null });

    v.client.send({ type: 'message.send', clientId: 'k_v1', body: 'Where is my order?' });
    const ack = await v.client.next('message.ack');
    expect(ack).toMatchObject({ clientId: 'k_v1', seq: 1, conversation: v.conversation });
    expect((await v.client.next('message.new')).message).toMatchObject({ id: ack.id, seq: 1 });
    const seen = await op.client.next('message.new');
    expect(seen.message).toMatchObject({ id: ack.id, seq: 1, body: 'Where is my order?', note: false, author: { kind: 'visitor' } });
    const update = await op.client.next('conversation.update');
    expect(update.conversation).toMatchObject({
      id: v.conversation,
      lastSeq: 1,
      unread: 1,
      visitor: { meta: { page: 'https://shop.example/cart', country: 'DE', userAgent: 'TestBrowser/1 (KHTML, like Gecko)' } },
    });

    op.client.send({ type: 'message.send', conversation: v.conversation, clientId: 'k_o1', body: 'Let me check.' });
    expect(await op.client.next('message.ack')).toMatchObject({ clientId: 'k_o1', seq: 2 });
    expect((await v.client.next('message.new')).message).toMatchObject({ seq: 2, body: 'Let me check.', author: { kind: 'operator', name: 'Ada' } });

    // A retried send (same clientId) is stored once and acknowledged again, with the same id and
    // seq; its message.new goes out again (the node that stored it may have died before saying so),
    // and no new summary, since nothing changed.
    op.client.clear();
    v.client.clear();
    v.client.send({ type: 'message.send', clientId: 'k_v1', body: 'Where is my order?' });
    expect(await v.client.next('message.ack')).toMatchObject({ clientId: 'k_v1', id: ack.id, seq: 1 });
    expect((await op.client.next('message.new')).message).toMatchObject({ id: ack.id, seq: 1 });
    expect((await v.client.next('message.new')).message).toMatchObject({ id: ack.id, seq: 1 });
    await op.client.none('conversation.update');
    expect((await store.messagesAfter(v.conversation, 0)).map((m) => m.clientId)).toEqual(['k_v1', 'k_o1']);

    // Reconnect with lastSeq: exactly the messages sent meanwhile.
    await v.client.close();
    for (const [i, body] of ['One', 'Two'].entries()) {
      op.client.send({ type: 'message.send', conversation: v.conversation, clientId: `k_o_off${i}`, body });
      await op.client.next('message.ack');
    }
    const back = await visitor(base, { session: v.session, lastSeq: 2 });
    expect(back.conversation).toBe(v.conversation);
    expect(back.welcome.messages.map((m: { seq: number; body: string }) => [m.seq, m.body])).toEqual([
      [3, 'One'],
      [4, 'Two'],
    ]);

    // Notes reach operators only: not live, not in a welcome, not in a sync.
    back.client.clear();
    op.client.send({ type: 'message.send', conversation: v.conversation, clientId: 'k_note', body: 'VIP customer', note: true });
    expect((await op.client.next((e) => e.type === 'message.new' && e.message.note)).message).toMatchObject({ seq: 5, note: true });
    op.client.send({ type: 'message.send', conversation: v.conversation, clientId: 'k_o3', body: 'Found it!' });
    expect((await back.client.next('message.new')).message).toMatchObject({ seq: 6, body: 'Found it!' });
    await back.client.none((e) => e.type === 'message.new' && e.message.note);
    back.client.send({ type: 'sync', afterSeq: 0 });
    expect((await back.client.next('sync')).messages.map((m: { seq: number }) => m.seq)).toEqual([1, 2, 3, 4, 6]);
    const again = await visitor(base, { session: v.session, lastSeq: 4 });
    expect(again.welcome.messages.map((m: { seq: number }) => m.seq)).toEqual([6]);
    op.client.send({ type: 'sync', conversation: v.conversation, afterSeq: 4 });
    expect((await op.client.next('sync')).messages.map((m: { seq: number }) => m.seq)).toEqual([5, 6]);

    await Promise.all([op.client.close(), back.client.close(), again.client.close()]);
  });

  it('typing is forwarded and stops by itself; read marks reach the other side', async () => {
    const op = await operator(base, token);
    const v = await visitor(base);
    v.client.send({ type: 'typing', state: 'start' });
    expect(await op.client.next('typing')).toMatchObject({ conversation: v.conversation, state: 'start', author: { kind: 'visitor' } });
    const t0 = Date.now();
    expect(await op.client.next('typing')).toMatchObject({ conversation: v.conversation, state: 'stop' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200); // the 300 ms auto-stop of this node

    // An operator's typing reaches the visitor and the teammates (so two do not answer at once).
    const teammate = await operator(base, await login(base, 'grace@acme.test'));
    op.client.send({ type: 'typing', conversation: v.conversation, state: 'start' });
    expect(await v.client.next('typing')).toMatchObject({ state: 'start', author: { kind: 'operator', name: 'Ada' } });
    expect(await teammate.client.next('typing')).toMatchObject({ conversation: v.conversation, state: 'start', author: { kind: 'operator', name: 'Ada' } });
    op.client.send({ type: 'typing', conversation: v.conversation, state: 'stop' });
    expect(await v.client.next('typing')).toMatchObject({ state: 'stop' });
    expect(await teammate.client.next((e) => e.type === 'typing' && e.state === 'stop')).toMatchObject({ author: { name: 'Ada' } });
    await teammate.client.close();

    op.client.send({ type: 'message.send', conversation: v.conversation, clientId: 'k_r1', body: 'Hi!' });
    await v.client.next('message.new');
    v.client.send({ type: 'read', upToSeq: 1 });
    expect(await op.client.next('read')).toEqual({ type: 'read', conversation: v.conversation, by: 'visitor', upToSeq: 1 });
    v.client.send({ type: 'message.send', clientId: 'k_r2', body: 'Thanks' });
    await op.client.next((e) => e.type === 'message.new' && e.message.seq === 2);
    op.client.send({ type: 'read', conversation: v.conversation, upToSeq: 2 });
    expect(await v.client.next('read')).toEqual({ type: 'read', conversation: v.conversation, by: 'operator', upToSeq: 2 });
    expect((await store.getConversation(v.conversation))!.operatorReadSeq).toBe(2);
    await Promise.all([op.client.close(), v.client.close()]);
  });

  it('assign, resolve and reopen leave activity lines for the operators, never for the visitor, and only when something changed', async () => {
    const op = await operator(base, token);
    const v = await visitor(base);
    v.client.send({ type: 'message.send', clientId: 'k_act', body: 'Where is my parcel?' });
    await op.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_act');
    const grace = (await store.operatorByEmail('grace@acme.test'))!;
    const line = async () => (await op.client.next((e) => e.type === 'message.new' && e.message.author.kind === 'system')).message;
    op.client.send({ type: 'conversation.assign', conversation: v.conversation, operator: grace.id });
    expect(await line()).toMatchObject({ body: 'Ada assigned this conversation to Grace', note: true, author: { kind: 'system', name: 'Desk' }, seq: 2 });
    op.client.send({ type: 'conversation.assign', conversation: v.conversation, operator: grace.id });
    op.client.send({ type: 'conversation.assign', conversation: v.conversation, operator: op.welcome.operator.id });
    expect((await line()).body).toBe('Ada took this conversation');
    op.client.send({ type: 'conversation.resolve', conversation: v.conversation });
    expect((await line()).body).toBe('Ada resolved this conversation');
    // The summary announced ends with the line.
    const update = await op.client.next((e) => e.type === 'conversation.update' && e.conversation.state === 'resolved');
    expect(update.conversation).toMatchObject({ lastSeq: 4, lastMessage: { body: 'Ada resolved this conversation', note: true } });
    op.client.send({ type: 'conversation.resolve', conversation: v.conversation });
    op.client.send({ type: 'conversation.reopen', conversation: v.conversation });
    expect((await line()).body).toBe('Ada reopened this conversation');
    op.client.send({ type: 'conversation.assign', conversation: v.conversation, operator: null });
    expect((await line()).body).toBe('Ada unassigned this conversation');
    // No second line for the assign and the resolve that changed nothing; none reached the visitor.
    const stored = (await store.messagesAfter(v.conversation, 0)).filter((m) => m.author.kind === 'system').map((m) => m.body);
    expect(stored).toHaveLength(5);
    await v.client.none((e) => e.type === 'message.new' && e.message.author.kind === 'system');
    await Promise.all([op.client.close(), v.client.close()]);
  });

  it('labels and snooze: operators only, checked, with activity lines; a snoozed conversation leaves the open list until the visitor writes', async () => {
    const op = await operator(base, token);
    const v = await visitor(base);
    v.client.send({ type: 'message.send', clientId: 'k_lab', body: 'Refund for order 42?' });
    await op.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_lab');
    const update = (match: (c: any) => boolean) => op.client.next((e) => e.type === 'conversation.update' && e.conversation.id === v.conversation && match(e.conversation));
    op.client.send({ type: 'conversation.label', conversation: v.conversation, labels: [' billing ', 'Refund', 'refund', ''] });
    expect((await update((c) => c.labels.length === 2)).conversation.labels).toEqual(['billing', 'Refund']);
    expect((await op.client.next((e) => e.type === 'message.new' && e.message.author.kind === 'system')).message.body).toBe('Ada added billing, Refund (labels)');
    op.client.send({ type: 'conversation.label', conversation: v.conversation, labels: Array.from({ length: 11 }, (_, i) => `l${i}`) });
    expect(await op.client.next('error')).toMatchObject({ code: 'bad_event', message: 'at most 10 labels' });
    op.client.send({ type: 'conversation.label', conversation: v.conversation, labels: ['x'.repeat(41)] });
    expect(await op.client.next('error')).toMatchObject({ code: 'bad_event' });
    v.client.send({ type: 'conversation.label', conversation: v.conversation, labels: ['mine'] });
    expect(await v.client.next('error')).toMatchObject({ code: 'forbidden' });

    const until = Date.now() + 3_600_000;
    for (const bad of [Date.now() - 1000, Date.now() + 31 * 24 * 3_600_000]) {
      op.client.send({ type: 'conversation.snooze', conversation: v.conversation, until: bad });
      expect(await op.client.next('error')).toMatchObject({ code: 'bad_event' });
    }
    op.client.send({ type: 'conversation.snooze', conversation: v.conversation, until });
    expect((await update((c) => c.snoozedUntil !== null)).conversation.snoozedUntil).toBe(until);
    const open = await api(base, token, 'GET', '/api/conversations?filter=open');
    expect(open.body.conversations.some((c: { id: string }) => c.id === v.conversation)).toBe(false);
    const snoozed = await api(base, token, 'GET', '/api/conversations?filter=snoozed');
    expect(snoozed.body.conversations.map((c: { id: string }) => c.id)).toContain(v.conversation);
    // The visitor writes: back in the open list.
    v.client.send({ type: 'message.send', clientId: 'k_back', body: 'Any news?' });
    await op.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_back');
    expect((await store.getConversation(v.conversation))!.snoozedUntil).toBeUndefined();
    // By REST too; and woken by time on whichever node sweeps.
    const snooze = await api(base, token, 'POST', `/api/conversations/${v.conversation}/snooze`, { until: Date.now() + 60_000 });
    expect(snooze.body.conversation.snoozedUntil).toBeGreaterThan(Date.now());
    await store.updateConversation(v.conversation, { snoozedUntil: Date.now() + 300 });
    expect((await update((c) => c.snoozedUntil === null)).conversation.snoozedUntil).toBeNull();
    expect((await api(base, token, 'POST', `/api/conversations/${v.conversation}/label`, { labels: [] })).body.conversation.labels).toEqual([]);
    await Promise.all([op.client.close(), v.client.close()]);
  });

  it('assign, resolve and reopen reach operators, and the state reaches the visitor', async () => {
    const op = await operator(base, token);
    const v = await visitor(base);
    v.client.send({ type: 'message.send', clientId: 'k_a1', body: 'Help' });
    await op.client.next('message.new');
    op.client.send({ type: 'conversation.assign', conversation: v.conversation, operator: op.welcome.operator.id });
    expect((await op.client.next((e) => e.type === 'conversation.update' && e.conversation.assignee)).conversation.assignee).toBe(op.welcome.operator.id);
    op.client.send({ type: 'conversation.resolve', conversation: v.conversation });
    expect((await v.client.next('conversation.update')).conversation).toMatchObject({ id: v.conversation, state: 'resolved' });
    // A visitor writing into a resolved conversation reopens it.
    v.client.send({ type: 'message.send', clientId: 'k_a2', body: 'One more thing' });
    expect((await v.client.next('conversation.update')).conversation.state).toBe('open');
    v.client.send({ type: 'visitor.email', email: 'lin@example.com' });
    expect((await op.client.next((e) => e.type === 'conversation.update' && e.conversation.visitor.email)).conversation.visitor.email).toBe('lin@example.com');
    v.client.send({ type: 'conversation.resolve', conversation: v.conversation });
    expect(await v.client.next('error')).toMatchObject({ code: 'forbidden' });
    // A rating only for a resolved conversation, only by its visitor.
    v.client.send({ type: 'conversation.rate', rating: 'good' });
    expect(await v.client.next('error')).toMatchObject({ code: 'bad_event' });
    op.client.send({ type: 'conversation.resolve', conversation: v.conversation });
    await v.client.next((e) => e.type === 'conversation.update' && e.conversation.state === 'resolved');
    op.client.send({ type: 'conversation.rate', conversation: v.conversation, rating: 'bad' });
    expect(await op.client.next('error')).toMatchObject({ code: 'forbidden' });
    v.client.send({ type: 'conversation.rate', rating: 'bad' });
    expect((await op.client.next((e) => e.type === 'conversation.update' && e.conversation.rating)).conversation).toMatchObject({ id: v.conversation, rating: 'bad' });
    expect((await store.getConversation(v.conversation))!.rating).toBe('bad');
    await Promise.all([op.client.close(), v.client.close()]);
  });

  it('a visitor back after its conversation was resolved gets it as `earlier`, answer and read marks included, and may mark it read', async () => {
    const op = await operator(base, token);
    const v = await visitor(base);
    v.client.send({ type: 'message.send', clientId: 'k_e1', body: 'Is it waterproof?' });
    await op.client.next((e) => e.type === 'message.new' && e.message.body === 'Is it waterproof?');
    await v.client.close();
    op.client.send({ type: 'message.send', conversation: v.conversation, clientId: 'k_e2', body: 'Yes, to 2 m.' });
    await op.client.next('message.ack');
    op.client.send({ type: 'conversation.resolve', conversation: v.conversation });
    await op.client.next((e) => e.type === 'conversation.update' && e.conversation.state === 'resolved');

    const back = await visitor(base, { session: v.session, conversation: v.conversation, lastSeq: 1 });
    expect(back.conversation).not.toBe(v.conversation);
    expect(back.welcome.messages).toEqual([]);
    expect(back.welcome.earlier).toHaveLength(1);
    const [earlier] = back.welcome.earlier;
    // Read by the visitor up to its own question, not the answer; seq 3 is the operators' activity line ("Ada resolved…"), a note.
    expect(earlier.conversation).toMatchObject({ id: v.conversation, state: 'resolved', visitorReadSeq: 1, lastSeq: 3 });
    expect(earlier.messages.map((m: { body: string; author: { kind: string } }) => [m.author.kind, m.body])).toEqual([
      ['visitor', 'Is it waterproof?'],
      ['operator', 'Yes, to 2 m.'],
    ]);
    // The widget marks the answer read: the operators hear of it, and it is stored.
    back.client.send({ type: 'read', conversation: v.conversation, upToSeq: 2 });
    expect(await op.client.next((e) => e.type === 'read' && e.by === 'visitor')).toMatchObject({ conversation: v.conversation, upToSeq: 2 });
    expect((await store.getConversation(v.conversation))!.visitorReadSeq).toBe(2);
    // Another visitor's conversation stays out of reach.
    const stranger = await visitor(base);
    stranger.client.send({ type: 'read', conversation: v.conversation, upToSeq: 2 });
    expect(await stranger.client.next('error')).toMatchObject({ code: 'forbidden' });
    // A visitor with nothing before has no earlier conversations.
    expect(stranger.welcome.earlier).toEqual([]);
    await Promise.all([op.client.close(), back.client.close(), stranger.client.close()]);
  });

  it('identify: a visitor the host site signed gets its verified email and name; a forged or unsigned claim is refused and changes nothing', async () => {
    const op = await operator(base, token);
    const v = await visitor(base);
    v.client.send({ type: 'message.send', clientId: 'k_id1', body: 'Hello from my account' });
    await op.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_id1');
    const sign = (email: string, secret = DEMO_IDENTITY_SECRET) => createHmac('sha256', secret).update(email.toLowerCase()).digest('hex');
    const visitorRow = async () => store.getVisitor((await store.getConversation(v.conversation))!.visitorId);

    v.client.send({ type: 'visitor.identify', email: 'mia@example.com', name: 'Mia', userHash: sign('mia@example.com', 'not-the-secret') });
    expect(await v.client.next('error')).toMatchObject({ code: 'forbidden', message: 'identity not verified' });
    v.client.send({ type: 'visitor.identify', email: 'mia@example.com', userHash: 'abc' });
    expect(await v.client.next('error')).toMatchObject({ code: 'bad_event' });
    const untouched = await visitorRow();
    expect(untouched?.email).toBeUndefined();
    expect(untouched?.emailVerified).toBe(false);

    v.client.send({ type: 'visitor.identify', email: 'Mia@Example.com', name: 'Mia', userHash: sign('mia@example.com') });
    expect(await v.client.next('visitor.identified')).toEqual({ type: 'visitor.identified', email: 'mia@example.com', name: 'Mia' });
    expect(await visitorRow()).toMatchObject({ email: 'mia@example.com', name: 'Mia', emailVerified: true });
    expect((await op.client.next((e) => e.type === 'conversation.update' && e.conversation.visitor.email)).conversation.visitor).toMatchObject({ email: 'mia@example.com', name: 'Mia' });

    // A workspace without an identity secret takes no identity at all.
    await store.createWorkspace({ id: 'w_unsigned', name: 'Unsigned', allowedOrigins: [], emailDomain: 'u.test', webhookSecret: 's' });
    const u = await visitor(base, { workspace: 'w_unsigned' }, { query: '?workspace=w_unsigned' });
    u.client.send({ type: 'visitor.identify', email: 'mia@example.com', userHash: sign('mia@example.com') });
    expect(await u.client.next('error')).toMatchObject({ code: 'forbidden' });
    await Promise.all([op.client.close(), v.client.close(), u.client.close()]);
  });

  it('presence: away operators leave visitors unavailable', async () => {
    const v = await visitor(base);
    const op = await operator(base, token);
    expect(await v.client.next('presence')).toEqual({ type: 'presence', operators: [{ name: 'Ada', status: 'online' }], available: true });
    op.client.send({ type: 'presence.set', status: 'away' });
    expect(await v.client.next('presence')).toEqual({ type: 'presence', operators: [{ name: 'Ada', status: 'away' }], available: false });
    await op.client.close();
    expect(await v.client.next('presence')).toEqual({ type: 'presence', operators: [], available: false });
    await v.client.close();
  });
});

describe('errors', () => {
  it('bad events get error events and the socket stays open', async () => {
    const v = await visitor(base);
    v.client.send('not json');
    expect(await v.client.next('error')).toMatchObject({ code: 'bad_event' });
    v.client.send({ type: 'teleport' });
    expect(await v.client.next('error')).toMatchObject({ code: 'bad_event' });
    v.client.send({ type: 'message.send', body: 'no client id' });
    expect(await v.client.next('error')).toMatchObject({ code: 'bad_event' });
    v.client.send({ type: 'message.send', clientId: 'k_big', body: 'x'.repeat(5001) });
    expect(await v.client.next('error')).toMatchObject({ code: 'too_large', ref: 'k_big' });
    v.client.send({ type: 'message.send', conversation: 'c_someone_else', clientId: 'k_other', body: 'hi' });
    expect(await v.client.next('error')).toMatchObject({ code: 'forbidden', ref: 'k_other' });
    v.client.send({ type: 'message.send', clientId: 'k_note', body: 'psst', note: true });
    expect(await v.client.next('error')).toMatchObject({ code: 'forbidden', ref: 'k_note' });
    v.client.send({ type: 'ping', t: 42 });
    expect(await v.client.next('pong')).toEqual({ type: 'pong', t: 42 });
    expect(await store.messagesAfter(v.conversation, 0)).toEqual([]);

    const op = await operator(base, token);
    op.client.send({ type: 'message.send', conversation: 'c_nope', clientId: 'k_x', body: 'hello?' });
    expect(await op.client.next('error')).toMatchObject({ code: 'unknown_conversation', ref: 'k_x' });
    op.client.send({ type: 'read', conversation: 'c_nope', upToSeq: 1 });
    expect(await op.client.next('error')).toMatchObject({ code: 'unknown_conversation' });
    op.client.send({ type: 'ping', t: 1 });
    expect(await op.client.next('pong')).toEqual({ type: 'pong', t: 1 });
    await Promise.all([op.client.close(), v.client.close()]);
  });

  it('a bad operator token is refused and closed with 4401; so is an event before the hello', async () => {
    const c = await DeskClient.open(`${base.replace('http', 'ws')}/ws`);
    c.send({ type: 'operator.hello', token: 'forged' });
    expect(await c.next('error')).toMatchObject({ code: 'unauthorized' });
    expect((await c.closed).code).toBe(4401);

    const d = await DeskClient.open(`${base.replace('http', 'ws')}/ws`);
    d.send({ type: 'message.send', clientId: 'k', body: 'hi' });
    expect(await d.next('error')).toMatchObject({ code: 'unauthorized' });
    expect((await d.closed).code).toBe(4401);
  });

  it('frames over 64 KiB close the socket (1009); floods get rate_limited and the socket stays', async () => {
    const v = await visitor(base);
    v.client.send({ type: 'ping', pad: 'x'.repeat(70 * 1024) });
    expect((await v.client.closed).code).toBe(1009);

    const w = await visitor(base);
    for (let i = 0; i < 100; i++) w.client.send({ type: 'ping', t: i });
    expect(await w.client.next('error')).toMatchObject({ code: 'rate_limited' });
    await sleep(500);
    w.client.clear();
    w.client.send({ type: 'ping', t: 'after' });
    expect(await w.client.next((e) => e.type === 'pong' && e.t === 'after')).toBeTruthy();
    await w.client.close();
  });

  it('a client that stops answering pings is closed', async () => {
    const c = await DeskClient.open(`${base.replace('http', 'ws')}/ws`, { autoPong: false });
    c.send({ type: 'visitor.hello', workspace: 'w_demo' });
    await c.next('visitor.welcome');
    const t0 = Date.now();
    expect((await c.closed).code).toBe(1001);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('origins', () => {
  it('a widget on a site the workspace does not allow is refused (403 on the upgrade, 4403 at the hello)', async () => {
    await store.createWorkspace({ id: 'w_locked', name: 'Locked', allowedOrigins: ['https://shop.example'], emailDomain: 'x.test', webhookSecret: 's' });
    const ws = base.replace('http', 'ws');
    await expect(DeskClient.open(`${ws}/ws?workspace=w_locked`, { headers: { origin: 'https://evil.example' } })).rejects.toMatchObject({ status: 403 });
    await expect(DeskClient.open(`${ws}/ws?workspace=w_locked`)).rejects.toMatchObject({ status: 403 });

    const ok = await visitor(base, { workspace: 'w_locked' }, { query: '?workspace=w_locked', headers: { origin: 'https://shop.example' } });
    expect(ok.welcome.workspace).toEqual({ id: 'w_locked', name: 'Locked' });
    await ok.client.close();

    const late = await DeskClient.open(`${ws}/ws`, { headers: { origin: 'https://evil.example' } });
    late.send({ type: 'visitor.hello', workspace: 'w_locked' });
    expect(await late.next('error')).toMatchObject({ code: 'forbidden' });
    expect((await late.closed).code).toBe(4403);

    // The inbox is same-origin; an operator socket from another site is refused.
    const cross = await DeskClient.open(`${ws}/ws`, { headers: { origin: 'https://evil.example' } });
    cross.send({ type: 'operator.hello', token });
    expect((await cross.closed).code).toBe(4403);
    const same = await DeskClient.open(`${ws}/ws`, { headers: { origin: base } });
    same.send({ type: 'operator.hello', token });
    expect(await same.next('operator.welcome')).toBeTruthy();
    await same.close();
  });
});

describe('REST', () => {
  it('login, list, read, send (fanned out like a socket send), resolve, logout', async () => {
    expect(await api(base, undefined, 'POST', '/api/login', { email: 'ada@acme.test', password: 'wrong' })).toMatchObject({
      status: 401,
      body: { error: { code: 'invalid_credentials' } },
    });
    expect(await api(base, undefined, 'POST', '/api/login', { email: 'nobody@acme.test', password: 'x' })).toMatchObject({ status: 401 });
    expect(await api(base, undefined, 'GET', '/api/conversations')).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    const session = await login(base, 'grace@acme.test');
    expect((await api(base, session, 'GET', '/api/me')).body).toMatchObject({ operator: { name: 'Grace' }, workspace: { id: 'w_demo', name: 'Acme Shop' } });
    // The teammates a conversation can be assigned to: this workspace's, never another's, never without a session.
    const team = (await api(base, session, 'GET', '/api/operators')).body.operators as { name: string; email: string; passwordHash?: string }[];
    expect(team.map((o) => o.email).sort()).toEqual(['ada@acme.test', 'grace@acme.test']);
    expect(team.every((o) => o.passwordHash === undefined)).toBe(true);
    expect(await api(base, undefined, 'GET', '/api/operators')).toMatchObject({ status: 401 });
    expect(await api(base, undefined, 'GET', '/api/search?q=x')).toMatchObject({ status: 401 });
    expect(await api(base, session, 'GET', `/api/search?q=${'x'.repeat(201)}`)).toMatchObject({ status: 400 });
    expect((await api(base, session, 'GET', '/api/search?q=%22%20*%20(%20-')).body).toEqual({ results: [] });
    expect((await api(base, session, 'GET', '/api/canned')).body.canned).toHaveLength(3);

    const v = await visitor(base);
    v.client.send({ type: 'message.send', clientId: 'k_rest1', body: 'Anyone there?' });
    await v.client.next('message.ack');
    const list = await api(base, session, 'GET', '/api/conversations?filter=open');
    expect(list.status).toBe(200);
    expect(list.body.conversations.find((c: { id: string }) => c.id === v.conversation)).toMatchObject({ unread: 1, lastMessage: { body: 'Anyone there?' } });
    expect((await api(base, session, 'GET', '/api/conversations?filter=nope')).status).toBe(400);

    const msgs = await api(base, session, 'GET', `/api/conversations/${v.conversation}/messages?afterSeq=0`);
    expect(msgs.body.messages.map((m: { body: string }) => m.body)).toEqual(['Anyone there?']);

    const sent = await api(base, session, 'POST', `/api/conversations/${v.conversation}/messages`, { body: 'Yes, Grace here.', clientId: 'k_rest2' });
    expect(sent).toMatchObject({ status: 201, body: { duplicate: false, message: { seq: 2, author: { kind: 'operator', name: 'Grace' } } } });
    expect((await v.client.next((e) => e.type === 'message.new' && e.message.seq === 2)).message).toMatchObject({ body: 'Yes, Grace here.' });
    expect(await api(base, session, 'POST', `/api/conversations/${v.conversation}/messages`, { body: 'Yes, Grace here.', clientId: 'k_rest2' })).toMatchObject({
      status: 200,
      body: { duplicate: true, message: { seq: 2 } },
    });
    expect((await api(base, session, 'POST', `/api/conversations/${v.conversation}/messages`, { body: 'x'.repeat(5001), clientId: 'k_rest3' })).body).toMatchObject({
      error: { code: 'too_large' },
    });
    expect((await api(base, session, 'POST', '/api/conversations/c_nope/messages', { body: 'x', clientId: 'k' })).body).toMatchObject({
      error: { code: 'unknown_conversation' },
    });

    expect((await api(base, session, 'POST', `/api/conversations/${v.conversation}/assign`, {})).body.conversation.assignee).toMatch(/./);
    expect((await api(base, session, 'POST', `/api/conversations/${v.conversation}/resolve`)).body.conversation.state).toBe('resolved');
    expect((await v.client.next('conversation.update')).conversation.state).toBe('resolved');
    expect((await api(base, session, 'POST', `/api/conversations/${v.conversation}/reopen`)).body.conversation.state).toBe('open');

    const inbox = await operator(base, session);
    expect(await api(base, session, 'POST', '/api/logout')).toMatchObject({ status: 204 });
    expect((await inbox.client.closed).code).toBe(4401);
    expect((await api(base, session, 'GET', '/api/me')).status).toBe(401);
    await v.client.close();
  });

  it('webhooks are signed with the workspace secret', async () => {
    hooks = [];
    const v = await visitor(base);
    v.client.send({ type: 'message.send', clientId: 'k_hook', body: 'Hook me' });
    await v.client.next('message.ack');
    await api(base, token, 'POST', `/api/conversations/${v.conversation}/resolve`);
    const mine = () => hooks.filter((h) => h.body.includes(v.conversation));
    await until(() => mine().length >= 2, 5000, 'two webhooks');
    const { webhookSecret } = (await store.getWorkspace('w_demo'))!;
    for (const h of mine()) {
      const expected = `sha256=${createHmac('sha256', webhookSecret).update(h.body).digest('hex')}`;
      expect(h.headers['x-desk-signature']).toBe(expected);
      expect(h.headers['content-type']).toBe('application/json');
    }
    const bodies = mine().map((h) => JSON.parse(h.body));
    expect(bodies.find((b) => b.type === 'message.new')).toMatchObject({ workspace: 'w_demo', data: { message: { body: 'Hook me', conversation: v.conversation } } });
    expect(bodies.find((b) => b.type === 'conversation.update')).toMatchObject({ data: { conversation: { id: v.conversation, state: 'resolved' } } });
    await v.client.close();
  });
});

describe('HTTP', () => {
  it('/healthz, static files with cache headers, 404s', async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, db: true, redis: null, fanout: null, node: 'test-1' });

    const js = await fetch(`${base}/widget.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await js.text()).toBe('console.log("widget")');
    const etag = js.headers.get('etag')!;
    expect((await fetch(`${base}/widget.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);

    const home = await fetch(`${base}/`);
    expect(home.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await home.text()).toContain('<title>demo</title>');
    expect(await (await fetch(`${base}/inbox`)).text()).toContain('<title>inbox</title>');
    expect((await fetch(`${base}/../etc/passwd`)).status).toBe(404);
    expect((await fetch(`${base}/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
    expect((await fetch(`${base}/nope.js`)).status).toBe(404);
  });
});
