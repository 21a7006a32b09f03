import { describe, expect, it } from 'vitest';
import { RateLimiter, clientKey, rateLimitHeaders } from './gcra.js';

describe('RateLimiter (GCRA)', () => {
  it('allows exactly `requests` at once, then one more per period/requests', () => {
    let t = 1_000_000;
    const l = new RateLimiter({ requests: 10, periodMs: 10_000, now: () => t });
    const allowed = Array.from({ length: 11 }, () => l.hit('a').allowed);
    expect(allowed.filter(Boolean)).toHaveLength(10);
    expect(allowed[10]).toBe(false);
    expect(l.hit('a').retryAfterMs).toBe(1000);
    t += 999;
    expect(l.hit('a').allowed).toBe(false);
    t += 1;
    expect(l.hit('a').allowed).toBe(true);
    expect(l.hit('a').allowed).toBe(false);
    expect(l.hit('b').allowed).toBe(true); // keys count apart
  });

  it('reports remaining and reset, and refills over a period', () => {
    let t = 0;
    const l = new RateLimiter({ requests: 5, periodMs: 5_000, now: () => t });
    expect(l.hit('k')).toMatchObject({ allowed: true, remaining: 4, resetMs: 1000 });
    expect(l.hit('k', 3)).toMatchObject({ allowed: true, remaining: 1 });
    t += 5_000;
    expect(l.hit('k')).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('keeps the key table bounded', () => {
    const l = new RateLimiter({ requests: 1, periodMs: 60_000, maxKeys: 1000 });
    for (let i = 0; i < 100_000; i++) l.hit(`k${i}`);
    expect(l.size).toBe(1000);
    expect(l.hit('k99999').allowed).toBe(false); // the most recent keys keep their state
  });

  it('holds a mitigated key until its timeout', () => {
    let t = 0;
    const l = new RateLimiter({ requests: 1, periodMs: 1000, now: () => t });
    l.mitigate('x', 5000);
    expect(l.mitigated('x')).toBe(5000);
    t = 5000;
    expect(l.mitigated('x')).toBeUndefined();
  });
});

describe('clientKey', () => {
  it('groups IPv6 by /64 and keeps IPv4 (mapped too)', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:db8::1')).toBe(clientKey('2001:db8::ffff:1'));
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('2001:db8:0:1::1')).not.toBe(clientKey('2001:db8::1'));
    expect(clientKey('2001:0db8:0000:0000:0001:0002:0003:0004')).toBe(clientKey('2001:db8::5'));
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});

describe('rateLimitHeaders', () => {
  it('writes the policy and the state in seconds, rounded up', () => {
    expect(rateLimitHeaders('api', 100, 10_000, { remaining: 0, resetMs: 4_200 })).toEqual([
      ['ratelimit-policy', '"api";q=100;w=10'],
      ['ratelimit', '"api";r=0;t=5'],
    ]);
  });
});
