/** One contract suite for every origin steering policy. */
import { describe, expect, it } from 'vitest';
import { ORIGIN_STEERING, originSelectors } from './index.js';
import { seededRandom } from './seeded-random.js';
import type { OriginCandidate, OriginSelector } from './types.js';

interface TestOrigin extends OriginCandidate {
  readonly name: string;
  load: { inflight: number; websockets: number };
}

const origin = (name: string, weight = 1, inflight = 0, websockets = 0): TestOrigin => ({ id: `pool/${name}`, name, weight, load: { inflight, websockets } });

/** The n-th of many distinct client IPs. */
const ip = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

function tally(s: OriginSelector, list: TestOrigin[], n: number): Map<string, number> {
  const counts = new Map(list.map((o) => [o.name, 0]));
  for (let i = 0; i < n; i++) {
    const o = s.pick(list, ip(i))!;
    counts.set(o.name, counts.get(o.name)! + 1);
  }
  return counts;
}

it('every config name has a policy', () => {
  expect(Object.keys(originSelectors).sort()).toEqual([...ORIGIN_STEERING].sort());
});

for (const name of ORIGIN_STEERING) {
  const make = (seed = 1) => originSelectors[name]({ random: seededRandom(seed) });

  describe(`origin steering: ${name}`, () => {
    it('returns the only candidate, and nothing from nothing', () => {
      const a = origin('a');
      expect(make().pick([a])).toBe(a);
      expect(make().pick([a], '192.0.2.1')).toBe(a);
      expect(make().pick([])).toBeUndefined();
    });

    it('always returns one of the candidates, with or without a key', () => {
      const list = [origin('a'), origin('b', 0.3, 5), origin('c', 0, 0, 9)];
      const s = make();
      for (let i = 0; i < 300; i++) {
        expect(list).toContain(s.pick(list));
        expect(list).toContain(s.pick(list, ip(i)));
      }
    });

    it('splits traffic by weight when idle', () => {
      const list = [origin('a', 1), origin('b', 0.25), origin('z', 0)];
      const counts = tally(make(), list, 8000);
      expect(counts.get('z')).toBe(0);
      const ratio = counts.get('a')! / counts.get('b')!;
      expect(ratio).toBeGreaterThan(3.4);
      expect(ratio).toBeLessThan(4.7);
    });

    it('splits traffic by weight under load (requests finish at random)', () => {
      // Each pick opens a request on the origin; 40 stay open, a random one finishes per pick.
      const list = [origin('a', 1), origin('b', 0.25), origin('z', 0)];
      const s = make(7);
      const rnd = seededRandom(99);
      const open: TestOrigin[] = [];
      const counts = new Map(list.map((o) => [o.name, 0]));
      for (let i = 0; i < 8000; i++) {
        const o = s.pick(list, ip(i))!;
        counts.set(o.name, counts.get(o.name)! + 1);
        o.load.inflight++;
        open.push(o);
        if (open.length > 40) {
          const done = open.splice(Math.floor(rnd() * open.length), 1)[0];
          done.load.inflight--;
        }
      }
      expect(counts.get('z')).toBe(0);
      const ratio = counts.get('a')! / counts.get('b')!;
      expect(ratio).toBeGreaterThan(3.2);
      expect(ratio).toBeLessThan(5);
    });

    it('never picks a weight-0 origin while another has weight, however loaded', () => {
      const list = [origin('busy', 1, 500, 500), origin('zero', 0)];
      const s = make();
      for (let i = 0; i < 200; i++) expect(s.pick(list, ip(i))!.name).toBe('busy');
    });

    it('still answers when every weight is zero', () => {
      const list = [origin('a', 0), origin('b', 0)];
      const s = make();
      for (let i = 0; i < 50; i++) expect(list).toContain(s.pick(list, ip(i)));
    });

    it('only reads: candidates and their counters are left as they were', () => {
      const list = [origin('a', 1, 3, 1), origin('b', 0.5, 0, 2)];
      const before = JSON.stringify(list);
      const s = make();
      for (let i = 0; i < 50; i++) s.pick(list, ip(i));
      expect(JSON.stringify(list)).toBe(before);
    });

    it('is reproducible with a seeded random', () => {
      const list = [origin('a'), origin('b', 0.5, 2), origin('c', 0.7, 1, 3)];
      const run = () => {
        const s = make(42);
        return Array.from({ length: 100 }, (_, i) => s.pick(list, ip(i))!.name);
      };
      expect(run()).toEqual(run());
    });
  });
}

it('round robin interleaves rather than bursts', () => {
  const a = origin('a', 1),
    b = origin('b', 1);
  const s = originSelectors.round_robin();
  expect([s.pick([a, b]), s.pick([a, b]), s.pick([a, b]), s.pick([a, b])].map((o) => o!.name)).toEqual(['a', 'b', 'a', 'b']);
});
