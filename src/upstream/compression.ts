/**
 * Compression at the edge (the response phase): an origin answer of a compressible type that came
 * uncompressed is sent with br or gzip when the client accepts one (cache/compress.ts decides and
 * builds the encoders). Such answers always gain `Vary: Accept-Encoding`, compressed or not, so a
 * cache — ours included — keeps one copy per encoding (the cache keys Accept-Encoding by the
 * encoding it negotiates, cache/key.ts), and their strong ETag becomes weak (RFC 9110 §8.8.3).
 */
import type { Phase, RequestContext } from '../pipeline/context.js';
import { negotiateEncoding, shouldCompress, varyWithAcceptEncoding, weakEtag, type Encoding } from '../cache/compress.js';

/**
 * The compress phase: nothing to do on the way in; on the way back it plans the answer's
 * compression and rewrites its head (the upstream phase runs the body through the encoder, and
 * the cache, nearer the client on the way back, stores what the client gets).
 */
export const compress: Phase = {
  name: 'compress',
  run: () => false,
  response: {
    head(ctx, head) {
      const plan = compressionPlan(ctx, head.status, head.headers);
      if (!plan) return;
      head.compression = plan;
      head.headers = compressedHeaders(head.headers, plan);
    },
  },
};

/** A compressible answer; `encoding` when this client takes one. */
export interface CompressionPlan {
  encoding: Encoding | undefined;
}

/** The plan for an origin answer with these (client-bound, flat) headers, or undefined when it is left alone. */
export function compressionPlan(ctx: RequestContext, status: number, headers: readonly string[]): CompressionPlan | undefined {
  const cfg = ctx.snapshot.config.compression;
  // A HEAD that fills the cache gets the GET's answer: it is planned as that GET, so what is
  // stored (and the head this client sees) is what a GET would get.
  const method = ctx.method === 'HEAD' && ctx.cache?.lead ? 'GET' : ctx.method;
  if (!cfg.enabled || method !== 'GET') return undefined;
  let contentType: string | undefined;
  let contentEncoding: string | undefined;
  let contentLength: number | undefined;
  let cacheControl: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    switch (headers[i].toLowerCase()) {
      case 'content-type':
        contentType = headers[i + 1];
        break;
      case 'content-encoding':
        contentEncoding = headers[i + 1];
        break;
      case 'content-length':
        contentLength = Number(headers[i + 1]);
        break;
      case 'cache-control':
        cacheControl = cacheControl === undefined ? headers[i + 1] : `${cacheControl}, ${headers[i + 1]}`;
        break;
    }
  }
  if (!shouldCompress({ status, method, contentType, contentEncoding, contentLength, cacheControl, minSize: cfg.minSize })) return undefined;
  return { encoding: negotiateEncoding(ctx.req.headers['accept-encoding']) };
}

/** Flat client headers rewritten for the plan. */
export function compressedHeaders(headers: readonly string[], plan: CompressionPlan): string[] {
  const out: string[] = [];
  let vary: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i].toLowerCase();
    const value = headers[i + 1];
    if (name === 'vary') {
      vary = vary === undefined ? value : `${vary}, ${value}`;
      continue;
    }
    if (plan.encoding) {
      if (name === 'content-length' || name === 'content-encoding') continue;
      if (name === 'etag') {
        const w = weakEtag(value);
        if (w) out.push(headers[i], w);
        continue;
      }
    }
    out.push(headers[i], value);
  }
  out.push('vary', varyWithAcceptEncoding(vary));
  if (plan.encoding) out.push('content-encoding', plan.encoding);
  return out;
}

/** The same rewrite on a header object (lowercase names), as the cache stores it. */
export function compressedHeaderObject(headers: Record<string, string>, plan: CompressionPlan): Record<string, string> {
  const out: Record<string, string> = { ...headers, vary: varyWithAcceptEncoding(headers.vary) };
  if (plan.encoding) {
    delete out['content-length'];
    out['content-encoding'] = plan.encoding;
    const w = weakEtag(headers.etag);
    if (w) out.etag = w;
    else delete out.etag;
  }
  return out;
}
