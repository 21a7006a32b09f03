/**
 * Power of two choices (Mitzenmacher 2001; HAProxy's default `random(2)`, Envoy's least request,
 * nginx `random two least_conn`): draw two distinct origins at random by weight, keep the one
 * with fewer requests in flight per unit of weight (ties: the first drawn). Nearly as even as
 * least-outstanding, but it does not herd: the other workers' counts are a little stale
 * (node-load.ts), so when an origin joins or recovers with empty counters an exact "least" policy
 * in every worker sends it every new request until the next published counts, while P2C offers
 * it only to the draws that include it. Two draws whatever the pool size. The default origin
 * steering.
 */
import { localLoad, type OriginSelector, type OriginSelectorOptions } from './types.js';
import { effectiveWeight, pickWeightedIndex } from './weighted.js';

export function powerOfTwoChoices({ random = Math.random, load = localLoad }: OriginSelectorOptions = {}): OriginSelector {
  return {
    pick(candidates) {
      if (candidates.length <= 1) return candidates[0];
      const weight = effectiveWeight(candidates);
      const i = pickWeightedIndex(candidates, weight, random);
      const j = pickWeightedIndex(candidates, weight, random, i);
      const a = candidates[i];
      if (j < 0 || weight(candidates[j]) <= 0) return a; // a was the only origin with weight
      const b = candidates[j];
      return load.inflight(b) / weight(b) < load.inflight(a) / weight(a) ? b : a;
    },
  };
}
