/** Origin steering policies by their config name (`pools.*.originSteering`). */
import type { OriginSelector } from './types.js';
import { roundRobin } from './round-robin.js';
import { weightedRandom } from './random.js';
import type { ORIGIN_STEERING } from '../../config/schema.js';

export const originSelectors: Record<(typeof ORIGIN_STEERING)[number], () => OriginSelector> = {
  round_robin: roundRobin,
  random: () => weightedRandom(),
};
export type { OriginSelector } from './types.js';
