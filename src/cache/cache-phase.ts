/**
 * The cache phase (cache lookup): decides whether a request takes part in the cache, answers it
 * from a fresh stored response, answers from a stale one while one background request refreshes
 * it (stale-while-revalidate), or lets it go on to the origin — as the one request that fills
 * the key (coalescing leader), as a waiter that gets the leader's stored answer, or uncached.
 * What the origin answers is labelled and stored on the way back, by its response filter (fill.ts).
 */
import type { Phase, RequestContext } from '../pipeline/context.js';
import type { RuleConfig } from '../config/cache-schema.js';
import { settle, type CacheExchange } from './edge-cache.js';
import { cacheUrl, cookies, primaryKey, variantKey } from './key.js';
import { entryState } from './policy/lookup.js';
import { parseCacheControl } from './policy/cache-control.js';
import { revalidationHeaders } from './policy/validation.js';
import { serveEntry } from './serve.js';
import { revalidateInBackground } from './revalidate.js';
import { cacheWayBack } from './fill.js';
import type { StoredEntry } from './types.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Request fields some origin frameworks read to override the URL, host or method, and which the
 * cache key does not hold (Cloudflare keys on them): a request that carries one may be answered
 * from the cache, but what the origin answers it is never stored, so nobody can plant a response
 * under a URL it does not belong to (cache poisoning). X-Forwarded-Host and -Proto need no entry:
 * the edge replaces them with its own values before the origin sees them (upstream/headers.ts).
 */
const OVERRIDE_FIELDS = ['x-original-url', 'x-rewrite-url', 'x-http-method-override', 'x-http-method', 'x-method-override', 'x-host', 'x-forwarded-scheme', 'forwarded'];

export const cacheLookup: Phase = {
  name: 'cache',
  response: cacheWayBack,
  run(ctx) {
    const method = ctx.method;
    const rule = ctx.rule;
    const label = rule?.match ?? '-';
    if (method !== 'GET' && method !== 'HEAD') {
      if (SAFE.has(method)) return false;
      const x = (ctx.cache = exchange(ctx, rule, label, 'standard', 'bypass', 'method', true));
      return ctx.edge.cache.nodeLock ? ctx.edge.cache.beforeUnsafe(x.key, x.url).then(() => false) : false;
    }
    const level = rule?.cache ?? ctx.edge.cache.settings.level;
    if (level === 'bypass') {
      ctx.cache = exchange(ctx, rule, label, 'standard', 'bypass', 'rule', false);
      return false;
    }
    if (rule?.bypassCacheOnCookie && hasCookieMatching(ctx.req.headers.cookie, rule)) {
      ctx.cache = exchange(ctx, rule, label, level, 'bypass', 'cookie', false);
      return false;
    }
    const x = exchange(ctx, rule, label, level, 'miss', undefined, false);
    return freshInMemory(ctx, x) || lookup(ctx, x);
  },
};

/**
 * The hot path: a fresh response in the memory tier answers at once, without a promise turn.
 * Anything else (not in memory, stale, a request with Authorization) takes the full lookup.
 */
function freshInMemory(ctx: RequestContext, x: CacheExchange): boolean {
  const store = ctx.edge.cache.store;
  if (!store.peek) return false;
  let entry = store.peek(x.key);
  if (entry && entry.meta.status === 0) entry = store.peek(variantKey(x.key, entry.meta.vary, ctx.req.headers));
  if (!entry || ctx.req.headers.authorization !== undefined) return false;
  const now = Date.now();
  const state = entryState(entry.meta, now);
  if (!state.fresh) return false;
  countHit(ctx, x, 'hit', entry);
  serveEntry(ctx, entry, `outpost; hit; ttl=${Math.floor(entry.meta.lifetime - state.age)}`, now);
  return true;
}

function exchange(ctx: RequestContext, rule: RuleConfig | undefined, label: string, level: 'standard' | 'everything', fwd: string, detail: string | undefined, invalidate: boolean): CacheExchange {
  const url = cacheUrl(ctx.scheme, ctx.host, ctx.path, rule);
  return {
    key: primaryKey(url, ctx.req.headers, rule),
    url,
    level,
    label,
    stale: undefined,
    lead: undefined,
    fwd,
    detail,
    requestTime: 0,
    revalidate: undefined,
    invalidate,
    writer: undefined,
  };
}

async function lookup(ctx: RequestContext, x: CacheExchange): Promise<boolean> {
  const cache = ctx.edge.cache;
  ctx.cache = x;
  let entry = await find(ctx, x);
  let now = Date.now();
  if (entry && cache.store.getShared && !entryState(entry.meta, now).fresh) {
    // This worker's memory copy is stale: another worker may have refreshed the shared one.
    entry = (await find(ctx, x, true)) ?? entry;
    now = Date.now();
  }
  if (entry && usable(ctx, entry)) {
    const state = entryState(entry.meta, now);
    if (state.fresh) {
      countHit(ctx, x, 'hit', entry);
      serveEntry(ctx, entry, `outpost; hit; ttl=${Math.floor(entry.meta.lifetime - state.age)}`, now);
      return true;
    }
    if (state.serveStaleWhileRevalidate) {
      countHit(ctx, x, 'stale', entry);
      serveEntry(ctx, entry, `outpost; hit; ttl=${Math.floor(entry.meta.lifetime - state.age)}; detail=stale-while-revalidate`, now);
      revalidateInBackground(ctx, x, entry);
      return true;
    }
    x.stale = entry;
    x.fwd = 'stale';
    x.revalidate = revalidationHeaders(entry.meta);
  }
  // A range request that misses goes through as it is, and is not stored (only whole answers are).
  // A HEAD that misses fills the cache with a GET (as Cloudflare does); its client gets the head.
  if (ctx.req.headers.range !== undefined) {
    if (!entry && cache.nodeLock && (await filledMeanwhile(ctx, x))) return true;
    if (!x.stale) x.fwd = x.fwd === 'vary-miss' ? 'vary-miss' : 'miss';
    x.detail = 'range';
    x.stale = undefined;
    return false;
  }
  const h = ctx.req.headers;
  for (const name of OVERRIDE_FIELDS) {
    if (h[name] !== undefined) {
      x.detail = 'unkeyed-header';
      x.stale = undefined;
      return false;
    }
  }
  return coalesce(ctx, x, true);
}

/**
 * The key missed (or is stale): lead its fill, wait for the one under way, or pass. `again`: a
 * waiter whose leader stored an entry that must be revalidated before use (no-cache) joins once
 * more to revalidate it, instead of fetching it whole.
 */
async function coalesce(ctx: RequestContext, x: CacheExchange, again: boolean): Promise<boolean> {
  const cache = ctx.edge.cache;
  const joined = cache.coalescer.join(x.key);
  if (joined.role === 'lead') {
    const nodeLock = cache.nodeLock;
    if (nodeLock) {
      // Other workers may be filling this key into the shared tier: one fill per node.
      let r = await nodeLock.acquire(x.key, cache.settings.coalescing.waitTimeout);
      // 'failed': the holder stored nothing (an unsafe request or a range waiting out a fill, or a
      // fill that failed): ask again, to lead the fill rather than race another worker's.
      if (r === 'failed') r = await nodeLock.acquire(x.key, cache.settings.coalescing.waitTimeout);
      if (r === 'stored' || r === 'lead') {
        // 'stored': another worker filled it while we waited. 'lead': another worker may have
        // committed it between our lookup and the lock (it holds the lock until its commit), so
        // look once more: a client that asks again the moment it has its answer gets a hit from
        // any worker, as it would from one.
        const found = await sharedEntry(ctx, x);
        const now = Date.now();
        const state = found && entryState(found.meta, now);
        if (found && state!.fresh) {
          if (r === 'lead') nodeLock.release(x.key, 'stored');
          joined.done('stored'); // this worker's waiters find it too
          countHit(ctx, x, 'hit', found);
          serveEntry(ctx, found, r === 'lead' ? `outpost; hit; ttl=${Math.floor(found.meta.lifetime - state!.age)}` : 'outpost; hit; collapsed', now);
          return true;
        }
        if (found) {
          // Stored but stale (no-cache, say): revalidated, as the lookup would have had it.
          x.stale = found;
          x.fwd = 'stale';
          x.revalidate = revalidationHeaders(found.meta);
        }
      } else if (r === 'uncacheable') {
        joined.done('uncacheable');
        x.detail = 'hit-for-miss';
        x.stale = undefined;
        return false;
      }
      // 'lead', or the other worker failed or took too long: this worker fills it.
      x.lead = {
        done: (outcome) => {
          joined.done(outcome);
          if (r === 'lead') nodeLock.release(x.key, outcome);
        },
      };
    } else {
      x.lead = joined;
    }
    ctx.res!.once('close', () => {
      if (!x.writer) settle(x, 'failed');
    });
    return false;
  }
  if (joined.role === 'pass') {
    x.detail = joined.reason;
    return false;
  }
  const outcome = await joined.result;
  if (outcome === 'stored') {
    const filled = await find(ctx, x);
    if (filled && usable(ctx, filled) && entryState(filled.meta, Date.now()).fresh) {
      countHit(ctx, x, 'hit', filled);
      serveEntry(ctx, filled, 'outpost; hit; collapsed', Date.now());
      return true;
    }
    if (filled && usable(ctx, filled) && again) {
      x.stale = filled;
      x.fwd = 'stale';
      x.revalidate = revalidationHeaders(filled.meta);
      return coalesce(ctx, x, false);
    }
  }
  // The leader's answer was not stored, failed, or took too long: this one goes to the origin uncached.
  x.detail = outcome === 'timeout' ? 'lock-timeout' : 'collapsed-uncacheable';
  x.stale = undefined;
  return false;
}

/**
 * A request that fills nothing (a range) and missed: another worker may be committing the key
 * (it holds the node's lock until then); once the lock is free, a fresh entry answers it.
 */
async function filledMeanwhile(ctx: RequestContext, x: CacheExchange): Promise<boolean> {
  const lock = ctx.edge.cache.nodeLock!;
  const r = await lock.acquire(x.key, ctx.edge.cache.settings.coalescing.waitTimeout);
  if (r === 'lead') lock.release(x.key, 'failed'); // filled nothing: a waiter fills it itself
  const found = await sharedEntry(ctx, x);
  const now = Date.now();
  const state = found && entryState(found.meta, now);
  if (!found || !state!.fresh) return false;
  countHit(ctx, x, 'hit', found);
  serveEntry(ctx, found, `outpost; hit; ttl=${Math.floor(found.meta.lifetime - state!.age)}`, now);
  return true;
}

/** A usable entry in the shared tier, or undefined; `x` is left as it was. */
async function sharedEntry(ctx: RequestContext, x: CacheExchange): Promise<StoredEntry | undefined> {
  const fwd = x.fwd;
  const found = await find(ctx, x, true);
  x.fwd = fwd;
  return found && usable(ctx, found) ? found : undefined;
}

/** The stored entry for this request: the primary key's, or through its Vary marker the variant's. */
async function find(ctx: RequestContext, x: CacheExchange, shared = false): Promise<StoredEntry | undefined> {
  const store = ctx.edge.cache.store;
  const get = shared && store.getShared ? (k: string) => store.getShared!(k) : (k: string) => store.get(k);
  const primary = await get(x.key);
  if (!primary) {
    x.fwd = 'uri-miss';
    return undefined;
  }
  if (primary.meta.status !== 0) return primary;
  const variant = await get(variantKey(x.key, primary.meta.vary, ctx.req.headers));
  if (!variant) x.fwd = 'vary-miss';
  return variant;
}

/**
 * A stored response may answer this request: a request with Authorization only from a response
 * that allows it (RFC 9111 §3.5); the cache lookup never reads the client's Cache-Control (as
 * nginx, Varnish and Cloudflare, so a client cannot force origin fetches).
 */
function usable(ctx: RequestContext, entry: StoredEntry): boolean {
  if (ctx.req.headers.authorization === undefined) return true;
  const cc = parseCacheControl(entry.meta.headers['cache-control']);
  return cc.public === true || cc.mustRevalidate === true || cc.sMaxage !== undefined;
}

function hasCookieMatching(header: string | undefined, rule: RuleConfig): boolean {
  if (!header) return false;
  const re = cookieRegex(rule);
  for (const name of cookies(header).keys()) if (re.test(name)) return true;
  return false;
}

const regexes = new WeakMap<RuleConfig, RegExp>();
function cookieRegex(rule: RuleConfig): RegExp {
  let re = regexes.get(rule);
  if (!re) regexes.set(rule, (re = new RegExp(`^(?:${rule.bypassCacheOnCookie!})$`, 'i')));
  return re;
}

function countHit(ctx: RequestContext, x: CacheExchange, result: string, entry: StoredEntry): void {
  const labels = { host: ctx.lb!.config.hostname, rule: x.label };
  ctx.edge.metrics.cacheRequests.inc({ ...labels, result });
  if (ctx.method === 'GET') ctx.edge.metrics.cacheBytes.inc(labels, entry.meta.size);
  ctx.cache = undefined; // answered here: nothing left for the way back
  ctx.cacheResult = result;
}
