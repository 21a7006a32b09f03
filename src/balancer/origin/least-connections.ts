/**
 * Least connections: the origin with the fewest open connections per unit of weight, counting
 * WebSocket tunnels and requests in flight (`(load.websockets + load.inflight) / weight`), ties
 * weighted random. What a chat atlas wants: tunnels live for hours, so spreading new ones by
 * what each server already holds keeps the servers even where round robin lets them drift.
 * With several workers the counts are the node's (`load`, types.ts).
 */
import { localLoad, type OriginSelector, type OriginSelectorOptions } from './types.js';
import { leastLoaded } from './least-loaded.js';

export function leastConnections({ random = Math.random, load = localLoad }: OriginSelectorOptions = {}): OriginSelector {
  return leastLoaded((o) => load.websockets(o) + load.inflight(o), random);
}
