/**
 * `limits.maxBodySize`: the largest request body the edge passes on. Two places enforce it:
 * - a declared Content-Length over it is refused with 413 before any phase runs (handlers.ts),
 *   so nothing reaches the origin;
 * - a body without one (HTTP/1.1 chunked, HTTP/2 without content-length) reaches the origin
 *   through `LimitedBody`, which fails with the same 413 instead of passing on the chunk that
 *   crosses the limit: the origin never gets more than the limit, and its request is aborted.
 * A body with a Content-Length within the limit needs no counting: the HTTP/1.1 parser frames
 * it by that length, and nghttp2 resets an HTTP/2 stream whose DATA exceeds it (RFC 9113 §8.1.1).
 */
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { isHttp2, type ClientRequest, type RequestContext } from '../pipeline/context.js';
import { sendError } from '../pipeline/error-page.js';
import { EdgeError } from '../pipeline/errors.js';

/** The metrics `kind` (outpost_client_errors_total) and the error code of a refused body. */
export const BODY_TOO_LARGE = 'body_too_large';

/** The 413 (RFC 9110 §15.5.14) for a body over `limit` bytes. */
export function bodyTooLarge(limit: number): EdgeError {
  return new EdgeError(413, BODY_TOO_LARGE, 'client', `The request body is larger than the ${formatSize(limit)} this site accepts.`);
}

/** True when the request declares a Content-Length over the current `limits.maxBodySize`. */
export function declaresTooLarge(ctx: RequestContext): boolean {
  const limit = ctx.snapshot.config.limits.maxBodySize;
  const length = ctx.req.headers['content-length'];
  return limit > 0 && length !== undefined && Number(length) > limit;
}

/**
 * Answers 413, counted and logged like the parser's refusals (431, 408). The rest of the body is
 * not read, so the exchange must end with the answer: HTTP/1.1 closes the connection after it
 * (`Connection: close`). HTTP/2 closes just the stream: Node ends a server stream whose request
 * is still open with RST_STREAM NO_ERROR once the answer is out, which asks the client to stop
 * sending without calling it an error (RFC 9113 §8.1). A response already started is cut instead
 * (sendError).
 */
export function refuseBody(ctx: RequestContext, err: EdgeError): void {
  ctx.edge.metrics.clientErrors.inc({ kind: BODY_TOO_LARGE });
  ctx.edge.log.debug({ type: 'client_error', code: err.code, kind: BODY_TOO_LARGE, requestId: ctx.id }, err.publicMessage);
  if (ctx.proto !== 'h2') (ctx.res as ServerResponse).shouldKeepAlive = false;
  sendError(ctx, err);
}

/**
 * The request body as undici reads it, counted. It starts reading `req` only when undici does
 * (after the connection is up), so a connect failure leaves the body unread and retryable. Past
 * `limit` it fails with `bodyTooLarge` and leaves `req` paused (the 413 still has to go out on
 * that connection); a client that goes away fails it with `client_closed`.
 */
export class LimitedBody extends Readable {
  private received = 0;
  private reading = false;
  private ended = false;

  constructor(
    private readonly req: ClientRequest,
    private readonly limit: number,
  ) {
    super();
  }

  override _read(): void {
    if (!this.reading) {
      this.reading = true;
      this.req.on('data', this.onData);
      this.req.once('end', this.onEnd);
      this.req.once('error', this.onGone);
      this.req.once('close', this.onGone);
    }
    this.req.resume();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.detach();
    // Ours (413, client gone) leave `req` be. Otherwise undici gave up on a body it had started
    // to send (an origin failure, or an answer that came before the whole body): it would have
    // destroyed `req` had it been given it directly, and a half-read body must not stay paused
    // on a keep-alive connection.
    if (!(err instanceof EdgeError) && this.reading && !this.ended) this.req.destroy(err ?? undefined);
    callback(err);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.received += chunk.length;
    if (this.received > this.limit) {
      this.req.pause();
      this.destroy(bodyTooLarge(this.limit));
      return;
    }
    if (!this.push(chunk)) this.req.pause();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.push(null);
  };

  private readonly onGone = (): void => {
    if (!this.ended) this.destroy(new EdgeError(499, 'client_closed', 'client', 'The client closed the connection.'));
  };

  private detach(): void {
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
    this.req.off('error', this.onGone);
    this.req.off('close', this.onGone);
  }
}

/** The request body to send to the origin: `req` itself, or counted when its size is unknown. */
export function originBody(ctx: RequestContext): ClientRequest | LimitedBody {
  const limit = ctx.snapshot.config.limits.maxBodySize;
  return limit > 0 && hasUnknownLength(ctx.req) ? new LimitedBody(ctx.req, limit) : ctx.req;
}

/**
 * A body whose size only its end tells: HTTP/1.1 chunked (RFC 9112 §6.3: no Transfer-Encoding and
 * no Content-Length is no body at all), HTTP/2 DATA without content-length. A request with no
 * body stays `req`, which undici sends as `content-length: 0` once it has ended, not chunked.
 */
function hasUnknownLength(req: ClientRequest): boolean {
  if (req.headers['content-length'] !== undefined) return false;
  if (isHttp2(req)) return !req.stream.endAfterHeaders;
  return req.headers['transfer-encoding'] !== undefined;
}

/** `104857600` → `100 MiB`; sizes that are no whole KiB/MiB/GiB stay in bytes. */
export function formatSize(bytes: number): string {
  for (const [unit, n] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n} ${unit}`;
  }
  return `${bytes} bytes`;
}
