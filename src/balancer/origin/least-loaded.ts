/**
 * The origin with the least load per unit of weight (load / weight), ties broken at random in
 * proportion to weight. Comparing load / weight rather than raw load keeps weights meaningful
 * under load: in steady state each origin holds a share of the work proportional to its weight,
 * as Cloudflare describes its "weight-scaled" least-outstanding and least-connections steering
 * and HAProxy does for leastconn. With every counter at 0 it degenerates to weighted random.
 */
import type { OriginCandidate, OriginSelector } from './types.js';
import { effectiveWeight } from './weighted.js';

export function leastLoaded(load: (o: OriginCandidate) => number, random: () => number): OriginSelector {
  return {
    pick(candidates) {
      if (candidates.length <= 1) return candidates[0];
      const weight = effectiveWeight(candidates);
      let best: (typeof candidates)[number] | undefined;
      let bestScore = Infinity;
      let tiedWeight = 0;
      for (const o of candidates) {
        const w = weight(o);
        if (w <= 0) continue;
        const score = load(o) / w;
        if (score < bestScore) {
          best = o;
          bestScore = score;
          tiedWeight = w;
        } else if (score === bestScore) {
          // Weighted reservoir sampling over the tied: keeps o with probability w / (sum so far).
          tiedWeight += w;
          if (random() * tiedWeight < w) best = o;
        }
      }
      return best;
    },
  };
}
