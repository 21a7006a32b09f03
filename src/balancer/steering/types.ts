/**
 * Pool steering (Cloudflare's `steering_policy`): the order in which a load balancer's pools
 * are tried for one request. A policy only reads; the caller gathers health, latency and load
 * and hands them in, so every policy is a pure function of its input (and of `random`).
 */

export interface Coordinates {
  readonly lat: number;
  readonly lon: number;
}

/** What a policy reads of a pool; the balancer's PoolRuntime satisfies it once it has `location`. */
export interface SteerablePool {
  readonly name: string;
  readonly location?: Coordinates;
}

export interface SteeringInput<P extends SteerablePool = SteerablePool> {
  /** The load balancer's pools in failover order. */
  readonly defaultPools: readonly P[];
  /** Last resort: tried after every steered pool, alone when none of them is healthy. */
  readonly fallback?: P;
  /** geo: region code → pools, tried for clients in that region (else for the PoP's region). */
  readonly regionPools: ReadonlyMap<string, readonly P[]>;
  /** geo: client country (ISO 3166-1 alpha-2, as the geo module spells it) → pools. */
  readonly countryPools: ReadonlyMap<string, readonly P[]>;
  /** geo: PoP id → pools; first of all, for every client of that PoP. */
  readonly popPools: ReadonlyMap<string, readonly P[]>;
  /** random and least_outstanding_requests: pool name → weight; missing = `defaultWeight`. */
  readonly poolWeights: ReadonlyMap<string, number>;
  /** Weight of a pool missing from `poolWeights` (Cloudflare's `random_steering.default_weight`); default 1. */
  readonly defaultWeight?: number;
  /** The PoP answering the request. */
  readonly pop: { readonly id: string; readonly region: string; readonly location?: Coordinates };
  /** The client, as far as it is known (geo lookup of its IP). */
  readonly client: { readonly ip: string; readonly country?: string; readonly region?: string; readonly location?: Coordinates };
  /** Whether the pool can take traffic now (enough healthy origins). */
  healthy(pool: P): boolean;
  /** EWMA round-trip time in ms to the pool, measured from this PoP; undefined = no data yet. */
  rtt(pool: P): number | undefined;
  /** Requests in flight from this PoP to the pool. */
  outstanding(pool: P): number;
  /** Uniform [0, 1); seeded in tests. */
  random(): number;
}

export interface PoolSteering {
  /**
   * Healthy pools in preference order, each once; the first is where the request goes, the rest
   * are where a retry fails over to. The fallback pool is not included: `poolsFor` adds it.
   */
  order<P extends SteerablePool>(input: SteeringInput<P>): P[];
}
