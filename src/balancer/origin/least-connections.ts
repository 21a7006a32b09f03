/**
 * Least connections: the origin with the fewest open connections per unit of weight, counting
 * WebSocket tunnels and requests in flight (`(load.websockets + load.inflight) / weight`), ties
 * weighted random. What a chat atlas wants: tunnels live for hours, so spreading new ones by
 * what each server already holds keeps the servers even where round robin lets them drift.
 */
import type { OriginSelector, OriginSelectorOptions } from './types.js';
import { leastLoaded } from './least-loaded.js';

export function leastConnections({ random = Math.random }: OriginSelectorOptions = {}): OriginSelector {
  return leastLoaded((o) => o.load.websockets + o.load.inflight, random);
}
