/**
 * The cache on the way back (the response phase's cache part): what the origin answered is
 * labelled (Cache-Status, RFC 9211), stored when the policy allows (policy/storable.ts), merged
 * into the stored response on a 304 (RFC 9111 §4.3.4), replaced by the stale copy when the origin
 * fails and stale-if-error or the rule's serveStale allows (RFC 5861 §4), and unsafe methods
 * invalidate what they changed (§4.4). It is the cache phase's response filter (`cacheWayBack`),
 * which the way back (pipeline/way-back.ts) runs as the upstream phase moves the answer; it never
 * throws into it.
 */
import type { ServerResponse } from 'node:http';
import type { RequestContext, ResponseFilter, ResponseHead } from '../pipeline/context.js';
import { settle, type CacheExchange } from './edge-cache.js';
import { VARIANT, variantKey } from './key.js';
import { decideFill, type FillDecision } from './policy/storable.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { CacheConfig, RuleConfig } from '../config/cache-schema.js';
import { entryState } from './policy/lookup.js';
import { mergeNotModified, notModifiedMatches } from './policy/validation.js';
import { invalidatedUrls } from './policy/invalidation.js';
import { evaluatePreconditions } from './policy/preconditions.js';
import { clientCacheControl } from './policy/browser-ttl.js';
import { serveEntry } from './serve.js';
import type { StoredMeta } from './types.js';
import { compressedHeaderObject } from '../upstream/compression.js';

/** Request fields a filling request must not forward: the origin's answer has to be whole and unconditional. */
const CLIENT_CONDITIONALS = new Set(['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range']);

/** The upstream request headers of a request that fills the cache: the client's conditionals out, ours in. */
export function fillRequestHeaders(headers: string[], x: CacheExchange): string[] {
  x.requestTime = Date.now();
  if (!x.lead) return headers;
  return withoutClientConditionals(headers, x.revalidate);
}

/** Flat request headers without the client's conditionals and Range, plus `ours` (revalidation). */
export function withoutClientConditionals(headers: readonly string[], ours: Record<string, string> | undefined): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (!CLIENT_CONDITIONALS.has(headers[i].toLowerCase())) out.push(headers[i], headers[i + 1]);
  if (ours) for (const name in ours) out.push(name, ours[name]);
  return out;
}

/** What the policy decides for an origin answer, under the request's rule and the cache's settings. */
export function decideFor(
  fill: { rule: RuleConfig | undefined; settings: CacheConfig; level: 'standard' | 'everything'; requestHeaders: IncomingHttpHeaders; requestTime: number; responseTime: number },
  status: number,
  headers: Record<string, string>,
  setCookie: boolean,
): FillDecision {
  const { rule, settings } = fill;
  return decideFill({
    method: 'GET',
    requestHeaders: fill.requestHeaders,
    status,
    responseHeaders: setCookie ? { ...headers, 'set-cookie': '1' } : headers,
    requestTime: fill.requestTime,
    responseTime: fill.responseTime,
    level: fill.level,
    edgeTtl: rule?.edgeTtl === undefined ? undefined : rule.edgeTtl / 1000,
    originCacheControl: rule?.originCacheControl ?? true,
    defaultTtl: (s) => {
      const t = settings.defaultTtl[String(s)];
      return t === undefined ? undefined : t / 1000;
    },
    heuristicFraction: settings.heuristicFraction,
  });
}

/** The metadata of a response the policy let in. */
export function metaOf(d: Extract<FillDecision, { store: true }>, at: { key: string; url: string; host: string; status: number; requestTime: number; responseTime: number; size: number }): StoredMeta {
  return {
    ...at,
    headers: d.headers,
    initialAge: d.initialAge,
    lifetime: d.lifetime,
    staleWhileRevalidate: d.staleWhileRevalidate,
    staleIfError: d.staleIfError,
    mustRevalidate: d.mustRevalidate,
    noCache: d.noCache,
    vary: d.vary,
    tags: d.tags,
  };
}

/** Response header fields as one object: lowercase names, repeated fields joined (Set-Cookie kept apart). */
export function headerObject(raw: readonly (Buffer | string)[]): { headers: Record<string, string>; setCookie: boolean } {
  const headers: Record<string, string> = {};
  let setCookie = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString().toLowerCase();
    const value = raw[i + 1].toString('latin1' as never);
    if (name === 'set-cookie') {
      setCookie = true;
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { headers, setCookie };
}

/**
 * The cache on the way back: the cache phase's response filter (pipeline/way-back.ts runs it).
 * A request the cache phase let through (`ctx.cache`) has its answer labelled, stored, merged
 * or replaced here; others pass untouched.
 */
export const cacheWayBack: ResponseFilter = {
  head(ctx, head) {
    if (ctx.cache) originHead(ctx, ctx.cache, head);
  },
  data(ctx, chunk) {
    if (ctx.cache) onOriginData(ctx.cache, chunk);
  },
  end(ctx) {
    if (ctx.cache) onOriginComplete(ctx, ctx.cache);
  },
  needsBody(ctx) {
    return ctx.cache?.writer !== undefined;
  },
  failed(ctx) {
    return ctx.cache !== undefined && onOriginFailure(ctx, ctx.cache);
  },
  abandoned(ctx) {
    if (ctx.cache) abandonFill(ctx.cache);
  },
};

/**
 * The origin's response head arrived. `head.headers` is what would be sent as is (hop-by-hop
 * removed, Via and request id added); this labels it, or holds it (an invalidation first), or
 * answers the client from the cache instead.
 */
function originHead(ctx: RequestContext, x: CacheExchange, head: ResponseHead): void {
  const { status, raw, compression: plan } = head;
  const clientHeaders = head.headers;
  const cache = ctx.edge.cache;
  const now = Date.now();
  if (x.invalidate) {
    head.headers = labelled(clientHeaders, `outpost; fwd=bypass; detail=method`);
    if (status < 200 || status >= 400) return;
    const urls = invalidatedUrls(ctx.method, status, `${ctx.scheme}://${ctx.authority}${ctx.path}`, headerObject(raw).headers);
    head.hold = cache.invalidate(
      urls.map((u) => lowerHost(u)),
      (url) => ctx.snapshot.rules(url)?.rule,
    );
    return;
  }
  if (!x.lead) {
    ctx.cacheResult = x.fwd === 'bypass' ? 'bypass' : 'miss';
    countRequest(ctx, x, ctx.cacheResult);
    const detail = x.detail ? `; detail=${x.detail}` : '';
    head.headers = labelled(clientHeaders, `outpost; fwd=${x.fwd}; fwd-status=${status}${detail}`);
    return;
  }

  const parsed = headerObject(raw);
  const setCookie = parsed.setCookie;
  // What is stored is what this client gets: compressed when the edge compresses it.
  const headers = plan ? compressedHeaderObject(parsed.headers, plan) : parsed.headers;
  const stale = x.stale;
  if (status === 304 && stale && x.revalidate && notModifiedMatches(stale.meta, headers)) {
    const merged = mergeNotModified(stale.meta.headers, headers);
    const meta = storedMeta(ctx, x, stale.meta.status, merged, false, now, stale.meta.size, stale.meta.key);
    ctx.cacheResult = 'revalidated';
    countRequest(ctx, x, 'revalidated');
    if (meta) {
      const done = cache.store.update(meta).then(
        (ok) => settle(x, ok ? 'stored' : 'failed'),
        () => settle(x, 'failed'),
      );
      const entry = { meta, body: stale.body };
      if (cache.store.getShared === undefined) serveEntry(ctx, entry, 'outpost; fwd=stale; fwd-status=304', now);
      // Other workers read the shared tier: the client is answered once the merge is there, so
      // asking again at once through another worker finds it (as with one worker).
      else
        void done.then(() => {
          if (!ctx.res!.destroyed) serveEntry(ctx, entry, 'outpost; fwd=stale; fwd-status=304', Date.now());
        });
    } else {
      // No longer storable (the 304 brought no-store, say): this answer still uses the stored body, once.
      cache.store.delete(stale.meta.key).catch(() => {});
      settle(x, 'uncacheable');
      serveEntry(
        ctx,
        { meta: { ...stale.meta, headers: merged, requestTime: x.requestTime, responseTime: now, initialAge: 0, lifetime: 0 }, body: stale.body },
        'outpost; fwd=stale; fwd-status=304',
        now,
      );
    }
    head.answered = true;
    return;
  }
  if (status >= 500 && stale && mayServeStaleOnError(ctx, x, now)) {
    serveStaleOnError(ctx, x, `fwd-status=${status}`, now);
    head.answered = true;
    return;
  }

  const length = Number(headers['content-length']);
  const meta = storedMeta(ctx, x, status, headers, setCookie, now, Number.isFinite(length) ? length : 0, undefined);
  const label = `outpost; fwd=${x.fwd}; fwd-status=${status}`;
  countRequest(ctx, x, 'miss');
  ctx.cacheResult = 'miss';
  if (!meta) {
    settle(x, 'uncacheable');
    head.headers = labelled(clientHeaders, `${label}; detail=${x.detail ?? 'uncacheable'}`);
    return;
  }
  x.writer = cache.store.put(meta);
  cache.checkStore();
  if (!x.writer) {
    settle(x, 'failed');
    head.headers = labelled(clientHeaders, `${label}; detail=${cache.store.failure ? 'store-failed' : 'too-large'}`);
    return;
  }
  pendingMeta.set(x, meta);
  // The client's own preconditions, which were not forwarded, are answered here (RFC 9110 §13.2.2).
  const pre = evaluatePreconditions(ctx.method, ctx.req.headers, meta);
  if (pre !== 200) {
    const res = ctx.res as ServerResponse;
    ctx.status = pre;
    res.writeHead(
      pre,
      labelled(pick(clientHeaders, ['etag', 'cache-control', 'date', 'expires', 'vary', 'last-modified', 'content-location', 'via', 'x-request-id']), `${label}; stored`) as unknown as Record<
        string,
        string
      >,
    );
    res.end();
    head.answered = true;
    return;
  }
  head.headers = forClient(ctx, labelled(clientHeaders, `${label}; stored`), meta);
}

const pendingMeta = new WeakMap<CacheExchange, StoredMeta>();

/** A client's request as the cache answered it; a background refresh is not one. */
function countRequest(ctx: RequestContext, x: CacheExchange, result: string): void {
  if (!x.background) ctx.edge.metrics.cacheRequests.inc({ host: ctx.lb!.config.hostname, rule: x.label, result });
}

/** A chunk of the origin's body; stops storing when the object outgrows the store's cap. */
function onOriginData(x: CacheExchange, chunk: Buffer): void {
  if (x.writer && !x.writer.write(chunk)) {
    x.writer = undefined;
    settle(x, 'uncacheable');
  }
}

/** The origin's body ended: the entry is committed (with its Vary marker), then waiters are let go. */
function onOriginComplete(ctx: RequestContext, x: CacheExchange): void {
  const writer = x.writer;
  if (!writer) return;
  const meta = pendingMeta.get(x)!;
  const store = ctx.edge.cache.store;
  // x.writer stays set until the entry is committed: the client's response may close first, and
  // that must not count as a failed fill.
  const commit = writer
    .end()
    .then(
      async () => {
        if (meta.vary.length) {
          const marker = store.put({ ...meta, key: x.key, status: 0, headers: {}, size: 0, tags: [] });
          if (marker) await marker.end();
        }
        x.writer = undefined;
        settle(x, 'stored');
      },
      () => {
        x.writer = undefined;
        settle(x, 'failed');
      },
    )
    .catch(() => settle(x, 'failed'));
  ctx.edge.cache.track(commit);
}

/**
 * The exchange with the origin failed for good (retries spent). True when the client was
 * answered from a stale copy (stale-if-error, or the rule's serveStale / always online).
 */
function onOriginFailure(ctx: RequestContext, x: CacheExchange): boolean {
  x.writer?.abort();
  x.writer = undefined;
  const now = Date.now();
  if (x.stale && !ctx.res!.headersSent && mayServeStaleOnError(ctx, x, now)) {
    serveStaleOnError(ctx, x, 'fwd-status=0', now);
    return true;
  }
  settle(x, 'failed');
  return false;
}

/** The exchange ended without an answer to give (the client left): nothing is stored, waiters are let go. */
function abandonFill(x: CacheExchange): void {
  x.writer?.abort();
  x.writer = undefined;
  settle(x, 'failed');
}

function mayServeStaleOnError(ctx: RequestContext, x: CacheExchange, now: number): boolean {
  return ctx.rule?.serveStale === true || entryState(x.stale!.meta, now).serveStaleIfError;
}

function serveStaleOnError(ctx: RequestContext, x: CacheExchange, fwdStatus: string, now: number): void {
  const detail = ctx.rule?.serveStale ? 'always-online' : 'stale-if-error';
  ctx.cacheResult = 'stale';
  ctx.error = undefined;
  countRequest(ctx, x, 'stale');
  serveEntry(ctx, x.stale!, `outpost; fwd=stale; ${fwdStatus}; detail=${detail}`, now);
  settle(x, 'failed');
}

/** The metadata to store for an origin answer, or undefined when the policy says not to store it. */
function storedMeta(
  ctx: RequestContext,
  x: CacheExchange,
  status: number,
  headers: Record<string, string>,
  setCookie: boolean,
  now: number,
  size: number,
  key: string | undefined,
): StoredMeta | undefined {
  const requestTime = x.requestTime || now;
  const fill = { rule: ctx.rule, settings: ctx.edge.cache.settings, level: x.level, requestHeaders: ctx.req.headers, requestTime, responseTime: now };
  const d = decideFor(fill, status, headers, setCookie);
  if (!d.store) {
    x.detail ??= d.reason;
    return undefined;
  }
  return metaOf(d, { key: key ?? variantKey(x.key, d.vary, ctx.req.headers), url: x.url, host: ctx.host, status, requestTime, responseTime: now, size });
}

/** Headers for the client of a stored fill: Cache-Tag is ours, the browser TTL of the rule applies. */
function forClient(ctx: RequestContext, headers: string[], meta: StoredMeta): string[] {
  const browserTtl = ctx.rule?.browserTtl;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i].toLowerCase();
    if (name === 'cache-tag') continue;
    if (browserTtl !== undefined && (name === 'cache-control' || name === 'expires')) continue;
    out.push(headers[i], headers[i + 1]);
  }
  if (browserTtl !== undefined) {
    const cc = clientCacheControl(meta.headers['cache-control'], browserTtl / 1000);
    if (cc !== undefined) out.push('cache-control', cc);
    if (meta.headers.expires !== undefined && cc === meta.headers['cache-control']) out.push('expires', meta.headers.expires);
  }
  return out;
}

/** Adds Cache-Status (and drops the origin's Cache-Tag, which is for this cache only). */
function labelled(headers: string[], status: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i].toLowerCase() !== 'cache-tag') out.push(headers[i], headers[i + 1]);
  out.push('cache-status', status);
  return out;
}

function pick(headers: string[], names: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (names.includes(headers[i].toLowerCase())) out.push(headers[i], headers[i + 1]);
  return out;
}

function lowerHost(url: string): string {
  return url.replace(/^([a-z]+:\/\/)([^/]+)/i, (_, s: string, h: string) => s + h.toLowerCase().replace(/:\d+$/, ''));
}

export { VARIANT };
