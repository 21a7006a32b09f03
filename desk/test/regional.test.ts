/**
 * Regional nodes (desk/REGIONAL.md) over real sockets: a core Desk node (SQLite in memory) and a
 * regional node relaying to it, with its journal in a temporary file. Visitors on the regional
 * node, operators on the core.
 */
import { LocalStorage } from '../src/attachments/local-storage.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../src/regional/journal.js';
import { startRegionalNode, type RegionalNode } from '../src/regional/regional-node.js';
import { seedDemo } from '../src/seed.js';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { openStore, type DeskStore } from '../src/store/index.js';
import { DeskClient, login, operator, until, visitor } from './support/desk-client.js';
import { holdProxy } from './support/hold-proxy.js';

const SECRET = 'regional-test-secret';
const silent = pino({ level: 'silent' });
const publicDir = path.resolve('desk/dist/public');
let dir: string;
let store: DeskStore;
let core: DeskNode;
let coreBase: string;
let token: string;
const regionals: RegionalNode[] = [];

async function regional(opts: { journal?: string; secret?: string; core?: string | string[]; replayGraceMs?: number } = {}): Promise<{ node: RegionalNode; base: string }> {
  const node = await startRegionalNode({
    port: 0,
    core: opts.core ?? coreBase,
    secret: opts.secret ?? SECRET,
    journal: opts.journal ?? path.join(dir, `journal-${regionals.length}.db`),
    nodeId: `regional-${regionals.length}`,
    publicDir,
    log: silent,
    replayGraceMs: opts.replayGraceMs ?? 200,
    replayEveryMs: 100,
  });
  regionals.push(node);
  return { node, base: `http://127.0.0.1:${node.port}` };
}

async function health(base: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/healthz`);
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'desk-regional-'));
  store = await openStore('sqlite::memory:');
  await seedDemo(store);
  core = await startDeskNode({ port: 0, store, nodeId: 'core', log: silent, regionalSecret: SECRET, publicDir, attachments: { storage: new LocalStorage(path.join(dir, 'files')) } });
  coreBase = `http://127.0.0.1:${core.port}`;
  token = await login(coreBase);
});

afterAll(async () => {
  for (const r of regionals) await r.close();
  await core?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a visitor on a regional node', () => {
  it('is welcomed by the core; a send is accepted by the node, then acknowledged by the core', async () => {
    const { node, base } = await regional();
    await until(async () => (await health(base)).status === 200, 5000, 'regional healthy');
    expect((await health(base)).body).toMatchObject({ ok: true, role: 'regional', core: true, journal: 0, workspaces: 0 });
    const op = await operator(coreBase, token);

    const v = await visitor(base, { page: 'https://shop.example/' }, { headers: { 'x-outpost-country': 'SG', 'user-agent': 'TestBrowser/2' } });
    expect(v.welcome).toMatchObject({ workspace: { id: 'w_demo' }, messages: [] });
    v.client.send({ type: 'message.send', clientId: 'k_r1', body: 'Hello from Singapore' });
    // The order is the point: the node's accept comes first, the core's ack (with the seq) after.
    const first = await v.client.next((e) => e.type === 'message.accepted' || e.type === 'message.ack');
    expect(first).toEqual({ type: 'message.accepted', clientId: 'k_r1' });
    expect(await v.client.next('message.ack')).toMatchObject({ clientId: 'k_r1', seq: 1, conversation: v.conversation });
    const seen = await op.client.next('message.new');
    expect(seen.message).toMatchObject({ seq: 1, body: 'Hello from Singapore', author: { kind: 'visitor' } });
    // The core saw the client's own upgrade (country, user agent), relayed by the node.
    const update = await op.client.next('conversation.update');
    expect(update.conversation.visitor.meta).toMatchObject({ country: 'SG', userAgent: 'TestBrowser/2', page: 'https://shop.example/' });
    await until(() => node.journal.size === 0, 2000, 'journal empty after the ack');

    // The operator's reply comes back through the node.
    op.client.send({ type: 'message.send', conversation: v.conversation, clientId: 'k_o1', body: 'Hi! How can I help?' });
    expect((await v.client.next((e) => e.type === 'message.new' && e.message.seq === 2)).message).toMatchObject({ body: 'Hi! How can I help?' });
    // A resend of the same clientId is accepted again and stored once.
    v.client.send({ type: 'message.send', clientId: 'k_r1', body: 'Hello from Singapore' });
    expect(await v.client.next('message.ack')).toMatchObject({ clientId: 'k_r1', seq: 1 });
    expect((await store.messagesAfter(v.conversation, 0)).map((m) => m.clientId)).toEqual(['k_r1', 'k_o1']);
    await v.client.close();
    await op.client.close();
  });

  it('serves the widget from its own disk and passes the API to the core', async () => {
    const { base } = await regional();
    const widget = await fetch(`${base}/widget.js`);
    expect(widget.status).toBe(200);
    expect(widget.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await widget.text()).toContain('message.accepted');
    const viaNode = await login(base);
    const me = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${viaNode}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ operator: { email: 'ada@acme.test' } });
    const bad = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"ada@acme.test","password":"wrong"}' });
    expect(bad.status).toBe(401);
  });

  it('passes uploads and files to the core, bodies streamed', async () => {
    const { base } = await regional();
    const v = await visitor(base);
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100_000, 1)]);
    const up = await fetch(`${base}/api/attachments?workspace=w_demo&conversation=${v.conversation}&name=far.png`, {
      method: 'POST',
      headers: { 'content-type': 'image/png', 'x-desk-visitor': v.session },
      body: png,
    });
    expect(up.status).toBe(201);
    const { attachment } = (await up.json()) as { attachment: { url: string } };
    const file = await fetch(base + attachment.url);
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await file.arrayBuffer()).equals(png)).toBe(true);
    await v.client.close();
  });

  it('a send the client left before the core acknowledged is still stored', async () => {
    const { node, base } = await regional();
    const v = await visitor(base);
    v.client.send({ type: 'message.send', clientId: 'k_leave', body: 'sent, then the tab closed' });
    await v.client.next('message.accepted');
    v.client.ws.terminate();
    await until(async () => (await store.messagesAfter(v.conversation, 0)).some((m) => m.clientId === 'k_leave'), 5000, 'stored');
    await until(() => node.journal.size === 0, 5000, 'journal empty');
  });
});

describe('a new visitor', () => {
  it('is welcomed and its sends accepted by the node while the core has not answered yet; the core then knows it by what the node gave', async () => {
    const proxy = await holdProxy(core.port);
    const { node, base } = await regional({ core: `http://127.0.0.1:${proxy.port}` });
    const op = await operator(coreBase, token);
    // The first visitor of the workspace on this node: its hello goes to the core, and the node learns the workspace.
    const warm = await visitor(base);
    expect(warm.welcome.availability.available).toBe(true);
    await until(async () => (await health(base)).body.workspaces === 1, 5000, 'the workspace known');
    await warm.client.close();

    proxy.hold(); // nothing reaches the core from now on
    const v = await visitor(base, { page: 'https://shop.example/held' });
    expect(v.welcome).toMatchObject({ workspace: { id: 'w_demo', name: expect.any(String) }, messages: [], availability: { available: true } });
    expect(v.welcome.conversation).toEqual({ id: expect.stringMatching(/^c_/), state: 'open', visitorReadSeq: 0, operatorReadSeq: 0, lastSeq: 0, rating: null });
    // What the core's welcome would say of email and attachments, the node's says too.
    expect(v.welcome).toMatchObject({ email: false, attachments: { maxBytes: 10 * 1024 * 1024 } });
    v.client.send({ type: 'message.send', clientId: 'k_held', body: 'while the core is far' });
    expect(await v.client.next('message.accepted')).toEqual({ type: 'message.accepted', clientId: 'k_held' });
    expect(await store.visitorByToken(v.session)).toBeUndefined();
    expect(node.journal.size).toBe(1);

    proxy.release();
    expect(await v.client.next('message.ack')).toMatchObject({ clientId: 'k_held', seq: 1, conversation: v.conversation });
    expect((await op.client.next('message.new')).message).toMatchObject({ conversation: v.conversation, body: 'while the core is far' });
    const stored = await store.visitorByToken(v.session);
    expect(stored?.meta).toMatchObject({ page: 'https://shop.example/held' });
    expect((await store.getConversation(v.conversation))?.visitorId).toBe(stored?.id);
    // The core's own welcome agreed, so the client never saw a second one.
    await v.client.none('visitor.welcome');
    await v.client.close();
    await op.client.close();
    await proxy.close();
  });

  it('a site the workspace does not allow is refused at the upgrade once the node knows the workspace', async () => {
    await store.createWorkspace({ id: 'w_strict', name: 'Strict', allowedOrigins: ['https://shop.example'], emailDomain: 'strict.test', webhookSecret: 'x' });
    const { base } = await regional();
    const url = `${base.replace('http', 'ws')}/ws?workspace=w_strict`;
    // Not known yet: the core refuses at the hello.
    const first = await DeskClient.open(url, { headers: { origin: 'https://evil.example' } });
    first.send({ type: 'visitor.hello', workspace: 'w_strict' });
    expect((await first.closed).code).toBe(4403);
    await until(
      async () =>
        (await DeskClient.open(url, { headers: { origin: 'https://evil.example' } }).then(
          (c) => (c.close(), 0),
          (e: { status?: number }) => e.status,
        )) === 403,
    );
    const allowed = await visitor(base, { workspace: 'w_strict' }, { query: '?workspace=w_strict', headers: { origin: 'https://shop.example' } });
    expect(allowed.welcome.workspace).toEqual({ id: 'w_strict', name: 'Strict' });
    await allowed.client.close();
  });

  it('mint means nothing from a client that is not a regional node', async () => {
    const chosen = 'x'.repeat(40);
    const v = await visitor(coreBase, { session: chosen, mint: { conversation: 'c_chosen_by_client' } } as never);
    expect(v.session).not.toBe(chosen);
    expect(v.conversation).not.toBe('c_chosen_by_client');
    await v.client.close();
  });
});

describe('the journal', () => {
  it('what a dead node had accepted is sent by the next one on the same disk, once', async () => {
    // A visitor known to the core, whose send a node accepted and then died with.
    const v = await visitor(coreBase);
    const op = await operator(coreBase, token);
    const file = path.join(dir, 'dead-node.db');
    const journal = new Journal(file);
    const attach = JSON.stringify({ type: 'regional.attach', upgrade: { origin: 'https://shop.example', sameOrigin: false, country: 'AU', userAgent: 'x' } });
    const hello = JSON.stringify({ type: 'visitor.hello', workspace: 'w_demo', session: v.session });
    for (const [i, body] of ['first', 'second'].entries()) {
      journal.add({ key: `v:${v.session}:k_j${i}`, attach, hello, frame: JSON.stringify({ type: 'message.send', clientId: `k_j${i}`, body }), acceptedAt: Date.now() - 1000 });
    }
    journal.close();

    const { node } = await regional({ journal: file });
    const got = [await op.client.next('message.new'), await op.client.next('message.new')].map((e) => e.message.body);
    expect(got).toEqual(['first', 'second']);
    await until(() => node.journal.size === 0, 5000, 'journal empty');
    // The visitor (still on the core) saw them live too, in order.
    expect((await v.client.next('message.new')).message.body).toBe('first');
    expect((await v.client.next('message.new')).message.body).toBe('second');
    expect((await store.messagesAfter(v.conversation, 0)).map((m) => m.body)).toEqual(['first', 'second']);
    await v.client.close();
    await op.client.close();
  });
});

describe('the journal, for a visitor welcomed by a node that died before the core heard of it', () => {
  it('the replay creates the visitor and the conversation the node gave, and stores the sends there', async () => {
    const file = path.join(dir, 'minted.db');
    const journal = new Journal(file);
    const session = 'minted-session-token-0123456789abcdef';
    const attach = JSON.stringify({ type: 'regional.attach', upgrade: { sameOrigin: false, country: 'AU' } });
    const hello = JSON.stringify({ type: 'visitor.hello', workspace: 'w_demo', session, mint: { conversation: 'c_minted_by_a_dead_node' } });
    journal.add({ key: `v:${session}:k_m1`, attach, hello, frame: JSON.stringify({ type: 'message.send', clientId: 'k_m1', body: 'first words' }), acceptedAt: Date.now() - 1000 });
    journal.close();
    const { node } = await regional({ journal: file });
    await until(() => node.journal.size === 0, 5000, 'journal empty');
    const visitorRow = await store.visitorByToken(session);
    expect(visitorRow).toBeDefined();
    const conv = await store.getConversation('c_minted_by_a_dead_node');
    expect(conv?.visitorId).toBe(visitorRow!.id);
    expect((await store.messagesAfter('c_minted_by_a_dead_node', 0)).map((m) => m.body)).toEqual(['first words']);
  });
});

describe('the journal, for a hello the core refuses', () => {
  it('rows whose hello is refused (a site the workspace does not allow) are dropped, not replayed forever', async () => {
    await store.createWorkspace({ id: 'w_refusing', name: 'Refusing', allowedOrigins: ['https://shop.example'], emailDomain: 'refusing.test', webhookSecret: 'x' });
    const file = path.join(dir, 'refused.db');
    const journal = new Journal(file);
    const session = 'refused-session-token-0123456789abcdef';
    const attach = JSON.stringify({ type: 'regional.attach', upgrade: { origin: 'https://evil.example', sameOrigin: false } });
    const hello = JSON.stringify({ type: 'visitor.hello', workspace: 'w_refusing', session, mint: { conversation: 'c_refused_by_the_core' } });
    journal.add({ key: `v:${session}:k_x`, attach, hello, frame: JSON.stringify({ type: 'message.send', clientId: 'k_x', body: 'never' }), acceptedAt: Date.now() - 1000 });
    journal.close();
    const { node } = await regional({ journal: file });
    await until(() => node.journal.size === 0, 5000, 'journal empty');
    expect(await store.visitorByToken(session)).toBeUndefined();
    expect(await store.getConversation('c_refused_by_the_core')).toBeUndefined();
  });
});

describe('failures', () => {
  it('a wrong secret: the core refuses the node, which says so on /healthz and refuses clients', async () => {
    const { base } = await regional({ secret: 'wrong' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await health(base)).toMatchObject({ status: 503, body: { ok: false, core: false } });
    await expect(DeskClient.open(`${base.replace('http', 'ws')}/ws`)).rejects.toMatchObject({ status: 503 });
  });

  it('the core refuses a regional socket without a secret, and one that does not attach first', async () => {
    const refused = await DeskClient.open(`${coreBase.replace('http', 'ws')}/ws`, { headers: { 'x-desk-regional': 'nope' } }).catch((e: { status?: number }) => e.status);
    expect(refused).toBe(403);
    const c = await DeskClient.open(`${coreBase.replace('http', 'ws')}/ws`, { headers: { 'x-desk-regional': SECRET } });
    c.send({ type: 'visitor.hello', workspace: 'w_demo' });
    expect(await c.closed).toMatchObject({ code: 4400 });
  });

  it('the core goes away: clients are closed with 1012 and the node turns unhealthy; back, it takes clients again', async () => {
    const coreStore = await openStore('sqlite::memory:');
    await seedDemo(coreStore);
    let second = await startDeskNode({ port: 0, store: coreStore, nodeId: 'core-2', log: silent, regionalSecret: SECRET });
    const corePort = second.port;
    const { base } = await regional({ core: `http://127.0.0.1:${corePort}` });
    const v = await visitor(base);
    await second.close();
    expect((await v.client.closed).code).toBeOneOf([1001, 1012]);
    await until(async () => (await health(base)).status === 503, 5000, 'unhealthy');

    second = await startDeskNode({ port: corePort, store: coreStore, nodeId: 'core-2', log: silent, regionalSecret: SECRET });
    await until(async () => (await health(base)).status === 200, 5000, 'healthy again');
    const back = await visitor(base, { session: v.session });
    expect(back.session).toBe(v.session);
    await back.client.close();
    await second.close();
    await coreStore.close();
  });

  it('a core of two nodes: when the first goes away, the node moves to the second at once', async () => {
    const shared = await openStore('sqlite::memory:');
    await seedDemo(shared);
    const a = await startDeskNode({ port: 0, store: shared, nodeId: 'core-a', log: silent, regionalSecret: SECRET });
    const b = await startDeskNode({ port: 0, store: shared, nodeId: 'core-b', log: silent, regionalSecret: SECRET });
    const { base } = await regional({ core: [`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`] });
    const v = await visitor(base);
    await a.close();
    expect((await v.client.closed).code).toBeOneOf([1001, 1012]);
    const back = await visitor(base, { session: v.session });
    expect(back.session).toBe(v.session);
    back.client.send({ type: 'message.send', clientId: 'k_b1', body: 'through the second core node' });
    expect(await back.client.next('message.ack')).toMatchObject({ clientId: 'k_b1', seq: 1 });
    expect((await health(base)).status).toBe(200);
    await back.client.close();
    await b.close();
    await shared.close();
  });

  it('binary frames and bad JSON reach the core, which answers with its errors', async () => {
    const { base } = await regional();
    const v = await visitor(base);
    v.client.send('{not json');
    expect(await v.client.next('error')).toMatchObject({ code: 'bad_event' });
    v.client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await v.client.next('error')).toMatchObject({ code: 'bad_event' });
    expect(v.client.ws.readyState).toBe(WebSocket.OPEN);
    await v.client.close();
  });
});
