import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../test/support/redis-server.js';
import { clusterContract } from './contract.js';
import { RedisCluster } from './redis.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

/** Two PoPs on one Redis, each test with its own prefix so nothing leaks between tests. */
async function twoPops(url = redis.url) {
  const prefix = `t${Math.random().toString(36).slice(2, 8)}:`;
  const a = new RedisCluster({ url, member: 'pop-a', prefix });
  const b = new RedisCluster({ url, member: 'pop-b', prefix });
  expect(await a.ready()).toBe(true);
  expect(await b.ready()).toBe(true);
  return { a, b, close: async () => { await a.close(); await b.close(); } };
}

clusterContract('redis (two PoPs)', async () => {
  const { a, b, close } = await twoPops();
  return { a, b, sharedLocks: false, close };
});

describe('redis backend', () => {
  it('a nonce key expires with its claim: claimable again after expiresAt', async () => {
    const { a, b, close } = await twoPops();
    try {
      expect(await a.nonces.claim('short', Date.now() + 50)).toBe(true);
      expect(await b.nonces.claim('short', Date.now() + 50)).toBe(false);
      await new Promise((r) => setTimeout(r, 80));
      expect(await b.nonces.claim('short', Date.now() + 50)).toBe(true);
    } finally {
      await close();
    }
  });
});
