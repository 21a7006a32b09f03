/**
 * Background revalidation for stale-while-revalidate (RFC 5861 §3): the client already got the
 * stale copy; one request per key (the coalescer's leader) asks the origin, conditionally when
 * the entry has validators, and the store is updated: merged on 304 (RFC 9111 §4.3.4), replaced
 * on a storable answer, dropped when the answer may no longer be stored. Failures keep the stale
 * copy. No client waits on it, so it uses the pool's origin selection directly.
 */
import type { Dispatcher } from 'undici';
import { pickOrigin } from '../balancer/pools.js';
import type { RequestContext } from '../pipeline/context.js';
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
  let origin: ReturnType<typeof pickOrigin>;
  for (const pool of lb.failoverOrder) {
    origin = pickOrigin(pool);
    if (origin) break;
  }
  if (!origin) {
    joined.done('failed');
    return;
  }
  const via = `1.1 ${ctx.snapshot.config.pop.id}`;
  const raw = upstreamRequestHeaders(ctx.req.rawHeaders, forwardInfo({ ...ctx, origin }, via));
  const headers = withoutClientConditionals(raw, revalidationHeaders(entry.meta));
  const requestTime = Date.now();
  const rule = ctx.rule;
  const settings = cache.settings;
  const requestHeaders = ctx.req.headers;
  const host = ctx.host;
  const o = origin;
  o.load.inflight++;
  const run = async (): Promise<'stored' | 'uncacheable' | 'failed'> => {
    const res = await o.dispatcher.request({
      origin: o.url.origin,
      path: ctx.path,
      method: 'GET',
      headers,
      servername: o.url.hostname,
    } as Dispatcher.RequestOptions);
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
      o.load.inflight--;
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
