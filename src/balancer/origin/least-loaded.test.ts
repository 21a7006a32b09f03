import { describe, expect, it } from 'vitest';
import { leastOutstandingRequests } from './least-outstanding-requests.js';
import { leastConnections } from './least-connections.js';
import { roundRobin } from './round-robin.js';
import { seededRandom } from './seeded-random.js';
import type { OriginCandidate, OriginSelector } from './types.js';

interface TestOrigin extends OriginCandidate {
  readonly name: string;
  load: { inflight: number; websockets: number };
}
const origin = (name: string, weight = 1, inflight = 0, websockets = 0): TestOrigin => ({ id: `chat/${name}`, name, weight, load: { inflight, websockets } });

describe('least_outstanding_requests', () => {
  const s = leastOutstandingRequests({ random: seededRandom(1) });

  it('picks the origin with the fewest requests in flight', () => {
    expect(s.pick([origin('a', 1, 3), origin('b', 1, 1), origin('c', 1, 2)])!.name).toBe('b');
  });

  it('does not count WebSocket tunnels', () => {
    expect(s.pick([origin('a', 1, 0, 100), origin('b', 1, 1)])!.name).toBe('a');
  });

  it('scales the count by weight', () => {
    // a: 4 / 1 = 4, b: 2 / 0.25 = 8
    expect(s.pick([origin('a', 1, 4), origin('b', 0.25, 2)])!.name).toBe('a');
    expect(s.pick([origin('a', 1, 4), origin('b', 0.25, 0)])!.name).toBe('b');
  });

  it('breaks ties at random by weight', () => {
    const list = [origin('a', 1, 2), origin('b', 0.5, 1), origin('c', 1, 9)];
    let a = 0;
    for (let i = 0; i < 6000; i++) {
      const o = s.pick(list)!;
      expect(o.name).not.toBe('c');
      if (o.name === 'a') a++;
    }
    expect(a / 6000).toBeGreaterThan(0.63);
    expect(a / 6000).toBeLessThan(0.7);
  });
});

describe('least_connections', () => {
  it('counts tunnels and requests in flight', () => {
    const s = leastConnections({ random: seededRandom(1) });
    expect(s.pick([origin('a', 1, 0, 10), origin('b', 1, 3, 0)])!.name).toBe('b');
    expect(s.pick([origin('a', 1, 2, 2), origin('b', 1, 3, 2)])!.name).toBe('a');
    expect(s.pick([origin('a', 1, 0, 8), origin('b', 0.5, 1, 2)])!.name).toBe('b'); // 8 vs 6
  });

  /** Chat atlas: three servers, two restarted empty while the third kept 300 tunnels. */
  function reconnectStorm(s: OriginSelector): number[] {
    const list = [origin('a', 1, 0, 300), origin('b'), origin('c', 0.5)];
    for (let i = 0; i < 450; i++) s.pick(list)!.load.websockets++;
    return list.map((o) => o.load.websockets);
  }

  it('evens out long-lived tunnels by weight where round robin lets them drift', () => {
    // 750 tunnels over weights 1, 1, 0.5: 300 each for a and b, 150 for c.
    const [a, b, c] = reconnectStorm(leastConnections({ random: seededRandom(2) }));
    expect(a).toBe(300);
    expect(Math.abs(b - 300)).toBeLessThanOrEqual(1);
    expect(Math.abs(c - 150)).toBeLessThanOrEqual(1);
    const rr = reconnectStorm(roundRobin());
    expect(rr[0]).toBe(480); // 300 + 450 × 2/5
  });
});
