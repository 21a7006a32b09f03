/**
 * `random`: the first pool is drawn among the healthy default pools with probability
 * weight / total (`poolWeights`, else `defaultWeight`, else 1; weight 0 only when all are 0), the
 * rest follow in failover order, for retries.
 */
import { pickWeightedIndex } from '../origin/weighted.js';
import { healthyPools, poolWeight } from './healthy.js';
import type { PoolSteering } from './types.js';

export const weightedRandomPools: PoolSteering = {
  order(input) {
    const pools = healthyPools(input, input.defaultPools);
    if (pools.length <= 1) return pools;
    const i = pickWeightedIndex(
      pools,
      (p) => poolWeight(input, p),
      () => input.random(),
    );
    return [pools[i], ...pools.slice(0, i), ...pools.slice(i + 1)];
  },
};
