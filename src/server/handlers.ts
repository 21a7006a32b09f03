/**
 * Entry points from the listeners into the pipeline: build the request context, walk the phases,
 * observe once at the end. Plus the answer to requests Node's parser refuses (smuggling attempts,
 * oversize headers, slow clients), which never reach a phase and are never forwarded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { observe } from '../observe/access-log.js';
import { isHttp2, type ClientRequest, type ClientResponse, type EdgeRuntime, type RequestContext } from '../pipeline/context.js';
import { EdgeError } from '../pipeline/errors.js';
import { refuse, requestPipeline, upgradePipeline } from '../pipeline/phases.js';
import { runPhases } from '../pipeline/run.js';
import { bodyTooLarge, declaresTooLarge, refuseBody } from '../upstream/body-limit.js';
import { requestIdOf } from '../upstream/headers.js';
import { closeAfterLinger, endAndLinger } from '../pipeline/linger.js';

/** Counts requests in flight, so a graceful stop knows when it has drained. */
export interface InflightCounter {
  inflight: number;
  onIdle?: () => void;
}

function context(edge: EdgeRuntime, req: ClientRequest, res: ClientResponse | undefined, socket: Duplex | undefined, head: Buffer | undefined, scheme: 'http' | 'https'): RequestContext {
  return {
    id: requestIdOf(req.headers['x-request-id']),
    start: performance.now(),
    edge,
    snapshot: edge.snapshot,
    req,
    method: req.method ?? '',
    path: req.url ?? '',
    proto: isHttp2(req) ? 'h2' : `http/${req.httpVersion}`,
    res,
    socket,
    head,
    scheme,
    clientIp: edge.snapshot.clientIp((req.socket as Socket | undefined)?.remoteAddress, req.headers),
    host: '',
    authority: '',
    lb: undefined,
    pool: undefined,
    origin: undefined,
    status: 0,
    bytesOut: 0,
    upstreamMs: undefined,
    error: undefined,
    tried: undefined,
    poolOrder: undefined,
    client: undefined,
    pinned: false,
    setCookie: undefined,
    rule: undefined,
    captures: undefined,
    cache: undefined,
    cacheResult: undefined,
    pipeline: requestPipeline, // set again by runPhases
  };
}

export function requestHandler(edge: EdgeRuntime, scheme: 'http' | 'https', counter: InflightCounter) {
  return (req: ClientRequest, res: ClientResponse): void => {
    const ctx = context(edge, req, res, undefined, undefined, scheme);
    counter.inflight++;
    res.once('close', () => {
      observe(ctx);
      if (--counter.inflight === 0) counter.onIdle?.();
    });
    // A request body that errors (client reset mid-upload) must not become an uncaught error.
    req.on('error', () => {});
    if (!isHttp2(req) && req.httpVersionMajor !== 1) {
      refuseVersion(ctx);
      return;
    }
    // A declared body over limits.maxBodySize is refused before any phase, like an oversize head:
    // nothing of it is read, nothing reaches the origin. (Bodies of unknown length: body-limit.ts.)
    if (declaresTooLarge(ctx)) {
      refuseBody(ctx, bodyTooLarge(ctx.snapshot.config.limits.maxBodySize));
      return;
    }
    runPhases(ctx, requestPipeline);
  };
}

export function upgradeHandler(edge: EdgeRuntime, scheme: 'http' | 'https') {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const upgrade = req.headers.upgrade;
    if (upgrade?.toLowerCase() !== 'websocket') {
      // h2c and other upgrades are not proxied.
      endAndLinger(socket, 'HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const ctx = context(edge, req, undefined, socket, head, scheme);
    socket.once('close', () => observe(ctx));
    if (req.httpVersionMajor !== 1) {
      refuseVersion(ctx);
      return;
    }
    runPhases(ctx, upgradePipeline);
  };
}

/**
 * A request line of another major version than 1 on an HTTP/1.x connection (`GET / HTTP/2.0`,
 * `HTTP/0.9`), which Node's parser lets through: 505 (RFC 9110 §15.6.6), and the connection closes.
 */
function refuseVersion(ctx: RequestContext): void {
  refuse(ctx, new EdgeError(505, 'http_version', 'client', 'This edge speaks HTTP versions 1.0, 1.1 and 2 (over TLS).'));
}

/**
 * Requests Node's HTTP parser refuses: conflicting Content-Length and Transfer-Encoding, bad
 * request lines, oversize headers (431), header/request timeouts (408). The connection is closed:
 * after a framing error the rest of the stream cannot be trusted (request smuggling).
 *
 * The answer goes out with a lingering close (pipeline/linger.ts): a client that never reads
 * cannot keep the socket, nor its slot under `limits.maxConnections`.
 */
export function clientErrorHandler(edge: EdgeRuntime) {
  return (err: NodeJS.ErrnoException, socket: Duplex): void => {
    const code = err.code ?? '';
    const [status, kind] =
      code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'header_overflow']
        : code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT'
          ? [408, 'timeout']
          : code === 'ECONNRESET'
            ? [0, 'reset']
            : [400, 'malformed'];
    edge.metrics.clientErrors.inc({ kind });
    edge.log.debug({ type: 'client_error', code, kind }, err.message);
    if (status === 0 || !socket.writable || (socket as { _httpMessage?: ServerResponse })._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ error: { status, code: kind, pop: edge.snapshot.config.pop.id } });
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    closeAfterLinger(socket);
  };
}
