/**
 * The Redis backend when Redis goes away, with real processes: redis-server killed (SIGKILL),
 * paused (SIGSTOP: the port open, nothing answers) and restarted, and one PoP cut off from it by a
 * TCP hop while the other keeps it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cutter, startRedis, type Cutter, type TestRedis } from '../../test/support/redis-server.js';
import { RedisCluster, type RedisClusterOptions } from './redis.js';
import { compareIds, GAP_TOPIC, type GapNotice } from './redis-events.js';
import type { EventMessage } from './types.js';

const until = async (what: string, check: () => boolean, ms = 8000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** How long a call may take past its 250 ms deadline on a loaded 2-core machine. */
const DEADLINE_MS = 250;
const MARGIN_MS = 750;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function redisServer(options?: { appendonly?: boolean }): Promise<TestRedis> {
  const r = await startRedis(options);
  cleanup.push(() => r.stop());
  return r;
}

async function hop(port: number): Promise<Cutter> {
  const h = await cutter(port);
  cleanup.push(() => h.close());
  return h;
}

async function pop(url: string, member: string, prefix: string, more: Partial<RedisClusterOptions> = {}): Promise<RedisCluster> {
  const c = new RedisCluster({ url, member, prefix, ...more });
  cleanup.push(() => c.close());
  expect(await c.ready()).toBe(true);
  return c;
}

function listen(c: RedisCluster, topic = '*'): EventMessage[] {
  const got: EventMessage[] = [];
  c.events.subscribe(topic, (m) => got.push(m));
  return got;
}

async function timed<T>(p: Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await p;
  return [v, performance.now() - t0];
}

describe('redis backend: Redis killed', () => {
  it('calls answer their fallbacks promptly without throwing; health says disconnected; a publish reaches the PoP itself', async () => {
    const redis = await redisServer();
    const a = await pop(redis.url, 'pop-a', 'k:');
    await a.documents.put('config', { v: 1 });
    const got = listen(a, 'purge');
    await redis.kill();
    await until('the disconnect', () => !a.health().connected);

    const [claimed, ms] = await timed(a.nonces.claim('n1', Date.now() + 60_000));
    expect(claimed).toBe(true);
    expect(ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(await a.documents.get('config')).toMatchObject({ version: 1, value: { v: 1 } });
    await expect(a.documents.get('never-read')).rejects.toThrow(/Redis unavailable/);
    await expect(a.documents.put('config', { v: 2 })).rejects.toThrow(/Redis unavailable/);
    expect(() => a.events.publish('purge', { path: '/x' })).not.toThrow();
    await until('the local delivery', () => got.length === 1);
    expect(got[0]).toMatchObject({ topic: 'purge', data: { path: '/x' }, from: 'pop-a' });

    const h = a.health();
    expect(h).toMatchObject({ backend: 'redis', connected: false });
    expect(h.error).toBeTruthy();
    expect(h.fallbacks).toBeGreaterThanOrEqual(3);
    expect(a.stats().queued).toBe(1);
  });
});

describe('redis backend: Redis paused (SIGSTOP)', () => {
  it('a call returns within its deadline; then the breaker answers at once; after SIGCONT Redis is used again', async () => {
    const redis = await redisServer();
    const a = await pop(redis.url, 'pop-a', 'p:');
    expect(await a.nonces.claim('before', Date.now() + 60_000)).toBe(true);
    redis.pause();
    try {
      for (let i = 0; i < 3; i++) {
        const [claimed, ms] = await timed(a.nonces.claim(`stopped-${i}`, Date.now() + 60_000));
        expect(claimed).toBe(true); // the fallback: allowed
        expect(ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
      }
      expect(a.health()).toMatchObject({ connected: false, fallbacks: 3 });
      expect(a.link.breaker.open).toBe(true);
      // Open: answered without sending anything.
      const sent = a.link.commands;
      expect(await a.nonces.claim('before', Date.now() + 60_000)).toBe(true);
      expect(a.link.commands).toBe(sent);
      expect(a.health().fallbacks).toBe(4);
    } finally {
      redis.resume();
    }
    // The probe after the open period goes to Redis, which remembers the first claim.
    await until('redis answering again', () => a.health().connected, 10_000);
    let answer = true;
    await until(
      'the real answer',
      () => {
        void a.nonces.claim('before', Date.now() + 60_000).then((v) => (answer = v));
        return answer === false;
      },
      10_000,
    );
  });

  it('the event reader outlives a pause longer than its read deadline: what was published during it arrives after SIGCONT, in order', async () => {
    const redis = await redisServer();
    const a = await pop(redis.url, 'pop-a', 'ps:');
    const b = await pop(redis.url, 'pop-b', 'ps:');
    const atA = listen(a, 'purge');
    redis.pause();
    try {
      for (let i = 0; i < 5; i++) b.events.publish('purge', i);
      await new Promise((r) => setTimeout(r, 3500)); // past the reader's deadline (1 s block + 1.5 s)
      expect(a.stats().readErrors).toBeGreaterThanOrEqual(1);
      expect(a.health().connected).toBe(false);
    } finally {
      redis.resume();
    }
    await until('the five at A', () => atA.length === 5, 10_000);
    expect(atA.map((m) => m.data)).toEqual([0, 1, 2, 3, 4]);
    b.events.publish('purge', 5);
    await until('one more', () => atA.length === 6);
    await until('A healthy', () => a.health().connected);
  });
});

describe('redis backend: Redis restarted', () => {
  it('both PoPs reconnect; what a PoP published while Redis was down is sent on reconnect and read by the other, after a gap notice (Redis lost its data)', async () => {
    const redis = await redisServer();
    const a = await pop(redis.url, 'pop-a', 'r:');
    const b = await pop(redis.url, 'pop-b', 'r:');
    const atA = listen(a);
    b.events.publish('purge', 0);
    await until('the first message', () => atA.length === 1);
    await redis.kill();
    await until('both disconnected', () => !a.health().connected && !b.health().connected);
    for (let i = 1; i <= 5; i++) b.events.publish('purge', i);
    expect(b.stats().queued).toBe(5);
    await redis.restart();
    await until('both reconnected', () => a.health().connected && b.health().connected);
    await until('the five queued messages at A', () => atA.filter((m) => m.topic === 'purge').length === 6);
    expect(atA.filter((m) => m.topic === 'purge').map((m) => m.data)).toEqual([0, 1, 2, 3, 4, 5]);
    const gaps = atA.filter((m) => m.topic === GAP_TOPIC);
    expect(gaps.length).toBeGreaterThanOrEqual(1);
    // The gap comes before anything read from the new stream.
    expect(atA.indexOf(gaps[0])).toBeLessThan(atA.findIndex((m) => m.data === 1));
    expect(b.stats().queued).toBe(0);
  });

  it('while Redis is down the queue keeps the newest queueLimit messages and counts the rest as dropped', async () => {
    const redis = await redisServer();
    const a = await pop(redis.url, 'pop-a', 'q:');
    const b = await pop(redis.url, 'pop-b', 'q:', { events: { queueLimit: 10 } });
    const atA = listen(a, 'purge');
    await redis.kill();
    await until("B's command connection closed", () => !b.link.connected);
    for (let i = 0; i < 15; i++) b.events.publish('purge', i);
    expect(b.stats()).toMatchObject({ queued: 10, dropped: 5 });
    await redis.restart();
    await until('the ten at A', () => atA.length === 10);
    expect(atA.map((m) => m.data)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it('with an append-only file Redis keeps the stream: a restart costs no gap, the messages come in order', async () => {
    const redis = await redisServer({ appendonly: true });
    const a = await pop(redis.url, 'pop-a', 'aof:');
    const b = await pop(redis.url, 'pop-b', 'aof:');
    const atA = listen(a);
    for (let i = 0; i < 3; i++) b.events.publish('health', i);
    await until('three messages', () => atA.length === 3);
    await redis.kill(); // AOF with the default fsync everysec: a second is enough here
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 3; i < 8; i++) b.events.publish('health', i);
    await redis.restart();
    await until('eight messages', () => atA.length >= 8);
    expect(atA.map((m) => m.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(a.stats().gaps).toBe(0);
  });
});

describe('redis backend: one PoP cut off', () => {
  it('replays what the other PoP published meanwhile, in order and without a gap; its own messages reach itself at once and the other on return', async () => {
    const redis = await redisServer();
    const link = await hop(redis.port);
    const a = await pop(link.url, 'pop-a', 'c:');
    const b = await pop(redis.url, 'pop-b', 'c:');
    const atA = listen(a);
    const atB = listen(b);
    b.events.publish('purge', 'b0');
    await until('b0 at A', () => atA.length === 1);
    link.cut();
    await until('A disconnected', () => !a.health().connected);
    for (let i = 1; i <= 20; i++) b.events.publish('purge', `b${i}`);
    a.events.publish('purge', 'a1');
    await until('a1 at A itself', () => atA.some((m) => m.data === 'a1'));
    expect(b.health().connected).toBe(true);
    link.mend();
    await until('A caught up', () => atA.length === 22, 10_000);
    await until('a1 at B', () => atB.some((m) => m.data === 'a1'));
    const fromB = atA.filter((m) => m.from === 'pop-b').map((m) => m.data);
    expect(fromB).toEqual(Array.from({ length: 21 }, (_, i) => `b${i}`));
    expect(atA.filter((m) => m.data === 'a1')).toHaveLength(1); // not again when it came back from the stream
    expect(atA.some((m) => m.topic === GAP_TOPIC)).toBe(false);
  });

  it('a stream trimmed past the last id delivered: cluster:gap { since, firstAvailable } first, then the tail that is left', async () => {
    const redis = await redisServer();
    const link = await hop(redis.port);
    const events = { maxLen: 10 };
    const a = await pop(link.url, 'pop-a', 'g:', { events });
    const b = await pop(redis.url, 'pop-b', 'g:', { events });
    const atA = listen(a);
    b.events.publish('purge', -1);
    await until('the first', () => atA.length === 1);
    const since = a.stats().position!;
    link.cut();
    await until('A disconnected', () => !a.health().connected);
    for (let i = 0; i < 500; i++) b.events.publish('purge', i);
    await until('all sent', () => b.stats().queued === 0);
    link.mend();
    await until('the last message at A', () => atA.some((m) => m.data === 499), 10_000);
    const gap = atA[1] as EventMessage<GapNotice>;
    expect(gap.topic).toBe(GAP_TOPIC);
    expect(gap.data.since).toBe(since);
    const tail = atA.slice(2).map((m) => m.data as number);
    expect(tail[0]).toBeGreaterThan(0); // MAXLEN ~ trims whole nodes: fewer than 500 are left
    expect(tail).toEqual(Array.from({ length: 500 - tail[0] }, (_, i) => tail[0] + i));
    expect(compareIds(gap.data.firstAvailable, since)).toBeGreaterThan(0);
    expect(a.stats().gaps).toBe(1);
  });
});
