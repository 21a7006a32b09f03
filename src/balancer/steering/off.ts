/**
 * `off` (failover): the default pools in their configured order, unhealthy ones skipped.
 * Cloudflare's default when no geo maps are set.
 */
import { healthyPools } from './healthy.js';
import type { PoolSteering } from './types.js';

export const failover: PoolSteering = {
  order: (input) => healthyPools(input, input.defaultPools),
};
