import { describe, expect, it } from 'vitest';
import { ConnectionGate, StreamResetBudget, type ConnectionLimits } from './connection-gate.js';

const T0 = 1_750_000_000_000;

function gate(limits: ConnectionLimits, maxKeys?: number) {
  const current = { ...limits };
  return { g: new ConnectionGate(() => current, { maxKeys }), limits: current };
}

describe('ConnectionGate', () => {
  it('caps open connections per client; a release makes room; other clients count apart', () => {
    const { g } = gate({ clientConnections: 3, clientConnectionRate: 0 });
    expect([1, 2, 3, 4].map(() => g.admit('192.0.2.1', T0))).toEqual(['ok', 'ok', 'ok', 'too-many-connections']);
    expect(g.open('192.0.2.1')).toBe(3);
    expect(g.admit('192.0.2.2', T0)).toBe('ok');
    g.release('192.0.2.1', T0);
    expect(g.admit('192.0.2.1', T0)).toBe('ok');
    expect(g.admit('192.0.2.1', T0)).toBe('too-many-connections');
  });

  it('counts IPv6 clients per /64 and IPv4-mapped addresses as IPv4', () => {
    const { g } = gate({ clientConnections: 2, clientConnectionRate: 0 });
    expect(g.admit('2001:db8:1:2::1', T0)).toBe('ok');
    expect(g.admit('2001:db8:1:2:ffff::9', T0)).toBe('ok');
    expect(g.admit('2001:db8:1:2:abcd::1', T0)).toBe('too-many-connections');
    expect(g.admit('2001:db8:1:3::1', T0)).toBe('ok'); // another /64
    expect(g.admit('::ffff:192.0.2.7', T0)).toBe('ok');
    expect(g.admit('192.0.2.7', T0)).toBe('ok');
    expect(g.admit('192.0.2.7', T0)).toBe('too-many-connections');
  });

  it('allows `rate` new connections per second with a burst of as many again', () => {
    const { g } = gate({ clientConnections: 0, clientConnectionRate: 10 });
    const at = (t: number) => g.admit('192.0.2.1', t);
    // The full budget: 20 at once.
    for (let i = 0; i < 20; i++) expect(at(T0)).toBe('ok');
    expect(at(T0)).toBe('too-fast');
    // Then one per 100 ms.
    expect(at(T0 + 99)).toBe('too-fast');
    expect(at(T0 + 100)).toBe('ok');
    expect(at(T0 + 100)).toBe('too-fast');
    // A steady 10 per second goes on for ever.
    for (let s = 1; s <= 5; s++) {
      for (let i = 0; i < 10; i++) expect(at(T0 + 100 + s * 1000 + i * 100)).toBe('ok');
    }
  });

  it('keeps exact boundaries when 1000/rate is not a whole number of ms', () => {
    const { g } = gate({ clientConnections: 0, clientConnectionRate: 3 });
    expect(Array.from({ length: 7 }, () => g.admit('a', T0))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'too-fast']);
    expect(g.admit('a', T0 + 333)).toBe('too-fast');
    expect(g.admit('a', T0 + 334)).toBe('ok');
  });

  it('a refused connection costs nothing', () => {
    const { g } = gate({ clientConnections: 1, clientConnectionRate: 1 });
    expect(g.admit('a', T0)).toBe('ok');
    for (let i = 0; i < 100; i++) expect(g.admit('a', T0)).toBe('too-many-connections');
    g.release('a', T0);
    expect(g.admit('a', T0)).toBe('ok'); // the budget of 2 was not spent by the refusals
    g.release('a', T0);
    expect(g.admit('a', T0)).toBe('too-fast');
  });

  it('0 means no limit', () => {
    const { g } = gate({ clientConnections: 0, clientConnectionRate: 0 });
    for (let i = 0; i < 10_000; i++) expect(g.admit('a', T0)).toBe('ok');
    expect(g.open('a')).toBe(10_000);
    expect(g.burst('a', T0)).toBe(false);
  });

  it('reads its limits live: a reload applies to the next connection', () => {
    const { g, limits } = gate({ clientConnections: 2, clientConnectionRate: 0 });
    g.admit('a', T0);
    g.admit('a', T0);
    expect(g.admit('a', T0)).toBe('too-many-connections');
    limits.clientConnections = 10;
    expect(g.admit('a', T0)).toBe('ok');
    limits.clientConnectionRate = 1; // a budget of 2, the connections so far did not spend any
    expect(g.admit('a', T0)).toBe('ok');
    expect(g.admit('a', T0)).toBe('ok');
    expect(g.admit('a', T0)).toBe('too-fast');
    // The budget is time (two seconds of the rate): spent is spent, at the new rate it comes back sooner.
    limits.clientConnectionRate = 1000;
    expect(g.admit('a', T0)).toBe('too-fast');
    expect(g.admit('a', T0 + 1)).toBe('ok');
  });

  it('burst(): true while the client uses more than half of its budget', () => {
    const { g } = gate({ clientConnections: 0, clientConnectionRate: 10 });
    expect(g.burst('a', T0)).toBe(false);
    for (let i = 0; i < 10; i++) g.admit('a', T0);
    expect(g.burst('a', T0)).toBe(false); // exactly half
    g.admit('a', T0);
    expect(g.burst('a', T0)).toBe(true);
    expect(g.burst('b', T0)).toBe(false);
    expect(g.burst('a', T0 + 100)).toBe(false); // back to half after one step
  });

  it('drops clients with no open connection and a full budget', () => {
    const { g } = gate({ clientConnections: 10, clientConnectionRate: 10 });
    g.admit('a', T0);
    g.admit('b', T0);
    expect(g.size).toBe(2);
    g.release('a', T0); // budget not full yet: kept
    expect(g.size).toBe(2);
    g.release('b', T0 + 1000); // budget full again: dropped at once
    expect(g.size).toBe(1);
    g.admit('c', T0 + 2000); // the sweep drops 'a'
    expect(g.size).toBe(1);
    expect(g.open('c')).toBe(1);
  });

  it('without a rate limit, a client is dropped with its last connection', () => {
    const { g } = gate({ clientConnections: 10, clientConnectionRate: 0 });
    g.admit('a', T0);
    g.admit('a', T0);
    g.release('a', T0);
    expect(g.size).toBe(1);
    g.release('a', T0);
    expect(g.size).toBe(0);
    g.release('a', T0); // an unknown client: nothing happens
    expect(g.size).toBe(0);
  });

  it('holds at most maxKeys clients, dropping the least recently admitted', () => {
    const { g } = gate({ clientConnections: 1, clientConnectionRate: 0 }, 3);
    for (const ip of ['a', 'b', 'c']) g.admit(ip, T0);
    g.admit('a', T0); // refused, but 'a' is now the most recent
    g.admit('d', T0);
    expect(g.size).toBe(3);
    expect(g.open('b')).toBe(0); // dropped
    expect(['a', 'c', 'd'].map((ip) => g.open(ip))).toEqual([1, 1, 1]);
    // A dropped client's later release does not go below zero or disturb others.
    g.release('b', T0);
    expect(g.size).toBe(3);
  });

  it('stays bounded under a flood of distinct clients', () => {
    const { g } = gate({ clientConnections: 0, clientConnectionRate: 5 }, 1000);
    for (let i = 0; i < 50_000; i++) g.admit(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, T0 + i);
    expect(g.size).toBeLessThanOrEqual(1000);
  });
});

describe('StreamResetBudget', () => {
  it('allows `limit` resets at once, then `limit` per second', () => {
    const limit = { n: 5 };
    const b = new StreamResetBudget(() => limit.n);
    for (let i = 0; i < 5; i++) expect(b.reset(T0)).toBe(false);
    expect(b.reset(T0)).toBe(true);
    expect(b.reset(T0 + 199)).toBe(true);
    expect(b.reset(T0 + 400)).toBe(false);
    // A steady 4 per second is fine.
    for (let i = 1; i <= 20; i++) expect(b.reset(T0 + 400 + i * 250)).toBe(false);
  });
});
