/**
 * Pools at run time and the choice of a pool for a request.
 * Steering `off` = failover order: the first of defaultPools that can take traffic, then the
 * fallback pool. Health (issue: global load balancing) will narrow "can take traffic"; for now an
 * origin can when it is enabled.
 */
import type { LoadBalancerConfig, PoolConfig } from '../config/schema.js';
import type { OriginRuntime } from '../upstream/origin.js';
import { originSelectors, type OriginSelector } from './origin/index.js';

export interface PoolRuntime {
  readonly name: string;
  readonly region: string | undefined;
  readonly origins: readonly OriginRuntime[];
  /** The origins that may receive traffic now. */
  available(): readonly OriginRuntime[];
  readonly selector: OriginSelector;
}

export interface LoadBalancerRuntime {
  readonly hostname: string;
  readonly pools: readonly PoolRuntime[];
  readonly fallback: PoolRuntime | undefined;
}

export function buildPool(name: string, cfg: PoolConfig, origins: OriginRuntime[]): PoolRuntime {
  const enabled = origins.filter((o) => o.enabled);
  return {
    name,
    region: cfg.region,
    origins,
    available: () => enabled,
    selector: originSelectors[cfg.originSteering](),
  };
}

export function buildLoadBalancer(cfg: LoadBalancerConfig, pools: Map<string, PoolRuntime>): LoadBalancerRuntime {
  return {
    hostname: cfg.hostname,
    pools: cfg.defaultPools.map((p) => pools.get(p)!),
    fallback: cfg.fallbackPool ? pools.get(cfg.fallbackPool) : undefined,
  };
}

/** The pool for a request: failover order, then fallback. Undefined when none can serve. */
export function pickPool(lb: LoadBalancerRuntime): PoolRuntime | undefined {
  for (const pool of lb.pools) if (pool.available().length > 0) return pool;
  if (lb.fallback && lb.fallback.available().length > 0) return lb.fallback;
  return undefined;
}

/** The origin for a request in `pool`, skipping any in `exclude` (origins already tried). */
export function pickOrigin(pool: PoolRuntime, exclude?: ReadonlySet<OriginRuntime>, key?: string): OriginRuntime | undefined {
  let candidates = pool.available();
  if (exclude && exclude.size > 0) candidates = candidates.filter((o) => !exclude.has(o));
  if (candidates.length === 0) return undefined;
  return pool.selector.pick(candidates, key);
}

/**
 * Another origin for a retry: first in the same pool, then in the next pools of the failover
 * order (and the fallback pool), skipping every origin already tried.
 */
export function pickRetryOrigin(lb: LoadBalancerRuntime, current: PoolRuntime, tried: ReadonlySet<OriginRuntime>): { pool: PoolRuntime; origin: OriginRuntime } | undefined {
  const same = pickOrigin(current, tried);
  if (same) return { pool: current, origin: same };
  for (const pool of lb.fallback ? [...lb.pools, lb.fallback] : lb.pools) {
    if (pool === current) continue;
    const origin = pickOrigin(pool, tried);
    if (origin) return { pool, origin };
  }
  return undefined;
}
