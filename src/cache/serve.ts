/**
 * Answering a client from a stored response: Age (RFC 9111 §5.1), Cache-Status (RFC 9211), the
 * client's own preconditions (304/412, RFC 9110 §13.2.2), a single byte range (206/416,
 * RFC 9110 §14), HEAD from a stored GET (RFC 9110 §9.3.2), and the browser TTL of the rule.
 * The body is written in one call when the store holds it in memory.
 */
import type { ServerResponse } from 'node:http';
import type { RequestContext } from '../pipeline/context.js';
import { currentAge } from './policy/freshness.js';
import { evaluatePreconditions } from './policy/preconditions.js';
import { selectRange } from './policy/range.js';
import { clientCacheControl } from './policy/browser-ttl.js';
import type { StoredEntry, StoredMeta } from './types.js';
import { viaOf } from '../upstream/headers.js';

/** Header fields a 304 carries from the selected representation (RFC 9110 §15.4.5). */
const NOT_MODIFIED_FIELDS = ['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified'];

/**
 * The head of a whole answer from a stored entry, flat `[name, value, …]` with its Content-Length,
 * built once per entry (entries are immutable): a hit appends only its own fields (Age,
 * Cache-Status, the request id, Via). node:http takes no head already serialised.
 */
const wholeHeads = new WeakMap<StoredMeta, string[]>();

function wholeHead(meta: StoredMeta): string[] {
  let flat = wholeHeads.get(meta);
  if (!flat) {
    flat = [];
    for (const name in meta.headers) if (name !== 'content-length') flat.push(name, meta.headers[name]);
    // 204 and 304 carry no body, and no length.
    if (meta.status !== 204 && meta.status !== 304) flat.push('content-length', String(meta.size));
    wholeHeads.set(meta, flat);
  }
  return flat;
}

/**
 * Writes `entry` to the client. `status` is the Cache-Status value (`outpost; hit`,
 * `outpost; fwd=stale; fwd-status=304`, …); `now` the time the answer is made.
 */
export function serveEntry(ctx: RequestContext, entry: StoredEntry, status: string, now: number): void {
  const res = ctx.res as ServerResponse;
  if (res.destroyed || res.headersSent) return;
  const meta = entry.meta;
  const age = Math.floor(currentAge(meta, now));
  const common = ['age', String(age), 'cache-status', status, 'x-request-id', ctx.id, 'via', viaOf(ctx)];
  if (ctx.setCookie) common.push('set-cookie', ctx.setCookie);
  const browserTtl = ctx.rule?.browserTtl;

  const pre = evaluatePreconditions(ctx.method, ctx.req.headers, meta);
  if (pre !== 200) {
    const h: string[] = [];
    if (pre === 304) for (const name of NOT_MODIFIED_FIELDS) if (meta.headers[name] !== undefined) h.push(name, meta.headers[name]);
    ctx.status = pre;
    res.writeHead(pre, [...h, ...common] as unknown as Record<string, string>);
    res.end();
    return;
  }

  const range = meta.status === 200 && ctx.req.headers.range !== undefined ? selectRange(ctx.method, ctx.req.headers, meta) : FULL;
  const size = meta.size;
  if (range.kind === 'full' && browserTtl === undefined) {
    // The common hit: the entry's own head and this answer's fields, the body in the same write.
    ctx.status = meta.status;
    res.writeHead(ctx.status, wholeHead(meta).concat(common) as unknown as Record<string, string>);
    if (ctx.method === 'HEAD' || size === 0) res.end();
    else writeBody(ctx, res, entry, 0, size - 1);
    return;
  }
  let headers = wholeHead(meta);
  if (meta.status !== 204 && meta.status !== 304) headers = headers.slice(0, -2); // its length is set below
  if (browserTtl !== undefined) headers = withBrowserTtl(headers, meta, browserTtl / 1000);
  if (range.kind === 'unsatisfiable') {
    ctx.status = 416;
    res.writeHead(416, [...common, 'content-range', `bytes */${size}`, 'content-length', '0'] as unknown as Record<string, string>);
    res.end();
    return;
  }
  const partial = range.kind === 'partial';
  const start = partial ? range.start : 0;
  const end = partial ? range.end : size - 1;
  const length = size === 0 ? 0 : end - start + 1;
  ctx.status = partial ? 206 : meta.status;
  const out = [...headers, ...common, 'content-length', String(length)];
  if (partial) out.push('content-range', `bytes ${start}-${end}/${size}`);
  if (meta.status === 204 || meta.status === 304) out.length -= 2; // no body, no length
  res.writeHead(ctx.status, out as unknown as Record<string, string>);
  if (ctx.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  writeBody(ctx, res, entry, start, end);
}

const FULL = { kind: 'full' as const };

/** Bytes `start`…`end` of the entry's body: from memory in the same write as the head, else streamed from the store. */
function writeBody(ctx: RequestContext, res: ServerResponse, entry: StoredEntry, start: number, end: number): void {
  ctx.bytesOut += end - start + 1;
  const body = entry.body;
  if (Buffer.isBuffer(body)) {
    res.end(start === 0 && end === body.length - 1 ? body : body.subarray(start, end + 1));
    return;
  }
  const stream = body(start, end);
  stream.once('error', () => res.destroy());
  res.once('close', () => stream.destroy());
  stream.pipe(res);
}

function withBrowserTtl(headers: string[], meta: StoredMeta, browserTtl: number): string[] {
  const cc = clientCacheControl(meta.headers['cache-control'], browserTtl);
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i] !== 'cache-control' && headers[i] !== 'expires') out.push(headers[i], headers[i + 1]);
  if (cc !== undefined) out.push('cache-control', cc);
  if (meta.headers.expires !== undefined && cc === meta.headers['cache-control']) out.push('expires', meta.headers.expires);
  return out;
}
