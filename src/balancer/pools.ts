/**
 * Pools and load balancers at run time, and the choices made for a request: the pools in the
 * steering policy's order (steering/), then an origin in the first pool (origin/), skipping what
 * admin state and health rule out (origin-status.ts).
 */
import type { LoadBalancerConfig, PoolConfig } from '../config/schema.js';
import type { OriginRuntime } from '../upstream/origin.js';
import type { OriginStatus } from './origin-status.js';
import { originSelectors, type OriginSelector } from './origin/index.js';
import { pickOrder, type PoolSteering } from './steering/index.js';

export interface PoolRuntime {
  readonly name: string;
  readonly region: string | undefined;
  readonly location: { lat: number; lon: number } | undefined;
  readonly monitor: string | undefined;
  readonly minimumOrigins: number;
  readonly origins: readonly OriginRuntime[];
  readonly selector: OriginSelector;
  /** The origins that may receive new traffic now. */
  available(): readonly OriginRuntime[];
  /** At least minimumOrigins origins are available (Cloudflare: the pool is not Critical). */
  healthy(): boolean;
  /** Requests in flight from the node to the pool's origins (this worker's, and the others' as last published). */
  outstanding(): number;
}

export interface LoadBalancerRuntime {
  readonly hostname: string;
  readonly config: LoadBalancerConfig;
  readonly pools: readonly PoolRuntime[];
  readonly fallback: PoolRuntime | undefined;
  /** defaultPools then the fallback, each once: steering `off` walks it as is. */
  readonly failoverOrder: readonly PoolRuntime[];
  readonly steering: PoolSteering;
  readonly regionPools: ReadonlyMap<string, readonly PoolRuntime[]>;
  readonly countryPools: ReadonlyMap<string, readonly PoolRuntime[]>;
  readonly popPools: ReadonlyMap<string, readonly PoolRuntime[]>;
  readonly poolWeights: ReadonlyMap<string, number>;
  /** Does this balancer's steering read the client's location (geo lookup needed)? */
  readonly needsClientGeo: boolean;
}

export function buildPool(name: string, cfg: PoolConfig, origins: OriginRuntime[], status: OriginStatus): PoolRuntime {
  return {
    name,
    region: cfg.region,
    location: cfg.location,
    monitor: cfg.monitor,
    minimumOrigins: Math.min(cfg.minimumOrigins, origins.length),
    origins,
    selector: originSelectors[cfg.originSteering]({ load: status }),
    available() {
      const now = Date.now();
      let out: OriginRuntime[] | undefined;
      for (let i = 0; i < origins.length; i++) {
        const o = origins[i];
        if (status.usable(o, now)) {
          if (out) out.push(o);
        } else out ??= origins.slice(0, i);
      }
      return out ?? origins;
    },
    healthy() {
      return this.available().length >= this.minimumOrigins;
    },
    outstanding() {
      let n = 0;
      for (const o of origins) n += status.inflight(o);
      return n;
    },
  };
}

export function buildLoadBalancer(cfg: LoadBalancerConfig, pools: Map<string, PoolRuntime>, normalizeRegion: (r: string) => string): LoadBalancerRuntime {
  const list = (names: readonly string[]) => names.map((p) => pools.get(p)!);
  const map = (m: Record<string, readonly string[]>, key: (k: string) => string = (k) => k) => new Map(Object.entries(m).map(([k, v]) => [key(k), list(v)] as const));
  return {
    hostname: cfg.hostname,
    config: cfg,
    pools: list(cfg.defaultPools),
    fallback: cfg.fallbackPool ? pools.get(cfg.fallbackPool) : undefined,
    failoverOrder: [...new Set([...list(cfg.defaultPools), ...(cfg.fallbackPool ? [pools.get(cfg.fallbackPool)!] : [])])],
    steering: pickOrder(cfg.steering),
    regionPools: map(cfg.regionPools, normalizeRegion),
    countryPools: map(cfg.countryPools, (k) => k.toUpperCase()),
    popPools: map(cfg.popPools),
    poolWeights: new Map(Object.entries(cfg.randomSteering.poolWeights)),
    needsClientGeo: cfg.steering === 'geo' || cfg.steering === 'proximity',
  };
}

/** The origin for a request in `pool`, skipping any in `exclude` (origins already tried). */
export function pickOrigin(pool: PoolRuntime, exclude?: ReadonlySet<OriginRuntime>, key?: string): OriginRuntime | undefined {
  let candidates = pool.available();
  if (exclude && exclude.size > 0) candidates = candidates.filter((o) => !exclude.has(o));
  if (candidates.length === 0) return undefined;
  return pool.selector.pick(candidates, key);
}

/**
 * Another origin for a retry: first in the same pool, then — when the load balancer allows
 * failover across pools — in the next pools of this request's order, skipping every origin
 * already tried.
 */
export function pickRetryOrigin(
  lb: LoadBalancerRuntime,
  current: PoolRuntime,
  tried: ReadonlySet<OriginRuntime>,
  order: readonly PoolRuntime[] | undefined,
  key?: string,
): { pool: PoolRuntime; origin: OriginRuntime } | undefined {
  const same = pickOrigin(current, tried, key);
  if (same) return { pool: current, origin: same };
  if (!lb.config.adaptiveRouting.failoverAcrossPools) return undefined;
  for (const pool of order ?? []) {
    if (pool === current) continue;
    const origin = pickOrigin(pool, tried, key);
    if (origin) return { pool, origin };
  }
  return undefined;
}
