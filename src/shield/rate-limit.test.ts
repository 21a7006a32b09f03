import { describe, expect, it } from 'vitest';
import { RateLimiter, clientKey, rateLimitHeaders } from './rate-limit.js';

/** A limiter on a fake clock that starts at a Date.now-sized value. */
function limiter(requests: number, periodMs: number, maxKeys?: number) {
  const clock = { t: 1_750_000_000_000 };
  const l = new RateLimiter({ requests, periodMs, maxKeys, now: () => clock.t });
  return { l, clock };
}

describe('RateLimiter (GCRA)', () => {
  it('allows exactly `requests` at once, then one more per period/requests', () => {
    const { l, clock } = limiter(10, 10_000);
    for (let i = 0; i < 10; i++) expect(l.hit('a')).toEqual({ allowed: true, remaining: 9 - i, resetMs: (i + 1) * 1000, retryAfterMs: 0 });
    expect(l.hit('a')).toEqual({ allowed: false, remaining: 0, resetMs: 10_000, retryAfterMs: 1000 });
    clock.t += 999;
    expect(l.hit('a')).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.t += 1;
    expect(l.hit('a')).toEqual({ allowed: true, remaining: 0, resetMs: 10_000, retryAfterMs: 0 });
    expect(l.hit('a').allowed).toBe(false);
    expect(l.hit('b')).toMatchObject({ allowed: true, remaining: 9 }); // keys count apart
  });

  it('keeps exact boundaries when period/requests is not a whole number of ms', () => {
    const { l, clock } = limiter(3, 1000); // one per 333.3 ms
    expect([1, 2, 3, 4].map(() => l.hit('k').allowed)).toEqual([true, true, true, false]);
    clock.t += 333;
    expect(l.hit('k')).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.t += 1;
    expect(l.hit('k').allowed).toBe(true);
    // 3000 hits, one every 1000/3 ms on average (333, 333, 334 ms apart): none refused.
    const { l: steady, clock: c2 } = limiter(3, 1000);
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      c2.t += i % 3 === 2 ? 334 : 333;
      if (!steady.hit('k').allowed) refused++;
    }
    expect(refused).toBe(0);
  });

  it('refills over time, never above the full allowance', () => {
    const { l, clock } = limiter(10, 10_000);
    for (let i = 0; i < 10; i++) l.hit('a');
    clock.t += 5_000;
    expect([...Array(6)].map(() => l.hit('a').allowed)).toEqual([true, true, true, true, true, false]);
    clock.t += 10_000;
    expect(l.hit('a', 0)).toEqual({ allowed: true, remaining: 10, resetMs: 0, retryAfterMs: 0 });
    clock.t += 3_600_000; // an idle hour still bursts only 10
    expect([...Array(11)].filter(() => l.hit('a').allowed)).toHaveLength(10);
  });

  it('lets a steady rate at the limit through indefinitely, and refused hits cost nothing', () => {
    const { l, clock } = limiter(10, 10_000);
    for (let i = 0; i < 100; i++) {
      expect(l.hit('a')).toMatchObject({ allowed: true, remaining: 9 });
      clock.t += 1000;
    }
    for (let i = 0; i < 10; i++) l.hit('b');
    for (let i = 0; i < 1000; i++) expect(l.hit('b').allowed).toBe(false);
    clock.t += 1000;
    expect(l.hit('b').allowed).toBe(true);
  });

  it('charges costs above 1 and refuses a cost that does not fit without spending', () => {
    const { l, clock } = limiter(10, 10_000);
    expect(l.hit('k', 4)).toEqual({ allowed: true, remaining: 6, resetMs: 4000, retryAfterMs: 0 });
    expect(l.hit('k', 7)).toEqual({ allowed: false, remaining: 6, resetMs: 4000, retryAfterMs: 1000 });
    expect(l.hit('k', 6)).toMatchObject({ allowed: true, remaining: 0, resetMs: 10_000 });
    clock.t += 2000;
    expect(l.hit('k', 3)).toMatchObject({ allowed: false, remaining: 2, retryAfterMs: 1000 });
    expect(l.hit('k', 2)).toMatchObject({ allowed: true, remaining: 0 });
    // More than the whole allowance never passes; retry is when the allowance is full again.
    expect(l.hit('k', 11)).toMatchObject({ allowed: false, retryAfterMs: 10_000 });
    expect(l.hit('fresh', 11)).toMatchObject({ allowed: false, remaining: 10, retryAfterMs: 1 });
    expect(l.size).toBe(1);
    expect(() => l.hit('k', -1)).toThrow(RangeError);
    expect(() => l.hit('k', Number.NaN)).toThrow(RangeError);
  });

  it('reads the state with cost 0 without spending or tracking a new key', () => {
    const { l } = limiter(5, 5_000);
    expect(l.hit('new', 0)).toEqual({ allowed: true, remaining: 5, resetMs: 0, retryAfterMs: 0 });
    expect(l.size).toBe(0);
    l.hit('k', 2);
    expect(l.hit('k', 0)).toMatchObject({ allowed: true, remaining: 3, resetMs: 2000 });
    expect(l.hit('k', 0)).toMatchObject({ remaining: 3 });
  });

  it('caps the state when the clock steps back', () => {
    const { l, clock } = limiter(10, 10_000);
    for (let i = 0; i < 10; i++) l.hit('a');
    clock.t -= 60_000;
    // Not locked out for the extra minute: the state counts as at most one full window ahead.
    expect(l.hit('a')).toMatchObject({ allowed: false, retryAfterMs: 1000, resetMs: 10_000 });
  });

  it('takes back unused requests on refund, never more than a full allowance', () => {
    const { l, clock } = limiter(10, 10_000);
    expect(l.hit('a', 6)).toMatchObject({ allowed: true, remaining: 4 });
    l.refund('a', 4);
    expect(l.hit('a', 0)).toMatchObject({ remaining: 8 });
    clock.t += 1000; // one refilled, one still spent
    expect(l.hit('a', 0)).toMatchObject({ remaining: 9 });
    l.refund('a', 5); // more than is spent: a full allowance, no more
    expect(l.hit('a', 0)).toMatchObject({ remaining: 10 });
    expect([...Array(11)].map(() => l.hit('a').allowed).filter(Boolean)).toHaveLength(10);
    l.refund('never-seen', 3);
    expect(l.size).toBe(1);
    expect(() => l.refund('a', -1)).toThrow(RangeError);
  });

  it('forgets a key on reset', () => {
    const { l } = limiter(1, 60_000);
    l.hit('a');
    expect(l.hit('a').allowed).toBe(false);
    l.reset('a');
    expect(l.hit('a').allowed).toBe(true);
  });

  it('never tracks more than maxKeys under 1e6 distinct keys, and a hot key keeps its state', () => {
    const { l } = limiter(5, 60_000, 1000);
    let largest = 0;
    let hotAllowed = 0;
    for (let i = 0; i < 1_000_000; i++) {
      l.hit(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
      if (i % 500 === 0 && l.hit('hot').allowed) hotAllowed++;
      if (l.size > largest) largest = l.size;
    }
    expect(largest).toBe(1000);
    expect(hotAllowed).toBe(5); // 2000 hot hits, only the first 5 allowed: never evicted
    expect(l.hit('hot').allowed).toBe(false);
    expect(l.hit('10.15.66.63').remaining).toBe(3); // the latest key (i = 999_999) kept its first hit
  }, 20_000);

  it('evicts the least recently used key, counting refused hits as use', () => {
    const { l } = limiter(1, 60_000, 3);
    l.hit('a');
    l.hit('b');
    l.hit('c');
    expect(l.hit('a').allowed).toBe(false); // refused, but now the most recent
    l.hit('d'); // pushes out b
    expect(l.size).toBe(3);
    expect(l.hit('a').allowed).toBe(false);
    expect(l.hit('c').allowed).toBe(false);
    expect(l.hit('b').allowed).toBe(true); // b had been forgotten
  });

  it('holds a mitigated key until its timeout, in a bounded table', () => {
    const { l, clock } = limiter(1, 1000, 10);
    const start = clock.t;
    l.mitigate('x', start + 5000);
    expect(l.mitigated('x')).toBe(start + 5000);
    expect(l.mitigated('y')).toBeUndefined();
    clock.t += 4999;
    expect(l.mitigated('x')).toBe(start + 5000);
    clock.t += 1;
    expect(l.mitigated('x')).toBeUndefined();
    expect(l.mitigatedSize).toBe(0);
    l.mitigate('past', clock.t);
    expect(l.mitigated('past')).toBeUndefined();
    for (let i = 0; i < 100; i++) l.mitigate(`k${i}`, clock.t + 60_000);
    expect(l.mitigatedSize).toBe(10);
    expect(l.mitigated('k99')).toBe(clock.t + 60_000);
    expect(l.mitigated('k0')).toBeUndefined();
    expect(l.size).toBe(0); // holds and rate state are apart
  });

  it('rejects nonsense options', () => {
    expect(() => new RateLimiter({ requests: 0, periodMs: 1000 })).toThrow(RangeError);
    expect(() => new RateLimiter({ requests: 10, periodMs: -1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ requests: 10, periodMs: Infinity })).toThrow(RangeError);
    expect(() => new RateLimiter({ requests: 10, periodMs: 1000, maxKeys: 0 })).toThrow(RangeError);
  });
});

describe('clientKey', () => {
  it('keeps IPv4 and unwraps IPv4-mapped IPv6', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::FFFF:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('0:0:0:0:0:ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:cb00:7107')).toBe('203.0.113.7');
  });

  it('groups IPv6 by its /64', () => {
    expect(clientKey('2001:db8::1')).toBe('2001:db8::/64');
    expect(clientKey('2001:db8::ffff:1')).toBe(clientKey('2001:db8::1'));
    expect(clientKey('2001:db8:0:0:dead:beef:0:1')).toBe('2001:db8::/64');
    expect(clientKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
    expect(clientKey('2001:db8:0:1::1')).not.toBe(clientKey('2001:db8::1'));
    expect(clientKey('2001:0DB8:0000:0000:0001:0002:0003:0004')).toBe(clientKey('2001:db8::5'));
    expect(clientKey('[2001:db8::1]')).toBe('2001:db8::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80::/64');
    expect(clientKey('::1')).toBe('::/64');
    expect(clientKey('64:ff9b::192.0.2.1')).toBe('64:ff9b::/64'); // NAT64, not mapped
  });

  it('masks to other prefix lengths', () => {
    expect(clientKey('2001:db8:aaaa:bbcc::1', 56)).toBe('2001:db8:aaaa:bb00::/56');
    expect(clientKey('2001:db8:aaaa:bbcc::1', 48)).toBe('2001:db8:aaaa::/48');
    expect(clientKey('2001:db8:0:1:1:0:0:1', 128)).toBe('2001:db8:0:1:1::1/128');
    expect(clientKey('1:0:0:1:1:0:0:1', 128)).toBe('1::1:1:0:0:1/128'); // RFC 5952: first of equal runs
    expect(clientKey('2001:db8:0:1:1:1:1:1', 128)).toBe('2001:db8:0:1:1:1:1:1/128'); // one zero is not compressed
  });

  it('passes strings that are not addresses through unchanged', () => {
    for (const s of ['not-an-ip', '1:2:3', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4::5:6:7:8', '::ffff:300.1.1.1', 'g::1']) {
      expect(clientKey(s)).toBe(s);
    }
  });
});

describe('rateLimitHeaders', () => {
  it('writes the policy and the state in seconds, rounded up', () => {
    expect(rateLimitHeaders('api', 100, 10_000, { remaining: 0, resetMs: 4_200 })).toEqual([
      ['ratelimit-policy', '"api";q=100;w=10'],
      ['ratelimit', '"api";r=0;t=5'],
    ]);
    expect(rateLimitHeaders('fast', 5, 500, { remaining: 3, resetMs: 1 })).toEqual([
      ['ratelimit-policy', '"fast";q=5;w=1'],
      ['ratelimit', '"fast";r=3;t=1'],
    ]);
  });

  it('describes a limiter result, allowed or refused', () => {
    const { l } = limiter(10, 60_000);
    expect(rateLimitHeaders('rl', 10, 60_000, l.hit('a'))[1]).toEqual(['ratelimit', '"rl";r=9;t=6']);
    for (let i = 0; i < 9; i++) l.hit('a');
    expect(rateLimitHeaders('rl', 10, 60_000, l.hit('a'))[1]).toEqual(['ratelimit', '"rl";r=0;t=60']);
  });

  it('keeps the policy name a valid Structured Fields string', () => {
    expect(rateLimitHeaders('a "b"\\c\u00e9\n', 1, 1000, { remaining: 0, resetMs: 0 })[0]).toEqual(['ratelimit-policy', '"a \\"b\\"\\\\c";q=1;w=1']);
  });
});
