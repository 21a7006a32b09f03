/**
 * Power of two choices (Mitzenmacher 2001; HAProxy's default `random(2)`, Envoy's least request,
 * nginx `random two least_conn`): draw two distinct origins at random by weight, keep the one
 * with fewer requests in flight per unit of weight (ties: the first drawn). Nearly as even as
 * least-outstanding, but it does not herd: each worker counts only its own requests, so when an
 * origin joins or recovers with empty counters an exact "least" policy in every worker sends it
 * every new request at once, while P2C offers it only to the draws that include it. Two draws
 * whatever the pool size. The default origin steering.
 */
import type { OriginSelector, OriginSelectorOptions } from './types.js';
import { effectiveWeight, pickWeightedIndex } from './weighted.js';

export function powerOfTwoChoices({ random = Math.random }: OriginSelectorOptions = {}): OriginSelector {
  return {
    pick(candidates) {
      if (candidates.length <= 1) return candidates[0];
      const weight = effectiveWeight(candidates);
      const i = pickWeightedIndex(candidates, weight, random);
      const j = pickWeightedIndex(candidates, weight, random, i);
      const a = candidates[i];
      if (j < 0 || weight(candidates[j]) <= 0) return a; // a was the only origin with weight
      const b = candidates[j];
      return b.load.inflight / weight(b) < a.load.inflight / weight(a) ? b : a;
    },
  };
}
