import { describe, expect, it } from 'vitest';
import { powerOfTwoChoices } from './p2c.js';
import { leastOutstandingRequests } from './least-outstanding-requests.js';
import { seededRandom } from './seeded-random.js';
import type { OriginCandidate, OriginSelector } from './types.js';

const origin = (name: string, weight = 1, inflight = 0): OriginCandidate & { name: string } => ({ id: `chat/${name}`, name, weight, load: { inflight, websockets: 0 } });

function shares(s: OriginSelector, list: (OriginCandidate & { name: string })[], n = 9000): Map<string, number> {
  const counts = new Map(list.map((o) => [o.name, 0]));
  for (let i = 0; i < n; i++) {
    const o = s.pick(list)!;
    counts.set(o.name, counts.get(o.name)! + 1);
  }
  return new Map([...counts].map(([k, v]) => [k, v / n]));
}

describe('p2c origin steering', () => {
  it('of two origins, takes the less loaded (per weight)', () => {
    const s = powerOfTwoChoices({ random: seededRandom(1) });
    for (let i = 0; i < 100; i++) expect(s.pick([origin('a', 1, 5), origin('b', 1, 0)])!.name).toBe('b');
    for (let i = 0; i < 100; i++) expect(s.pick([origin('a', 1, 3), origin('b', 0.25, 1)])!.name).toBe('a'); // 3 vs 4
  });

  it('never picks the most loaded origin; the least loaded gets the 2/3 of draws that include it', () => {
    const got = shares(powerOfTwoChoices({ random: seededRandom(3) }), [origin('a', 1, 0), origin('b', 1, 5), origin('c', 1, 10)]);
    expect(got.get('c')).toBe(0);
    expect(got.get('a')).toBeGreaterThan(2 / 3 - 0.03);
    expect(got.get('a')).toBeLessThan(2 / 3 + 0.03);
  });

  it('does not herd onto an origin that just joined with empty counters', () => {
    const list = [origin('a', 1, 10), origin('b', 1, 10), origin('c', 1, 10), origin('d', 1, 10), origin('new', 1, 0)];
    expect(shares(leastOutstandingRequests({ random: seededRandom(4) }), list).get('new')).toBe(1);
    // p2c: the new origin wins only when drawn, 1 - C(4,2)/C(5,2) = 40% of picks.
    const p2c = shares(powerOfTwoChoices({ random: seededRandom(4) }), list).get('new')!;
    expect(p2c).toBeGreaterThan(0.37);
    expect(p2c).toBeLessThan(0.43);
  });
});
