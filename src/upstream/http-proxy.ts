/**
 * The upstream phase for ordinary requests: one undici dispatch per request on the origin's
 * keep-alive pool, the request body streamed up and the response streamed down, each direction
 * with backpressure (a slow reader pauses the other side; no body is ever buffered whole).
 *
 * Uses undici's raw dispatch handler (onConnect/onHeaders/onData/onComplete/onError), the leanest
 * path it offers: headers arrive as raw Buffers and leave as a flat array, with no object built.
 */
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { RequestContext } from '../pipeline/context.js';
import { sendError } from '../pipeline/error-page.js';
import { EdgeError, classifyUpstreamError, errorKind } from '../pipeline/errors.js';
import { retryOrigin } from '../pipeline/balance.js';
import { clientResponseHeaders, forwardInfo, upstreamRequestHeaders, viaOf } from './headers.js';
import type { OriginRuntime } from './origin.js';
import { RetryBudget, isConnectPhase, mayRetry } from './retry.js';
import { createEncoder, type Encoder, type Encoding } from '../cache/compress.js';
import { fillRequestHeaders } from '../cache/fill.js';
import { abandonAnswer, answerData, answerEnd, answerFailure, answerHead, bodyNeeded } from '../pipeline/way-back.js';
import { BODY_TOO_LARGE, originBody, refuseBody } from './body-limit.js';

const NO_BODY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'TRACE']);
/** Idempotent methods that may carry a body (RFC 9110 §9.2.2). */
const IDEMPOTENT_WITH_BODY = new Set(['PUT', 'DELETE', 'OPTIONS']);

/** Forwards `ctx.req` to `ctx.origin` and streams the answer to `ctx.res`; retries on another origin when allowed. */
export function proxyHttp(ctx: RequestContext): void {
  const via = viaOf(ctx);
  const budgets = ctx.edge.retryBudgets;
  const poolName = ctx.pool!.name;
  let budget = budgets.get(poolName);
  if (!budget) budgets.set(poolName, (budget = new RetryBudget()));
  const b = budget;
  b.active++;
  ctx.client ??= ctx.edge.geo?.lookup(ctx.clientIp); // for X-Outpost-Country
  ctx.res!.once('close', () => {
    b.active--;
  });
  const body = bufferableBody(ctx);
  if (body === undefined) {
    attempt(ctx, via, b, false);
    return;
  }
  // A small body of an idempotent request is read whole first, so a reset after it was sent can
  // still be retried elsewhere (retry.ts); everything else streams.
  const chunks: Buffer[] = [];
  let ended = false;
  ctx.req.on('data', (c: Buffer) => chunks.push(c));
  ctx.req.once('end', () => {
    ended = true;
    ctx.bufferedBody = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    attempt(ctx, via, b, false);
  });
  ctx.req.once('close', () => {
    if (!ended) ctx.error ??= new EdgeError(499, 'client_closed', 'client', 'The client closed the connection.');
  });
}

/** The body length when this request's body should be buffered for retries, else undefined. */
function bufferableBody(ctx: RequestContext): number | undefined {
  const upstream = ctx.snapshot.config.upstream;
  if (upstream.retries === 0 || !IDEMPOTENT_WITH_BODY.has(ctx.method)) return undefined;
  const length = Number(ctx.req.headers['content-length']);
  return Number.isInteger(length) && length > 0 && length <= upstream.retryBodyLimit ? length : undefined;
}

/** `inBudget`: a retry that counts against the pool's retry budget (not a connect-phase one). */
function attempt(ctx: RequestContext, via: string, budget: RetryBudget, inBudget: boolean): void {
  const { req } = ctx;
  const o = ctx.origin!;
  // A HEAD that fills the cache asks the origin for the whole GET (the client still gets the head).
  const method = ctx.cache?.lead && req.method === 'HEAD' ? 'GET' : req.method!;
  const h = req.headers;
  const hasBody = !NO_BODY_METHODS.has(method) || h['content-length'] !== undefined || h['transfer-encoding'] !== undefined;
  let headers = upstreamRequestHeaders(req.rawHeaders, forwardInfo(ctx, via));
  if (ctx.cache) headers = fillRequestHeaders(headers, ctx.cache);
  o.load.inflight++;
  if (inBudget) budget.retrying++;
  const handler = new ProxyHandler(ctx, via, o, budget, inBudget);
  ctx.res!.once('close', handler.onClientClose);
  o.dispatcher.dispatch(
    {
      origin: o.url.origin,
      path: ctx.path,
      method: method as Dispatcher.HttpMethod,
      headers,
      // A body of unknown length is counted on its way (limits.maxBodySize, body-limit.ts).
      body: ctx.bufferedBody ?? (hasBody ? originBody(ctx) : null),
      // undici must not retry on its own: whether a retry is safe is decided here (retry.ts).
      idempotent: false,
      blocking: false,
      // One name per origin (origin.ts pins the TLS name itself): undici would derive it from each
      // Host header and close a warm https connection whenever the next request's Host differs.
      servername: o.url.hostname,
    } as Dispatcher.DispatchOptions,
    handler as unknown as Dispatcher.DispatchHandler,
  );
}

function earlyHints(ctx: RequestContext, raw: Buffer[]): void {
  const res = ctx.res as ServerResponse;
  if (res.headersSent || res.destroyed || ctx.req.httpVersion === '1.0') return;
  const hints: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    if (name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding') continue;
    const value = raw[i + 1].toString('latin1');
    const prev = hints[name];
    hints[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  if (!hints.link) return; // Node sends Early Hints only with a Link field
  try {
    res.writeEarlyHints(hints);
  } catch {
    // A malformed hint is not worth the response.
  }
}

class ProxyHandler {
  private abort: ((err?: Error) => void) | undefined;
  private readonly sentAt = performance.now();
  private done = false;
  /** The client was answered from the cache (304 merge, stale on error): the origin's body is only read (and stored). */
  private answered = false;

  constructor(
    private readonly ctx: RequestContext,
    private readonly via: string,
    private readonly origin: OriginRuntime,
    private readonly budget: RetryBudget,
    private readonly inBudget: boolean,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    const ctx = this.ctx;
    const res = ctx.res!;
    if (statusCode < 200) {
      // 103 Early Hints pass on (RFC 8297), never stored; Node answered 100-continue itself; others drop.
      if (statusCode === 103) earlyHints(ctx, rawHeaders);
      return true;
    }
    ctx.upstreamMs = performance.now() - this.sentAt;
    ctx.edge.status.passive?.record?.(this.origin.id, statusCode >= 500 ? 'server_error' : 'success');
    ctx.edge.metrics.upstreamDuration.observe({ origin: this.origin.id }, ctx.upstreamMs / 1000);
    if (res.destroyed) return false;
    ctx.status = statusCode;
    // The way back: affinity, compression and the cache act on the head (pipeline/way-back.ts).
    const head = answerHead(ctx, statusCode, rawHeaders, clientResponseHeaders(rawHeaders, this.via, ctx.id));
    const encoding = head.compression?.encoding;
    if (encoding) this.startEncoder(encoding, resume);
    if (head.answered) {
      this.answered = true;
      return true;
    }
    if (head.hold) {
      // The origin's body waits (undici pauses on false) until the hold is over (an invalidation every worker applied).
      void head.hold.then(() => {
        if (res.destroyed) return;
        this.writeHead(statusCode, head.headers, resume);
        resume();
      });
      return false;
    }
    this.writeHead(statusCode, head.headers, resume);
    return true;
  }

  private writeHead(statusCode: number, headers: string[], resume: () => void): void {
    const res = this.ctx.res!;
    res.writeHead(statusCode, headers as unknown as Record<string, string>);
    res.on('drain', this.encoder ? () => this.encoder!.resume() : resume);
  }

  /**
   * Compressed answers: origin chunks go through the encoder; what it makes goes to the client
   * (and into the cache). Backpressure: a slow client pauses the encoder, a full encoder pauses
   * the origin (onData returns false until the encoder drains).
   */
  private encoder: Encoder | undefined;

  private startEncoder(encoding: Encoding, resume: () => void): void {
    const ctx = this.ctx;
    const res = ctx.res as ServerResponse;
    const enc = (this.encoder = createEncoder(encoding));
    enc.on('drain', resume);
    enc.on('data', (c: Buffer) => {
      answerData(ctx, c);
      if (this.answered || res.destroyed) return;
      ctx.bytesOut += c.length;
      if (!res.write(c)) enc.pause();
    });
    enc.once('end', () => {
      answerEnd(ctx);
      if (!this.answered) res.end();
    });
    enc.once('error', () => {
      abandonAnswer(ctx);
      res.destroy();
    });
  }

  /**
   * Writes lag one chunk behind: the last chunk goes out with end(), so a small response leaves
   * as one write (headers + body + end) instead of two. Backpressure still applies per chunk.
   * The held chunk waits one turn of the event loop at most: a streaming origin (server-sent
   * events, progress output) that pauses after it must still reach the client, headers included.
   */
  private pending: Buffer | undefined;
  private flushTimer: NodeJS.Immediate | undefined;

  onData(chunk: Buffer): boolean {
    if (this.encoder) return this.encoder.write(chunk);
    answerData(this.ctx, chunk);
    // Answered from the cache, or the client left while the body still fills the cache.
    if (this.answered || this.ctx.res!.destroyed) return true;
    this.ctx.bytesOut += chunk.length;
    const prev = this.pending;
    this.pending = chunk;
    this.flushTimer ??= setImmediate(this.flushPending);
    return prev === undefined || (this.ctx.res as ServerResponse).write(prev);
  }

  private readonly flushPending = (): void => {
    this.flushTimer = undefined;
    const chunk = this.pending;
    this.pending = undefined;
    const res = this.ctx.res as ServerResponse;
    if (chunk && !res.destroyed && !res.writableEnded) res.write(chunk);
  };

  onComplete(): void {
    this.finish();
    clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    if (this.encoder) {
      this.encoder.end(); // its 'end' completes the response and the cache fill
      return;
    }
    answerEnd(this.ctx);
    if (this.answered) return;
    const last = this.pending;
    this.pending = undefined;
    if (last) (this.ctx.res as ServerResponse).end(last);
    else this.ctx.res!.end();
  }

  onError(err: Error): void {
    this.finish();
    clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    this.pending = undefined;
    this.encoder?.destroy();
    const ctx = this.ctx;
    if (err instanceof EdgeError && err.code === 'client_closed') {
      abandonAnswer(ctx);
      ctx.error = err; // the client left first: nothing to tell anyone
      return;
    }
    if (err instanceof EdgeError && err.code === BODY_TOO_LARGE) {
      // The body grew past limits.maxBodySize: undici has aborted the origin request; 413 (or a cut).
      abandonAnswer(ctx);
      if (!this.answered) refuseBody(ctx, err);
      return;
    }
    const edgeErr = err instanceof EdgeError ? err : classifyUpstreamError(err);
    if (edgeErr.source === 'origin') {
      ctx.edge.metrics.upstreamErrors.inc({ origin: this.origin.id, kind: errorKind(edgeErr) });
      // Only failures before the answer speak of the origin's health; a body cut later may be the network.
      if (!ctx.res!.headersSent) ctx.edge.status.passive?.record?.(this.origin.id, 'connect_failure');
    }
    if (this.retried(edgeErr)) {
      ctx.res!.off('close', this.onClientClose);
      attempt(ctx, this.via, this.budget, !isConnectPhase(edgeErr));
      return;
    }
    if (answerFailure(ctx)) return; // answered instead (a stale copy from the cache)
    if (this.answered) return;
    ctx.error = edgeErr; // the client sees the last real error
    sendError(ctx, edgeErr);
  }

  /** Moves the request on to another origin, when this failure, the request and the budget allow (balance.ts). */
  private retried(err: EdgeError): boolean {
    const ctx = this.ctx;
    if (ctx.res!.headersSent || ctx.res!.destroyed) return false;
    const upstream = ctx.snapshot.config.upstream;
    return retryOrigin(ctx, this.origin, err, () => {
      if (!mayRetry(err, ctx.method, ctx.bufferedBody === undefined && ctx.req.readableDidRead)) return false;
      const policy = { retries: upstream.retries, budgetRatio: upstream.retryBudget, budgetMinimum: upstream.retryBudgetMinimum, deadlineMs: upstream.retryDeadline };
      return isConnectPhase(err) || this.budget.allows(policy);
    });
  }

  /** The client went away before the response ended: stop the origin exchange too. */
  readonly onClientClose = (): void => {
    if (this.done) return;
    if (this.ctx.res!.writableFinished) return;
    if (bodyNeeded(this.ctx)) return; // the body goes on (into the cache: others may be waiting for it)
    this.abort?.(new EdgeError(499, 'client_closed', 'client', 'The client closed the connection.'));
  };

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.origin.load.inflight--;
    if (this.inBudget) this.budget.retrying--;
  }
}
