import { describe, expect, it } from 'vitest';
import { Breaker } from './redis-breaker.js';
import { parseRedisUrl } from './redis-link.js';

describe('parseRedisUrl', () => {
  it('redis:// and rediss:// go to ioredis as they are', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2')).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379/2' });
    expect(parseRedisUrl('rediss://u:p@cache.example:6380')).toMatchObject({ kind: 'single' });
  });

  it('redis+sentinel:// names the sentinels, the master, the password and the db', () => {
    expect(parseRedisUrl('redis+sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster/3')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      password: 's@cret',
      db: 3,
    });
  });

  it('redis+cluster:// names the seed nodes', () => {
    expect(parseRedisUrl('redis+cluster://a:7000,b:7001')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
      password: undefined,
    });
  });

  it('refuses what it cannot use, saying why', () => {
    expect(() => parseRedisUrl('127.0.0.1:6379')).toThrow(/not a URL/);
    expect(() => parseRedisUrl('http://x')).toThrow(/unknown scheme http/);
    expect(() => parseRedisUrl('redis+sentinel://a:26379')).toThrow(/names its master/);
    expect(() => parseRedisUrl('redis+sentinel://a:26379/m/x')).toThrow(/bad db/);
    expect(() => parseRedisUrl('redis+cluster://a:b:c')).toThrow(/bad host/);
  });
});

describe('Breaker', () => {
  it('opens after 3 failures in a row, answers fallbacks without calling, probes once after the backoff, doubles it on a failed probe, closes on success', async () => {
    let t = 0;
    const b = new Breaker({ failures: 3, backoffMs: 100, maxBackoffMs: 300, now: () => t });
    let calls = 0;
    const fail = () => {
      calls++;
      return Promise.reject(new Error('down'));
    };
    const ok = () => {
      calls++;
      return Promise.resolve('up');
    };
    for (let i = 0; i < 3; i++) expect(await b.run(fail, () => 'fb')).toBe('fb');
    expect(b.open).toBe(true);
    expect(await b.run(ok, () => 'fb')).toBe('fb');
    expect(calls).toBe(3);
    t = 100; // the probe goes, and fails: open for 200 now
    expect(await b.run(fail, () => 'fb')).toBe('fb');
    expect(calls).toBe(4);
    t = 250;
    expect(await b.run(ok, () => 'fb')).toBe('fb');
    expect(calls).toBe(4);
    t = 300;
    expect(await b.run(ok, () => 'fb')).toBe('up');
    expect(b.open).toBe(false);
    expect(b.lastError).toBeUndefined();
    expect(b.fallbacks).toBe(6);
  });

  it('a failure between successes does not open it', async () => {
    const b = new Breaker({ failures: 3 });
    for (let i = 0; i < 10; i++)
      await b.run(
        () => (i % 3 === 2 ? Promise.reject(new Error('x')) : Promise.resolve(1)),
        () => 0,
      );
    expect(b.open).toBe(false);
  });
});
