/**
 * Smooth weighted round robin (the algorithm nginx uses): each pick adds every candidate's
 * weight to its running score, takes the highest, and subtracts the total from the winner.
 * Weights 1 and 0.5 give A A B, interleaved rather than in bursts; weight 0 gets nothing while
 * any positive-weight origin is available.
 */
import type { OriginCandidate, OriginSelector } from './types.js';

export function roundRobin(): OriginSelector {
  const score = new Map<OriginCandidate, number>();
  return {
    pick(candidates) {
      if (candidates.length <= 1) return candidates[0];
      let total = 0;
      let best: (typeof candidates)[number] | undefined;
      let bestScore = -Infinity;
      for (const o of candidates) {
        const s = (score.get(o) ?? 0) + o.weight;
        score.set(o, s);
        total += o.weight;
        if (s > bestScore) {
          bestScore = s;
          best = o;
        }
      }
      if (total === 0) return candidates[0];
      score.set(best!, bestScore - total);
      return best;
    },
  };
}
