/** Origin steering policies by their config name (`pools.*.originSteering`). */
import type { OriginSelectorFactory } from './types.js';
import { roundRobin } from './round-robin.js';
import { weightedRandom } from './random.js';
import { hashSteering } from './hash.js';
import { leastOutstandingRequests } from './least-outstanding-requests.js';
import { leastConnections } from './least-connections.js';
import { powerOfTwoChoices } from './p2c.js';

/** The config names, for the schema's enum. */
export const ORIGIN_STEERING = ['p2c', 'round_robin', 'random', 'hash', 'least_outstanding_requests', 'least_connections'] as const;
export type OriginSteering = (typeof ORIGIN_STEERING)[number];

/** What a pool gets when it names none. */
export const DEFAULT_ORIGIN_STEERING: OriginSteering = 'p2c';

/** One fresh selector per pool (round robin keeps per-pool state). */
export const originSelectors: Record<OriginSteering, OriginSelectorFactory> = {
  p2c: powerOfTwoChoices,
  round_robin: () => roundRobin(),
  random: weightedRandom,
  hash: hashSteering,
  least_outstanding_requests: leastOutstandingRequests,
  least_connections: leastConnections,
};

export type { LoadView, OriginCandidate, OriginSelector, OriginSelectorFactory, OriginSelectorOptions } from './types.js';
export { localLoad } from './types.js';
export { seededRandom } from './seeded-random.js';
