/**
 * The balance phase: session affinity first (Cloudflare: affinity overrides steering), then the
 * steering policy orders the pools and origin steering picks an origin in the first pool that has
 * one. Nothing available: 530, as Cloudflare answers when every pool is down.
 */
import { performance } from 'node:perf_hooks';
import { affinityCookie, readCookie, signPin, verifyPin } from '../balancer/affinity.js';
import { originSelectors } from '../balancer/origin/index.js';
import { pickRetryOrigin, type LoadBalancerRuntime, type PoolRuntime } from '../balancer/pools.js';
import { poolsFor, type SteeringInput } from '../balancer/steering/index.js';
import type { OriginRuntime } from '../upstream/origin.js';
import type { Phase, RequestContext } from './context.js';
import { sendError } from './error-page.js';
import { EdgeError, errorKind } from './errors.js';

/** Consistent hashing for ip_cookie's first pick and header affinity, whatever the pool's policy. */
const byKey = originSelectors.hash();

export const balance: Phase = {
  name: 'balance',
  run(ctx) {
    const lb = ctx.lb!;
    const affinity = lb.config.sessionAffinity;
    if (affinity && affinity.type !== 'none' && affinity.type !== 'header' && pinnedOrigin(ctx, lb)) return false;

    // Failover order needs no steering input: walk the list as is (the common case, and per request).
    const order = lb.config.steering === 'off' ? lb.failoverOrder : poolOrder(ctx, lb);
    const key = affinityKey(ctx);
    const byHash = affinity?.type === 'ip_cookie' || affinity?.type === 'header';
    for (const pool of order) {
      const candidates = pool.available();
      if (candidates.length === 0 || candidates.length < pool.minimumOrigins) continue;
      const origin = (byHash ? byKey : pool.selector).pick(candidates, key);
      if (!origin) continue;
      ctx.pool = pool;
      ctx.origin = origin;
      ctx.poolOrder = order;
      if (affinity && (affinity.type === 'cookie' || affinity.type === 'ip_cookie')) pin(ctx, origin);
      return false;
    }
    sendError(ctx, new EdgeError(530, 'no_origin', 'origin', 'No origin is available to serve this request.'));
    return true;
  },
  response: {
    // A new or moved affinity pin goes back with the answer, whoever made it.
    head(ctx, head) {
      if (ctx.setCookie) head.headers.push('set-cookie', ctx.setCookie);
    },
  },
};

/** The pools in the load balancer's steering order, healthy ones only, the fallback last. */
export function poolOrder(ctx: RequestContext, lb: LoadBalancerRuntime): PoolRuntime[] {
  const edge = ctx.edge;
  if (lb.needsClientGeo && !ctx.client) ctx.client = edge.geo?.lookup(ctx.clientIp) ?? {};
  const pop = ctx.snapshot.config.pop;
  const input: SteeringInput<PoolRuntime> = {
    defaultPools: lb.pools,
    fallback: lb.fallback,
    regionPools: lb.regionPools,
    countryPools: lb.countryPools,
    popPools: lb.popPools,
    poolWeights: lb.poolWeights,
    defaultWeight: lb.config.randomSteering.defaultWeight,
    pop: { id: pop.id, region: edge.normalizeRegion(pop.region), location: pop.location },
    client: { ip: ctx.clientIp, ...ctx.client },
    healthy: (p) => p.healthy(),
    rtt: (p) => edge.status.active?.poolRtt(p.name),
    outstanding: (p) => p.outstanding(),
    random: Math.random,
  };
  return poolsFor(input, lb.steering);
}

/** ip_cookie: the client IP; header: the configured headers' values; else the client IP. */
function affinityKey(ctx: RequestContext): string {
  const a = ctx.lb!.config.sessionAffinity;
  if (a?.type !== 'header') return ctx.clientIp;
  let key = '';
  for (const name of a.headers) {
    const v = ctx.req.headers[name.toLowerCase()];
    if (v !== undefined) key += `${name}=${Array.isArray(v) ? v.join(',') : v};`;
  }
  return key || ctx.clientIp;
}

/**
 * The origin a valid affinity cookie pins, when it may still serve: healthy, in a pool of this
 * load balancer, and enabled — or disabled for less than drainDuration (draining).
 */
function pinnedOrigin(ctx: RequestContext, lb: LoadBalancerRuntime): boolean {
  const a = lb.config.sessionAffinity!;
  const value = readCookie(ctx.req.headers.cookie, a.cookieName);
  if (!value) return false;
  const pinned = verifyPin(value, a.secret ?? ctx.edge.secret, Math.floor(Date.now() / 1000));
  if (!pinned) return false;
  const origin = ctx.snapshot.originsById.get(pinned.originId);
  const pool = origin && ctx.snapshot.pools.get(origin.pool);
  if (!origin || !pool || !servesPool(lb, pool)) return false;
  const status = ctx.edge.status;
  const now = Date.now();
  if (!status.healthy(origin, now)) return false;
  const since = status.disabledSince(origin);
  if (since !== undefined && now - since >= a.drainDuration) return false;
  ctx.pool = pool;
  ctx.origin = origin;
  ctx.pinned = true;
  return true;
}

function servesPool(lb: LoadBalancerRuntime, pool: PoolRuntime): boolean {
  if (lb.pools.includes(pool) || lb.fallback === pool) return true;
  for (const m of [lb.regionPools, lb.countryPools, lb.popPools]) for (const list of m.values()) if (list.includes(pool)) return true;
  return false;
}

/**
 * The origin a failed attempt moves on to, for every kind of request (one place for retries):
 * another origin of this pool, or of the next pools of this request's order when the load
 * balancer allows failover across pools, never one already tried; only within upstream.retries
 * and upstream.retryDeadline, and as the session's pin says (zeroDowntimeFailover: `none` stays,
 * `temporary` answers elsewhere and keeps the pin, `sticky` moves it). `allowed`: what the caller
 * knows besides (the method and body may be sent again, the retry budget has room). On true,
 * ctx.pool and ctx.origin are the next attempt's and the retry is counted.
 */
export function retryOrigin(ctx: RequestContext, failed: OriginRuntime, err: EdgeError, allowed: () => boolean): boolean {
  const upstream = ctx.snapshot.config.upstream;
  const tried = (ctx.tried ??= new Set([failed]));
  if (tried.size > upstream.retries || performance.now() - ctx.start > upstream.retryDeadline || !allowed()) return false;
  const zdf = ctx.pinned ? ctx.lb!.config.sessionAffinity!.zeroDowntimeFailover : undefined;
  if (zdf === 'none') return false;
  const next = pickRetryOrigin(ctx.lb!, ctx.pool!, tried, ctx.poolOrder, ctx.clientIp);
  if (!next) return false;
  if (zdf === 'sticky') pin(ctx, next.origin);
  tried.add(next.origin);
  ctx.pool = next.pool;
  ctx.origin = next.origin;
  ctx.edge.metrics.retries.inc({ origin: failed.id, reason: errorKind(err) });
  return true;
}

/** Sets (or moves) the affinity cookie to `origin`. */
export function pin(ctx: RequestContext, origin: OriginRuntime): void {
  const a = ctx.lb!.config.sessionAffinity!;
  const ttl = Math.floor(a.ttl / 1000);
  const value = signPin({ originId: origin.id, expiresAt: Math.floor(Date.now() / 1000) + ttl }, a.secret ?? ctx.edge.secret);
  ctx.setCookie = affinityCookie(value, {
    name: a.cookieName,
    maxAgeSeconds: ttl,
    secure: a.secure === 'always' || (a.secure === 'auto' && ctx.scheme === 'https') || a.sameSite === 'none',
    httpOnly: a.httpOnly,
    sameSite: a.sameSite === 'auto' ? 'lax' : a.sameSite,
  });
}
