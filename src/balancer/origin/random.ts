/** Weighted random: each origin is chosen with probability weight / total weight. */
import type { OriginSelector, OriginSelectorOptions } from './types.js';
import { pickWeightedIndex } from './weighted.js';

export function weightedRandom({ random = Math.random }: OriginSelectorOptions = {}): OriginSelector {
  return {
    pick(candidates) {
      if (candidates.length <= 1) return candidates[0];
      return candidates[pickWeightedIndex(candidates, (o) => o.weight, random)];
    },
  };
}
