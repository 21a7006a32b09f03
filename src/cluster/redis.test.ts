import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, startSentinel, twoPops, type TestRedis } from '../../test/support/redis-server.js';
import { clusterContract } from './contract.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

clusterContract('redis (two PoPs)', async () => {
  const { a, b, close } = await twoPops(redis.url);
  return { a, b, sharedLocks: false, close };
});

describe('redis backend', () => {
  it('a burst of 3000 messages in one turn while Redis answers: all delivered in order, none dropped', async () => {
    const { a, b, close } = await twoPops(redis.url);
    try {
      const got: number[] = [];
      b.events.subscribe<number>('burst', (m) => got.push(m.data));
      for (let i = 0; i < 3000; i++) a.events.publish('burst', i);
      for (let i = 0; i < 1000 && got.length < 3000; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got).toEqual([...Array(3000).keys()]);
      expect(a.stats().dropped).toBe(0);
    } finally {
      await close();
    }
  });

  it('a nonce key expires with its claim: claimable again after expiresAt', async () => {
    const { a, b, close } = await twoPops(redis.url);
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

describe('redis backend through Sentinel', () => {
  it('a redis+sentinel:// URL finds the master through a real sentinel: claims and events work', async () => {
    const sentinel = await startSentinel(redis.port);
    const url = `redis+sentinel://127.0.0.1:${sentinel.port}/mymaster`;
    const { a, b, close } = await twoPops(url);
    try {
      const got: unknown[] = [];
      b.events.subscribe('purge', (m) => got.push(m.data));
      expect(await a.nonces.claim('via-sentinel', Date.now() + 10_000)).toBe(true);
      expect(await b.nonces.claim('via-sentinel', Date.now() + 10_000)).toBe(false);
      a.events.publish('purge', '/all');
      for (let i = 0; i < 300 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got).toEqual(['/all']);
      expect(a.health()).toMatchObject({ backend: 'redis', connected: true });
    } finally {
      await close();
      await sentinel.stop();
    }
  });
});
