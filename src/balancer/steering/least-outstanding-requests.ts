/**
 * `least_outstanding_requests`, as Cloudflare defines it for pools: a weighted random pick in
 * which pools with more requests in flight weigh proportionately less, effective weight =
 * weight / (1 + outstanding). Idle pools split traffic by their weights; a pool holding n
 * requests gets 1/(n+1) of its idle share. A share rather than a strict minimum: a far pool
 * holds more requests at the same rate (Little's law: in flight = rate × latency), and a
 * one-request difference should tilt traffic, not flip all of it. After the first, the pools
 * follow by effective weight, highest first (equal: failover order), for retries; weight 0
 * pools come last.
 */
import { pickWeightedIndex } from '../origin/weighted.js';
import { healthyPools, poolWeight } from './healthy.js';
import type { PoolSteering } from './types.js';

export const leastOutstandingPools: PoolSteering = {
  order(input) {
    const pools = healthyPools(input, input.defaultPools);
    if (pools.length <= 1) return pools;
    const eff = new Map<unknown, number>();
    for (const p of pools) eff.set(p, poolWeight(input, p) / (1 + Math.max(0, input.outstanding(p))));
    const i = pickWeightedIndex(
      pools,
      (p) => eff.get(p)!,
      () => input.random(),
    );
    const first = pools[i];
    const rest = pools.filter((_, j) => j !== i).sort((a, b) => eff.get(b)! - eff.get(a)!);
    return [first, ...rest];
  },
};
