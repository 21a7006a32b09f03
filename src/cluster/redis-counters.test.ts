/** Global rate-limit counting on a real redis-server: two PoPs' RedisCounters, then Redis killed. */
import { afterEach, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../test/support/redis-server.js';
import type { LimitDecision, LimitRule } from '../shield/node-limits.js';
import { RedisCounters, type RedisCountersOptions } from './redis-counters.js';
import { RedisLink } from './redis-link.js';
import { RedisCluster } from './redis.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function redisServer(): Promise<TestRedis> {
  const r = await startRedis();
  cleanup.push(() => r.stop());
  return r;
}

async function pop(url: string, more: Partial<RedisCountersOptions> = {}): Promise<{ link: RedisLink; counters: RedisCounters }> {
  const link = new RedisLink(url);
  cleanup.push(() => link.close());
  expect(await link.ready()).toBe(true);
  return { link, counters: new RedisCounters({ link, pops: 2, prefix: 'c:', ...more }) };
}

const rule = (requests: number, periodMs: number, timeoutMs = 60_000): LimitRule => ({ signature: `r-${requests}-${periodMs}-${Math.random()}`, requests, periodMs, timeoutMs });
const allowed = (ds: LimitDecision[]) => ds.filter((d) => d.allowed).length;

describe('RedisCounters', () => {
  it('10 per 10 s across two PoPs lets exactly 10 through, taken in turn; one denial is fresh, the others not', async () => {
    const redis = await redisServer();
    const [a, b] = [await pop(redis.url), await pop(redis.url)];
    const r = rule(10, 10_000);
    const decisions: LimitDecision[] = [];
    for (let i = 0; i < 30; i++) decisions.push(await (i % 2 ? b : a).counters.hit(r, '192.0.2.1', Date.now()));
    expect(allowed(decisions)).toBe(10);
    expect(decisions.slice(0, 10).every((d) => d.allowed)).toBe(true);
    expect(decisions[9]).toMatchObject({ allowed: true, remaining: 0 });
    const denied = decisions.slice(10) as Extract<LimitDecision, { allowed: false }>[];
    expect(denied.filter((d) => d.fresh)).toHaveLength(1);
    expect(denied[0]).toMatchObject({ fresh: true });
    expect(denied[0].retryAfterMs).toBeGreaterThanOrEqual(60_000 - 100);
    // Another key has its own allowance.
    expect(await b.counters.hit(r, '192.0.2.2', Date.now())).toMatchObject({ allowed: true, remaining: 9 });
  });

  it('hits racing from both PoPs at once: still exactly 10', async () => {
    const redis = await redisServer();
    const [a, b] = [await pop(redis.url), await pop(redis.url)];
    const r = rule(10, 10_000);
    const all = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? b : a).counters.hit(r, 'k', Date.now())));
    expect(allowed(all)).toBe(10);
    expect(all.filter((d) => !d.allowed && d.fresh)).toHaveLength(1);
  });

  it('one command per counted hit; a key known to be held costs none', async () => {
    const redis = await redisServer();
    const a = await pop(redis.url);
    const r = rule(50, 10_000);
    await a.counters.hit(r, 'warm', Date.now()); // loads the script (EVALSHA, NOSCRIPT, EVAL)
    const before = a.link.commands;
    for (let i = 0; i < 60; i++) await a.counters.hit(r, 'k', Date.now());
    expect(a.link.commands - before).toBe(51); // 50 allowed + the one that put it over
    expect(await a.counters.hit(r, 'k', Date.now())).toMatchObject({ allowed: false, fresh: false });
    expect(a.link.commands - before).toBe(51);
  });

  it('the allowance comes back at the rate: 2 per 200 ms allows one more 100 ms later', async () => {
    const redis = await redisServer();
    const a = await pop(redis.url);
    const r = rule(2, 200, 1);
    expect(allowed([await a.counters.hit(r, 'k', Date.now()), await a.counters.hit(r, 'k', Date.now())])).toBe(2);
    expect((await a.counters.hit(r, 'k', Date.now())).allowed).toBe(false);
    await new Promise((res) => setTimeout(res, 120));
    expect(await a.counters.hit(r, 'k', Date.now())).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('Redis down, onRedisError local: each PoP allows ⌊10 ÷ 2⌋ = 5 on its own, and says it fell back', async () => {
    const redis = await redisServer();
    const [a, b] = [await pop(redis.url), await pop(redis.url)];
    const r = rule(10, 10_000);
    await redis.kill();
    const atA: LimitDecision[] = [];
    const atB: LimitDecision[] = [];
    for (let i = 0; i < 12; i++) {
      atA.push(await a.counters.hit(r, 'k', Date.now()));
      atB.push(await b.counters.hit(r, 'k', Date.now()));
    }
    expect(allowed(atA)).toBe(5);
    expect(allowed(atB)).toBe(5);
    expect(a.counters.fallbacks).toBe(12);
    expect(a.link.connected).toBe(false);
  });

  it('Redis down, onRedisError allow: every hit passes', async () => {
    const redis = await redisServer();
    const a = await pop(redis.url, { onRedisError: 'allow' });
    await redis.kill();
    const r = rule(10, 10_000);
    const ds: LimitDecision[] = [];
    for (let i = 0; i < 20; i++) ds.push(await a.counters.hit(r, 'k', Date.now()));
    expect(allowed(ds)).toBe(20);
  });

  it("RedisCluster.counters shares the PoP's connection and prefix", async () => {
    const redis = await redisServer();
    const cluster = new RedisCluster({ url: redis.url, member: 'pop-a', prefix: 'pc:' });
    cleanup.push(() => cluster.close());
    expect(await cluster.ready()).toBe(true);
    const counters = cluster.counters({ pops: 3 });
    const before = cluster.link.commands;
    expect(await counters.hit(rule(3, 10_000), 'k', Date.now())).toMatchObject({ allowed: true, remaining: 2 });
    expect(cluster.link.commands).toBeGreaterThan(before);
  });

  it('a rule the script cannot count exactly is refused with a RangeError', async () => {
    const redis = await redisServer();
    const a = await pop(redis.url);
    expect(() => a.counters.hit({ signature: 's', requests: 1.5, periodMs: 1000, timeoutMs: 1000 }, 'k', Date.now())).toThrow(RangeError);
    expect(() => a.counters.hit({ signature: 's', requests: 1, periodMs: 0, timeoutMs: 1000 }, 'k', Date.now())).toThrow(/1 per 0 ms/);
  });

  it('a rule without a timeout holds nothing: a denied key is asked about again', async () => {
    const redis = await redisServer();
    const a = await pop(redis.url);
    const r = rule(1, 10_000, 0);
    expect((await a.counters.hit(r, 'k', Date.now())).allowed).toBe(true);
    expect(await a.counters.hit(r, 'k', Date.now())).toMatchObject({ allowed: false, fresh: true });
    const before = a.link.commands;
    expect((await a.counters.hit(r, 'k', Date.now())).allowed).toBe(false);
    expect(a.link.commands).toBe(before + 1);
  });
});
