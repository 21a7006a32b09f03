/**
 * Least outstanding requests: the origin with the fewest requests in flight per unit of weight
 * (`load.inflight / weight`), ties weighted random. Open WebSocket tunnels do not count: an idle
 * tunnel costs the origin little; use `least_connections` when they do. With several workers the
 * counts are the node's (`load`, types.ts).
 */
import { localLoad, type OriginSelector, type OriginSelectorOptions } from './types.js';
import { leastLoaded } from './least-loaded.js';

export function leastOutstandingRequests({ random = Math.random, load = localLoad }: OriginSelectorOptions = {}): OriginSelector {
  return leastLoaded((o) => load.inflight(o), random);
}
