/**
 * Background revalidation for stale-while-revalidate (RFC 5861 §3): the client already got the
 * stale copy; one request per key (the coalescer's leader) asks the origin, conditionally when
 * the entry has validators, and the store is updated: merged on 304 (RFC 9111 §4.3.4), replaced
 * on a storable answer, dropped when the answer may no longer be stored. Failures keep the stale
 * copy. It goes where a request would: the origin the balance phase would pick (steering order,
 * health, the pool's origin selection; no affinity, since no client waits on it), the next one
 * as a client's retry would after a failure to connect (upstream.retries and retryDeadline), and
 * it is counted as any exchange with an origin is (upstream duration and errors, passive health,
 * the origin's requests in flight).
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { pickOrigin, type PoolRuntime } from '../balancer/pools.js';
import { poolOrder, retryOrigin } from '../pipeline/balance.js';
import type { RequestContext } from '../pipeline/context.js';
import { classifyUpstreamError, EdgeError, errorKind } from '../pipeline/errors.js';
import type { OriginRuntime } from '../upstream/origin.js';
import { isConnectPhase } from '../upstream/retry.js';
import { forwardInfo, upstreamRequestHeaders } from '../upstream/headers.js';
import type { CacheExchange } from './edge-cache.js';
import { decideFor, headerObject, metaOf, withoutClientConditionals } from './fill.js';
import { variantKey } from './key.js';
import type { FillDecision } from './policy/storable.js';
import { mergeNotModified, notModifiedMatches, revalidationHeaders } from './policy/validation.js';
import type { StoredEntry, StoredMeta } from './types.js';

export function revalidateInBackground(ctx: RequestContext, x: CacheExchange, entry: StoredEntry): void {
  const cache = ctx.edge.cache;
  if (cache.coalescer.busy(x.key)) return; // someone is already refreshing it
  const joined = cache.coalescer.join(x.key);
  if (joined.role !== 'lead') return; // someone is already refreshing it
  const lb = ctx.lb!;
  const order = lb.config.steering === 'off' ? lb.failoverOrder : poolOrder(ctx, lb);
  let pool: PoolRuntime | undefined;
  let origin: OriginRuntime | undefined;
  for (const p of order) {
    origin = pickOrigin(p, undefined, ctx.clientIp);
    if (origin) {
      pool = p;
      break;
    }
  }
  if (!origin || !pool) {
    joined.done('failed');
    return;
  }
  const via = `1.1 ${ctx.snapshot.config.pop.id}`;
  const validators = revalidationHeaders(entry.meta);
  const requestTime = Date.now();
  const rule = ctx.rule;
  const settings = cache.settings;
  const requestHeaders = ctx.req.headers;
  const host = ctx.host;
  const edge = ctx.edge;
  // The refresh's own attempt: the client's request is answered and keeps its origin, tries and
  // pin; this one starts now, unpinned, and moves on through retryOrigin as a request would.
  const attempt: RequestContext = { ...ctx, pool, origin, poolOrder: order, tried: undefined, pinned: false, start: performance.now() };
  origin.load.inflight++;
  /** One request to the attempt's origin, counted as the upstream phase counts its own. */
  const ask = async (o: OriginRuntime): Promise<Dispatcher.ResponseData> => {
    const headers = withoutClientConditionals(upstreamRequestHeaders(ctx.req.rawHeaders, forwardInfo(attempt, via)), validators);
    const sent = performance.now();
    try {
      const res = await o.dispatcher.request({ origin: o.url.origin, path: ctx.path, method: 'GET', headers, servername: o.url.hostname } as Dispatcher.RequestOptions);
      edge.metrics.upstreamDuration.observe({ origin: o.id }, (performance.now() - sent) / 1000);
      edge.status.passive?.record?.(o.id, res.statusCode >= 500 ? 'server_error' : 'success');
      return res;
    } catch (err) {
      const e = err instanceof EdgeError ? err : classifyUpstreamError(err);
      edge.metrics.upstreamErrors.inc({ origin: o.id, kind: errorKind(e) });
      edge.status.passive?.record?.(o.id, 'connect_failure');
      throw e;
    }
  };
  /** The first answer of the attempt's origin, or of the next ones a client's retry would go to. */
  const answer = async (): Promise<Dispatcher.ResponseData> => {
    for (;;) {
      const o = attempt.origin!;
      try {
        return await ask(o);
      } catch (err) {
        const e = err as EdgeError;
        if (!retryOrigin(attempt, o, e, () => isConnectPhase(e))) throw e;
        o.load.inflight--;
        attempt.origin!.load.inflight++;
      }
    }
  };
  const run = async (): Promise<'stored' | 'uncacheable' | 'failed'> => {
    const res = await answer();
    const responseTime = Date.now();
    const { headers: h, setCookie } = headerObject(flat(res.headers));
    const fill = { rule, settings, level: x.level, requestHeaders, requestTime, responseTime };
    const decide = (status: number, responseHeaders: Record<string, string>) => decideFor(fill, status, responseHeaders, setCookie);
    const meta = (status: number, d: Extract<FillDecision, { store: true }>, key: string, size: number): StoredMeta => metaOf(d, { key, url: x.url, host, status, requestTime, responseTime, size });
    if (res.statusCode === 304 && notModifiedMatches(entry.meta, h)) {
      res.body.resume();
      const merged = mergeNotModified(entry.meta.headers, h);
      const d = decide(entry.meta.status, merged);
      if (!d.store) {
        await cache.store.delete(entry.meta.key);
        return 'uncacheable';
      }
      return (await cache.store.update(meta(entry.meta.status, d, entry.meta.key, entry.meta.size))) ? 'stored' : 'failed';
    }
    if (res.statusCode >= 500) {
      res.body.resume();
      return 'failed';
    }
    const d = decide(res.statusCode, h);
    if (!d.store) {
      res.body.resume();
      await cache.store.delete(entry.meta.key);
      return 'uncacheable';
    }
    const length = Number(h['content-length']);
    const writer = cache.store.put(meta(res.statusCode, d, variantKey(x.key, d.vary, requestHeaders), Number.isFinite(length) ? length : 0));
    if (!writer) {
      res.body.resume();
      return 'failed';
    }
    for await (const chunk of res.body) {
      if (!writer.write(chunk as Buffer)) {
        res.body.destroy();
        return 'uncacheable';
      }
    }
    await writer.end();
    return 'stored';
  };
  run()
    .then(
      (outcome) => joined.done(outcome),
      (err) => {
        ctx.edge.log.debug({ err, url: x.url }, 'background revalidation failed');
        joined.done('failed');
      },
    )
    .finally(() => {
      attempt.origin!.load.inflight--;
    });
}

function flat(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push(k, one);
  }
  return out;
}
