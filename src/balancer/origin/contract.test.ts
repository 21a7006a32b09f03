/** One contract suite for every origin steering policy. */
import { describe, expect, it } from 'vitest';
import { originSelectors } from './index.js';
import type { OriginRuntime } from '../../upstream/origin.js';

const origin = (name: string, weight = 1) => ({ name, weight }) as unknown as OriginRuntime;

for (const [name, make] of Object.entries(originSelectors)) {
  describe(`origin steering: ${name}`, () => {
    it('returns the only candidate', () => {
      const a = origin('a');
      expect(make().pick([a])).toBe(a);
    });
    it('always returns one of the candidates', () => {
      const list = [origin('a'), origin('b', 0.3), origin('c', 0)];
      const s = make();
      for (let i = 0; i < 200; i++) expect(list).toContain(s.pick(list));
    });
    it('splits traffic by weight', () => {
      const a = origin('a', 1), b = origin('b', 0.25), z = origin('z', 0);
      const s = make();
      const counts = new Map<OriginRuntime, number>([[a, 0], [b, 0], [z, 0]]);
      for (let i = 0; i < 5000; i++) { const o = s.pick([a, b, z])!; counts.set(o, counts.get(o)! + 1); }
      expect(counts.get(z)).toBe(0);
      expect(counts.get(a)! / counts.get(b)!).toBeGreaterThan(3.4);
      expect(counts.get(a)! / counts.get(b)!).toBeLessThan(4.7);
    });
    it('still answers when every weight is zero', () => {
      const list = [origin('a', 0), origin('b', 0)];
      expect(list).toContain(make().pick(list));
    });
  });
}

it('round robin interleaves rather than bursts', () => {
  const a = origin('a', 1), b = origin('b', 1);
  const s = originSelectors.round_robin();
  expect([s.pick([a, b]), s.pick([a, b]), s.pick([a, b]), s.pick([a, b])].map((o) => o!.name)).toEqual(['a', 'b', 'a', 'b']);
});
