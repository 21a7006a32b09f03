/**
 * The Redis backend on a real Redis Cluster (three redis-server masters joined by
 * `redis-cli --cluster create`), reached by a redis+cluster:// URL: the whole contract, the
 * global rate-limit script, and a document put, each of whose keys must hash to one slot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, twoPops } from '../../test/support/redis-server.js';
import { clusterContract } from './contract.js';
import { RedisCounters } from './redis-counters.js';
import { RedisLink } from './redis-link.js';

let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
beforeAll(async () => {
  cluster = await startRedisCluster(3);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

clusterContract('redis cluster (two PoPs, three masters)', async () => {
  const { a, b, close } = await twoPops(cluster.url);
  return { a, b, sharedLocks: false, close };
});

describe('redis backend on a Redis Cluster', () => {
  it('global counts: 10 per 10 s across two PoPs lets exactly 10 through, on keys spread over the shards', async () => {
    const links = [new RedisLink(cluster.url), new RedisLink(cluster.url)];
    try {
      for (const l of links) expect(await l.ready()).toBe(true);
      const [a, b] = links.map((link) => new RedisCounters({ link, pops: 2, prefix: 'c:' }));
      const rule = { signature: `r-${Math.random()}`, requests: 10, periodMs: 10_000, timeoutMs: 60_000 };
      // 20 client keys: their counters land on different slots, hence on different masters.
      for (let k = 0; k < 20; k++) {
        const decisions = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? b : a).hit(rule, `192.0.2.${k}`, Date.now())));
        expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
      }
    } finally {
      for (const l of links) await l.close();
    }
  });
});
