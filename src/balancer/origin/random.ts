/** Weighted random: each origin is chosen with probability weight / total weight. */
import type { OriginSelector } from './types.js';

export function weightedRandom(random: () => number = Math.random): OriginSelector {
  return {
    pick(candidates) {
      if (candidates.length === 1) return candidates[0];
      let total = 0;
      for (const o of candidates) total += o.weight;
      if (total === 0) return candidates[Math.floor(random() * candidates.length)];
      let r = random() * total;
      for (const o of candidates) {
        r -= o.weight;
        if (r < 0) return o;
      }
      return candidates[candidates.length - 1];
    },
  };
}
