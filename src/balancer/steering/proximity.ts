/**
 * `proximity`: healthy default pools nearest first, by great-circle distance from the client's
 * location when the geo lookup found one, else from the PoP's (Cloudflare measures from the
 * data center for proxied traffic). Pools without coordinates follow in failover order; with no
 * origin point at all the order is plain failover. Equal distances keep failover order.
 */
import { greatCircleKm } from './distance.js';
import { healthyPools } from './healthy.js';
import type { PoolSteering } from './types.js';

export const proximitySteering: PoolSteering = {
  order(input) {
    const pools = healthyPools(input, input.defaultPools);
    const from = input.client.location ?? input.pop.location;
    if (!from || pools.length <= 1) return pools;
    const km = new Map(pools.map((p) => [p, p.location ? greatCircleKm(from, p.location) : Infinity]));
    return pools.sort((a, b) => km.get(a)! - km.get(b)! || 0); // stable: ties keep failover order
  },
};
