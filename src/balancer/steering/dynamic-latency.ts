/**
 * `dynamic_latency`: healthy default pools fastest first, by the EWMA of round-trip times the
 * monitors measure from this PoP. Until every healthy pool has a measurement the order is plain
 * failover (Cloudflare: "no RTT data ⇒ failover"), so a pool that has not been probed yet is
 * neither favoured nor starved by a guess. Equal RTTs keep failover order.
 */
import { healthyPools } from './healthy.js';
import type { PoolSteering } from './types.js';

export const dynamicLatency: PoolSteering = {
  order(input) {
    const pools = healthyPools(input, input.defaultPools);
    if (pools.length <= 1) return pools;
    const rtt = new Map<unknown, number>();
    for (const p of pools) {
      const ms = input.rtt(p);
      if (ms === undefined || !Number.isFinite(ms)) return pools;
      rtt.set(p, ms);
    }
    return pools.sort((a, b) => rtt.get(a)! - rtt.get(b)!);
  },
};
