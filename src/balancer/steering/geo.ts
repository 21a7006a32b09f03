/**
 * `geo`, in Cloudflare's order of precedence: the PoP's pools (`popPools[pop.id]`), then the
 * client country's (`countryPools[client.country]`), then the region's (`regionPools` of the
 * client's region, or of the PoP's when the client's is unknown), then the default pools.
 * Unhealthy pools are skipped, each pool appears once.
 *
 * Cloudflare uses the first map that matches and goes to the fallback pool when all of its pools
 * are down; here the later lists follow as further failover, so a region whose pools are all
 * down spills to the default pools before the fallback. The first choice is the same either way.
 */
import { healthyPools } from './healthy.js';
import type { PoolSteering } from './types.js';

export const geoSteering: PoolSteering = {
  order(input) {
    const { pop, client } = input;
    const region = client.region ?? pop.region;
    return healthyPools(input, input.popPools.get(pop.id), client.country === undefined ? undefined : input.countryPools.get(client.country), input.regionPools.get(region), input.defaultPools);
  },
};
