/**
 * The request-side timeouts Node leaves out, so a client cannot hold an edge→origin request open
 * by sending its request slowly or not at all:
 *
 * - HTTP/2 streams get `limits.requestTimeout` (the whole request received, END_STREAM included),
 *   as Node's HTTP/1.1 server applies it to a connection. nghttp2 has no such bound: a stream whose
 *   body never ends, kept company by PINGs, lived as long as the client liked, and so did the
 *   origin request the edge had opened for it.
 * - Every request body, HTTP/1.1 and HTTP/2, gets `limits.bodyIdleTimeout`: the longest silence
 *   between two pieces of it (the first counted from the request head).
 *
 * A request past a bound gets 408 if its response has not started, else it is cut (HTTP/1.1 by
 * the connection, HTTP/2 by RST_STREAM CANCEL, RFC 9113 §8.1: a server may end a stream whose
 * request it no longer wants). Either way the origin request goes with it (the proxy aborts it
 * when the client side closes).
 */
import type { IncomingMessage } from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { Config } from '../config/schema.js';
import { EdgeError } from '../pipeline/errors.js';
import { isHttp2 } from '../pipeline/context.js';

type Limits = () => Config['limits'];
type ClientRequest = IncomingMessage | http2.Http2ServerRequest;

export interface RequestTimeoutHooks {
  /** HTTP/1.1: answers like Node's own requestTimeout (the listener's clientError handler). */
  http1Expired(err: NodeJS.ErrnoException, socket: Socket): void;
  /** HTTP/2: a stream was answered 408 or cut; `why` says which bound. */
  h2Expired(why: 'request' | 'idle'): void;
}

/** A `request` / `checkContinue` listener that bounds the time to receive each request. */
export function guardRequestTimeouts(limits: Limits, hooks: RequestTimeoutHooks) {
  return (req: ClientRequest): void => {
    if (isHttp2(req)) guardStream(req, limits(), hooks);
    else guardHttp1Body(req as IncomingMessage, limits(), hooks);
  };
}

function guardStream(req: http2.Http2ServerRequest, l: Config['limits'], hooks: RequestTimeoutHooks): void {
  const stream = req.stream;
  // END_STREAM came with the headers: the whole request is in.
  if (stream.endAfterHeaders || stream.destroyed) return;
  const expire = (why: 'request' | 'idle') => {
    done();
    if (stream.destroyed || stream.closed) return;
    hooks.h2Expired(why);
    if (stream.headersSent) {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      return;
    }
    // The answer, then RST_STREAM NO_ERROR once it is out (RFC 9113 §8.1: a complete response
    // before the request ended; the client is told to stop sending, not that something failed).
    const body = JSON.stringify({ error: { status: 408, code: 'timeout' } });
    stream.respond({ ':status': 408, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    stream.end(body);
    stream.close(http2.constants.NGHTTP2_NO_ERROR);
    // Node's compatibility layer ends the request body like a complete one when a stream closes
    // after its response: the origin would get a truncated body as if whole. Failing the body
    // first makes the proxy abort the origin request instead ('client_closed': nothing more is
    // sent to this client, nothing is held against the origin).
    req.destroy(new EdgeError(408, 'client_closed', 'client', 'The request was not received in time.'));
  };
  const deadline = setTimeout(() => expire('request'), l.requestTimeout);
  deadline.unref();
  // The stream's timer restarts on every frame of this stream, in and out (not on PINGs, which
  // belong to the session); it is dropped once the request has been read to its end.
  const onIdle = () => expire('idle');
  stream.setTimeout(l.bodyIdleTimeout, onIdle);
  const done = () => {
    clearTimeout(deadline);
    stream.off('timeout', onIdle);
    if (!stream.destroyed) stream.setTimeout(0);
  };
  stream.once('end', done);
  stream.once('close', done);
}

/**
 * HTTP/1.1 bodies. Node's parser reads the socket directly (no 'data' events to watch), and its
 * socket timer would also fire, and destroy the connection, while a complete request waits for a
 * slow origin. So the body's progress is sampled from `socket.bytesRead`, four times per
 * `bodyIdleTimeout`: silence is caught between 1 and 1.25 times the bound. Done once the parser
 * has the whole request (`req.complete`), as Node's requestTimeout.
 */
function guardHttp1Body(req: IncomingMessage, l: Config['limits'], hooks: RequestTimeoutHooks): void {
  const socket = req.socket;
  // No Content-Length and no Transfer-Encoding: no body (RFC 9112 §6.3), nothing to wait for.
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (!hasBody || req.complete || !socket || socket.destroyed) return;
  const idle = l.bodyIdleTimeout;
  const step = Math.max(25, Math.floor(idle / 4));
  let seen = socket.bytesRead;
  let quietSince = Date.now();
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) return clearInterval(timer);
    if (socket.bytesRead !== seen) {
      seen = socket.bytesRead;
      quietSince = Date.now();
      return;
    }
    if (Date.now() - quietSince < idle) return;
    clearInterval(timer);
    const err: NodeJS.ErrnoException = new Error(`no request body bytes for ${idle} ms`);
    err.code = 'ERR_HTTP_REQUEST_TIMEOUT';
    hooks.http1Expired(err, socket);
  }, step);
  timer.unref();
  req.once('close', () => clearInterval(timer));
}
