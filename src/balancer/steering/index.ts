/** Pool steering policies by their config name (`loadBalancers[].steering`). */
import { dynamicLatency } from './dynamic-latency.js';
import { geoSteering } from './geo.js';
import { leastOutstandingPools } from './least-outstanding-requests.js';
import { failover } from './off.js';
import { proximitySteering } from './proximity.js';
import { weightedRandomPools } from './random.js';
import type { PoolSteering, SteerablePool, SteeringInput } from './types.js';

/** The config names, for the schema's enum (Cloudflare's `steering_policy` values). */
export const STEERING = ['off', 'random', 'geo', 'proximity', 'dynamic_latency', 'least_outstanding_requests'] as const;
export type SteeringPolicy = (typeof STEERING)[number];

/** What a load balancer gets when it names none. */
export const DEFAULT_STEERING: SteeringPolicy = 'off';

/** Policies hold no state: one instance each, shared by every load balancer. */
export const steeringPolicies: Readonly<Record<SteeringPolicy, PoolSteering>> = {
  off: failover,
  random: weightedRandomPools,
  geo: geoSteering,
  proximity: proximitySteering,
  dynamic_latency: dynamicLatency,
  least_outstanding_requests: leastOutstandingPools,
};

/** The policy named `name`; throws on a name the schema should have refused. */
export function pickOrder(name: SteeringPolicy): PoolSteering {
  const policy = Object.hasOwn(steeringPolicies, name) ? steeringPolicies[name] : undefined;
  if (!policy) throw new Error(`unknown steering policy: ${String(name)}`);
  return policy;
}

/**
 * Every pool a request may go to, in order: the policy's healthy pools, then the fallback pool
 * when it is healthy and not already listed. So the fallback is the first choice only when no
 * steered pool is healthy, and otherwise the last resort of a retry that failed over across
 * pools. Empty when nothing is healthy: the caller answers 530.
 */
export function poolsFor<P extends SteerablePool>(input: SteeringInput<P>, policy: PoolSteering | SteeringPolicy): P[] {
  const order = (typeof policy === 'string' ? pickOrder(policy) : policy).order(input);
  const fallback = input.fallback;
  if (fallback && input.healthy(fallback) && !order.some((p) => p.name === fallback.name)) order.push(fallback);
  return order;
}

export { greatCircleKm } from './distance.js';
export type { Coordinates, PoolSteering, SteerablePool, SteeringInput } from './types.js';
