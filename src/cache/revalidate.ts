/**
 * Background revalidation for stale-while-revalidate (RFC 5861 §3): the client already got the
 * stale copy; one request per key (the coalescer's leader) asks the origin again, and that request
 * is a request like any other: it walks the ordinary request's refresh pipeline (balance, then
 * upstream: steering, health, affinity, retries on another origin, the upstream metrics and
 * passive health) and comes back through the same way back, so the cache's response filter
 * (fill.ts) merges a 304 into the stored response (RFC 9111 §4.3.4), stores a storable answer,
 * compresses it as it would for this client, and keeps the stale copy when the origin fails. Its
 * conditional request carries the stored validators, never the client's own. The answer goes to
 * no client (pipeline/no-client.ts) and is not counted among the cache's requests.
 */
import { performance } from 'node:perf_hooks';
import type { RequestContext } from '../pipeline/context.js';
import { NoClient } from '../pipeline/no-client.js';
import { runPhases } from '../pipeline/run.js';
import { settle, type CacheExchange } from './edge-cache.js';
import { revalidationHeaders } from './policy/validation.js';
import type { StoredEntry } from './types.js';

export function revalidateInBackground(ctx: RequestContext, x: CacheExchange, entry: StoredEntry): void {
  const refresh = ctx.pipeline.refresh;
  const coalescer = ctx.edge.cache.coalescer;
  if (!refresh || coalescer.busy(x.key)) return; // someone is already refreshing it
  const joined = coalescer.join(x.key);
  if (joined.role !== 'lead') return;
  const exchange: CacheExchange = {
    ...x,
    lead: joined,
    stale: entry,
    fwd: 'stale',
    detail: undefined,
    requestTime: 0,
    revalidate: revalidationHeaders(entry.meta),
    writer: undefined,
    background: true,
  };
  const res = new NoClient();
  // Nothing answered and nothing left to store (no origin to ask, the exchange failed): let the key go.
  res.once('close', () => {
    if (!exchange.writer) settle(exchange, 'failed');
  });
  // The refresh's own request: the client's is answered and keeps its origin, tries and pin.
  const attempt: RequestContext = {
    ...ctx,
    start: performance.now(),
    res: res as unknown as RequestContext['res'],
    pool: undefined,
    origin: undefined,
    status: 0,
    bytesOut: 0,
    upstreamMs: undefined,
    error: undefined,
    tried: undefined,
    poolOrder: undefined,
    pinned: false,
    setCookie: undefined,
    bufferedBody: undefined,
    cache: exchange,
    cacheResult: undefined,
  };
  runPhases(attempt, refresh);
}
