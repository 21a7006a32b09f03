/**
 * An atlas of two Desk nodes over a real Redis (redis-server started by the test), sharing one
 * store: a visitor on one node and an operator on the other talk in real time; a node dies and
 * its visitor resumes on the other without losing a message; Redis dies and each node keeps
 * serving its own clients, then catches them up when Redis is back.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../src/seed.js';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { openStore, type DeskStore } from '../src/store/index.js';
import { login, operator, until, visitor, type DeskClient } from './support/desk-client.js';
import { spawnDesk, type DeskProcess } from './support/desk-process.js';
import { hasRedisServer, startRedis, type TestRedis } from './support/redis.js';

/** SQLite in memory, migrated (openStore migrates). */
function newStore(): Promise<DeskStore> {
  return openStore('sqlite::memory:');
}

let redis: TestRedis;
let store: DeskStore;
const nodes: DeskNode[] = [];
const clients: DeskClient[] = [];

async function startNode(nodeId: string): Promise<{ node: DeskNode; base: string }> {
  const node = await startDeskNode({
    port: 0,
    store,
    nodeId,
    redisUrl: redis.url,
    log: pino({ level: 'silent' }),
    timings: { presenceRepublishMs: 200, presenceTtlMs: 2000 },
  });
  nodes.push(node);
  const base = `http://127.0.0.1:${node.port}`;
  await until(async () => (await health(base)).redis === true, 10_000, `${nodeId} connected to redis`);
  return { node, base };
}

async function health(base: string): Promise<{ status: number; ok: boolean; db: boolean; redis: boolean | null; node: string }> {
  const res = await fetch(`${base}/healthz`);
  return { status: res.status, ...((await res.json()) as { ok: boolean; db: boolean; redis: boolean | null; node: string }) };
}

const procs: ChildProcess[] = [];

/** A node process on the shared file and Redis, once connected to Redis. */
async function spawnNode(nodeId: string, db: string, seed: boolean): Promise<DeskProcess> {
  const node = await spawnDesk(nodeId, ['--db', `sqlite:${db}`, '--redis', redis.url, ...(seed ? ['--seed'] : [])]);
  procs.push(node.proc);
  await until(async () => (await health(node.base)).redis === true, 10_000, `${nodeId} connected to redis`);
  return node;
}

function track<T extends { client: DeskClient }>(x: T): T {
  clients.push(x.client);
  return x;
}

beforeAll(async () => {
  if (!hasRedisServer()) throw new Error('redis-server is not installed (apt-get install -y redis-server); .ci/run installs it');
  redis = await startRedis();
  store = await newStore();
  await seedDemo(store);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});

afterAll(async () => {
  await redis?.stop();
  await store?.close();
});

describe('two nodes over Redis', () => {
  it('a visitor on node A and an operator on node B talk in real time', async () => {
    const a = await startNode('fra-1');
    const b = await startNode('nyc-1');
    const token = await login(b.base);

    const v = track(await visitor(a.base));
    expect(v.welcome.availability.available).toBe(false);
    const op = track(await operator(b.base, token));
    // B's operator reaches A's visitors through the presence B publishes.
    expect(await v.client.next('presence')).toMatchObject({ available: true, operators: [{ name: 'Ada', status: 'online' }] });

    v.client.send({ type: 'message.send', clientId: 'k_a1', body: 'Hello from Frankfurt' });
    expect(await v.client.next('message.ack')).toMatchObject({ seq: 1 });
    expect((await op.client.next('message.new')).message).toMatchObject({ seq: 1, body: 'Hello from Frankfurt', conversation: v.conversation });
    expect((await op.client.next('conversation.update')).conversation).toMatchObject({ id: v.conversation, lastSeq: 1 });

    op.client.send({ type: 'typing', conversation: v.conversation, state: 'start' });
    expect(await v.client.next('typing')).toMatchObject({ state: 'start', author: { name: 'Ada' } });
    op.client.send({ type: 'message.send', conversation: v.conversation, clientId: 'k_b1', body: 'Hello from New York' });
    expect(await op.client.next('message.ack')).toMatchObject({ seq: 2 });
    expect(await v.client.next('typing')).toMatchObject({ state: 'stop' });
    expect((await v.client.next((e) => e.type === 'message.new' && e.message.seq === 2)).message.body).toBe('Hello from New York');

    // A note written on B stays with the operators, on every node.
    const op2 = track(await operator(a.base, await login(a.base, 'grace@acme.test')));
    op.client.send({ type: 'message.send', conversation: v.conversation, clientId: 'k_b2', body: 'internal', note: true });
    expect((await op2.client.next((e) => e.type === 'message.new' && e.message.note)).message.seq).toBe(3);
    await v.client.none((e) => e.type === 'message.new' && e.message.note);
  });

  it('node A dies: its visitor reconnects to B with lastSeq and loses nothing', async () => {
    const a = await startNode('fra-1');
    const b = await startNode('nyc-1');
    const op = track(await operator(b.base, await login(b.base)));
    const v = track(await visitor(a.base));
    v.client.send({ type: 'message.send', clientId: 'k_1', body: 'first' });
    await op.client.next((e) => e.type === 'message.new' && e.message.conversation === v.conversation);
    let lastSeq = (await v.client.next('message.ack')).seq as number;

    await a.node.close();
    expect((await v.client.closed).code).toBe(1001);
    for (const body of ['while', 'you', 'were', 'away']) {
      op.client.send({ type: 'message.send', conversation: v.conversation, clientId: `k_${body}`, body });
      await op.client.next((e) => e.type === 'message.ack' && e.clientId === `k_${body}`);
    }
    const back = track(await visitor(b.base, { session: v.session, lastSeq }));
    expect(back.conversation).toBe(v.conversation);
    expect(back.welcome.messages.map((m: { body: string }) => m.body)).toEqual(['while', 'you', 'were', 'away']);
    lastSeq = back.welcome.messages.at(-1).seq;
    expect(lastSeq).toBe(5);
    expect(back.welcome.availability.available).toBe(true);

    back.client.send({ type: 'message.send', clientId: 'k_2', body: 'back on B' });
    expect((await op.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_2')).message.seq).toBe(6);
  });

  it('Redis dies: each node keeps serving its own clients, /healthz says redis false, and clients catch up when it is back', async () => {
    const a = await startNode('fra-1');
    const b = await startNode('nyc-1');
    const opA = track(await operator(a.base, await login(a.base)));
    const opB = track(await operator(b.base, await login(b.base, 'grace@acme.test')));
    const vA = track(await visitor(a.base));
    const vB = track(await visitor(b.base));

    await redis.kill();
    await until(async () => (await health(a.base)).redis === false && (await health(b.base)).redis === false, 10_000, 'both nodes see redis down');
    expect(await health(a.base)).toEqual({ status: 200, ok: true, db: true, redis: false, fanout: 'redis', node: 'fra-1' });

    // Local traffic still flows on each node.
    vA.client.send({ type: 'message.send', clientId: 'k_local_a', body: 'on A' });
    expect((await opA.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_local_a')).message.seq).toBe(1);
    opA.client.send({ type: 'message.send', conversation: vA.conversation, clientId: 'k_reply_a', body: 'A answers' });
    expect((await vA.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_reply_a')).message.seq).toBe(2);
    vB.client.send({ type: 'message.send', clientId: 'k_local_b', body: 'on B' });
    expect((await opB.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_local_b')).message.seq).toBe(1);
    // Across nodes nothing arrives live: A's operator answers B's visitor, who does not hear it yet.
    opA.client.send({ type: 'message.send', conversation: vB.conversation, clientId: 'k_cross', body: 'from A while Redis is down' });
    await opA.client.next((e) => e.type === 'message.ack' && e.clientId === 'k_cross');
    await vB.client.none((e) => e.type === 'message.new' && e.message.clientId === 'k_cross', 300);

    await redis.restart();
    await until(async () => (await health(a.base)).redis === true && (await health(b.base)).redis === true, 15_000, 'both nodes reconnected');
    // B catches its visitor up from the database: exactly the missed message.
    expect((await vB.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_cross', 5000)).message).toMatchObject({
      seq: 2,
      body: 'from A while Redis is down',
    });
    // B's operator learns of A's conversation, which changed during the outage.
    expect((await opB.client.next((e) => e.type === 'conversation.update' && e.conversation.id === vA.conversation && e.conversation.lastSeq === 2, 5000)).conversation).toMatchObject({
      lastMessage: { body: 'A answers' },
    });

    // And live fan-out works again.
    vA.client.send({ type: 'message.send', clientId: 'k_after', body: 'after the outage' });
    expect((await opB.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_after')).message.seq).toBe(3);
  });

  it('as processes on one SQLite file: node A is killed (SIGKILL), its visitor resumes on B; SIGTERM closes B cleanly (1001)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'desk-atlas-'));
    try {
      const db = path.join(dir, 'desk.db');
      const a = await spawnNode('fra-1', db, true);
      const b = await spawnNode('nyc-1', db, false);
      const op = track(await operator(b.base, await login(b.base)));
      const v = track(await visitor(a.base, { page: 'https://shop.example/' }));
      v.client.send({ type: 'message.send', clientId: 'k_p1', body: 'hello from A' });
      const ack = await v.client.next('message.ack');
      expect((await op.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_p1')).message.seq).toBe(ack.seq);

      a.proc.kill('SIGKILL');
      expect((await v.client.closed).code).toBe(1006); // no close frame: a crash
      for (const body of ['are', 'you', 'there?']) {
        op.client.send({ type: 'message.send', conversation: v.conversation, clientId: `k_p_${body}`, body });
        await op.client.next((e) => e.type === 'message.ack' && e.clientId === `k_p_${body}`);
      }
      const back = track(await visitor(b.base, { session: v.session, lastSeq: ack.seq, conversation: v.conversation }));
      expect(back.conversation).toBe(v.conversation);
      expect(back.welcome.messages.map((m: { seq: number; body: string }) => [m.seq, m.body])).toEqual([
        [2, 'are'],
        [3, 'you'],
        [4, 'there?'],
      ]);

      b.proc.kill('SIGTERM');
      const [opClosed, visitorClosed, code] = await Promise.all([op.client.closed, back.client.closed, b.exit]);
      expect([opClosed.code, visitorClosed.code, code]).toEqual([1001, 1001, 0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
