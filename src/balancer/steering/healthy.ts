/** The pools a policy may order: healthy ones, each once (by name), in the order given. */
import type { SteerablePool, SteeringInput } from './types.js';

export function healthyPools<P extends SteerablePool>(input: SteeringInput<P>, ...lists: (readonly P[] | undefined)[]): P[] {
  const seen = new Set<string>();
  const out: P[] = [];
  for (const list of lists) {
    if (!list) continue;
    for (const pool of list) {
      if (seen.has(pool.name)) continue;
      seen.add(pool.name);
      if (input.healthy(pool)) out.push(pool);
    }
  }
  return out;
}

/** A pool's configured weight (random, least_outstanding_requests). */
export function poolWeight(input: SteeringInput<SteerablePool>, pool: SteerablePool): number {
  return input.poolWeights.get(pool.name) ?? input.defaultWeight ?? 1;
}
