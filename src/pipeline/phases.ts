/**
 * The phase list, in the order shared/DESIGN.md gives, written down in one place (STYLE habit 2).
 * The way in runs each phase's `run` top to bottom until one answers; the origin's answer comes
 * back through the `response` filters bottom to top (pipeline/way-back.ts), then observe.
 *
 *   ordinary request      way in                                   way back
 *     route               host, rule, framing checks               ·
 *     shield              access rules, rate limits, challenge     ·
 *     redirect            always-HTTPS, forwarding rules           ·
 *     cache               fresh or stale hit answers; coalescing   Cache-Status; store, 304 merge, stale on error, invalidation
 *     compress            ·                                        br/gzip plan, head rewritten (the body through the encoder)
 *     balance             steering, origin, affinity               the affinity cookie
 *     upstream            the exchange with the origin; retries    (moves the bytes; calls the way back)
 *     observe             ·                                        access log and metrics, when the response closes
 *
 *   WebSocket upgrade: route → shield → redirect → balance → upstream (splice); the 101 goes back
 *   through balance's filter; observe when the tunnel closes.
 */
import { parseHost } from '../router/host-table.js';
import { proxyHttp } from '../upstream/http-proxy.js';
import { proxyWebSocket } from '../upstream/websocket.js';
import { balance } from './balance.js';
import { redirect } from './redirect.js';
import { portOf } from '../router/url-pattern.js';
import { shield } from '../shield/shield-phase.js';
import { cacheLookup } from '../cache/cache-phase.js';
import { compress } from '../upstream/compression.js';
import { pipeline } from './run.js';
import type { ServerResponse } from 'node:http';
import { parseTarget } from '../router/request-target.js';
import type { Phase, RequestContext } from './context.js';
import { sendError, sendSimple } from './error-page.js';
import { EdgeError } from './errors.js';

/**
 * The request target, then Host → load balancer (RFC 9112 §3.2). The target is normalised once
 * (router/request-target.ts) and every later phase, the cache key and the origin see that path;
 * absolute-form takes its authority from the target and goes on in origin-form. `OPTIONS *` is
 * the edge's own to answer. A request the edge cannot read is refused and its connection
 * closed, so nothing pipelined behind it is served: an invalid target, an invalid Host or more
 * than one (§3.2): 400; a transfer coding other than chunked (§6.1): 501; more header fields than
 * MAX_HEADER_FIELDS, or an HTTP/2 header list over limits.maxHeaderSize: 431. No balancer for the host: 421 (RFC 9110 §15.5.20).
 */
export const route: Phase = {
  name: 'route',
  run(ctx) {
    // A request pipelined behind a refused one on the same connection: Node parsed it already,
    // but the connection closes after the refusal, so it gets no answer and nothing is done.
    // Node never gives such a response a socket, so it never emits its 'close' (which ends the
    // request's count in flight and logs it): that is emitted when the connection closes.
    if (refusedConnections.has(ctx.req.socket)) {
      ctx.req.socket.once('close', () => ctx.res?.emit('close'));
      return true;
    }
    const h = ctx.req.headers;
    const target = parseTarget(ctx.path);
    const http1 = ctx.proto !== 'h2';
    if (target.form === 'asterisk') {
      if (ctx.method === 'OPTIONS' && !ctx.socket) {
        sendSimple(ctx, 200, [['Allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS']], '');
        return true;
      }
      return refuse(ctx, new EdgeError(400, 'bad_target', 'client', 'A request target of * is only for OPTIONS.'));
    }
    if (target.form === 'invalid' || (target.form === 'absolute' && !http1)) {
      return refuse(ctx, new EdgeError(400, 'bad_target', 'client', 'The request target is not valid.'));
    }
    ctx.path = target.path;
    if (ctx.req.rawHeaders.length / 2 > MAX_HEADER_FIELDS) {
      return refuse(ctx, new EdgeError(431, 'too_many_headers', 'client', `The request has more than ${MAX_HEADER_FIELDS} header fields.`));
    }
    if (!http1 && headerListSize(ctx.req.rawHeaders) > ctx.snapshot.config.limits.maxHeaderSize) {
      return refuse(ctx, new EdgeError(431, 'header_overflow', 'client', 'The request headers are larger than this edge accepts.'));
    }
    const te = h['transfer-encoding'];
    if (te !== undefined && te.trim().toLowerCase() !== 'chunked') return refuse(ctx, transferCodingError(te));
    const authority = target.form === 'absolute' ? target.authority : ((h[':authority'] as string | undefined) ?? h.host);
    // Node keeps the first of two Host headers; a hop before or after us may read the other.
    const host = hostHeaders(ctx.req.rawHeaders) > 1 ? undefined : parseHost(authority);
    if (!host) return refuse(ctx, new EdgeError(400, 'bad_host', 'client', 'The request has no valid Host header.'));
    ctx.host = host;
    ctx.authority = authority!;
    const via = h.via;
    if (via && viaNames(via).includes(ctx.snapshot.config.pop.id)) {
      sendError(ctx, new EdgeError(508, 'loop_detected', 'client', 'This request has already passed through this edge.'));
      return true;
    }
    ctx.lb = ctx.snapshot.hosts.lookup(host);
    if (!ctx.lb) {
      sendError(ctx, new EdgeError(421, 'unknown_host', 'client', `This edge serves no site named ${host}.`));
      return true;
    }
    const m = ctx.snapshot.rules({ scheme: ctx.scheme, host, port: portOf(ctx.authority, ctx.scheme), path: ctx.path });
    if (m) {
      ctx.rule = m.rule;
      ctx.captures = m.captures;
    }
    return false;
  },
};

/**
 * Header fields a request may carry. Node's HTTP/1.1 parser keeps the first 2,000 and drops the
 * rest without a word (its maxHeadersCount); a lower bound here sees every such request, so a
 * request is refused (431) instead of forwarded with fields silently missing. The size of the
 * head is bounded apart, by limits.maxHeaderSize.
 */
export const MAX_HEADER_FIELDS = 1000;

/**
 * RFC 9112 §6.3: chunked not last means the body's length cannot be known (400, and close);
 * §6.1: a coding before chunked that the edge does not apply (`gzip, chunked`) is 501. Node's
 * parser takes `gzip, chunked` as chunked: forwarded, the body would lose its gzip coding.
 */
function transferCodingError(te: string): EdgeError {
  const codings = te
    .toLowerCase()
    .split(',')
    .map((c) => c.trim());
  if (codings[codings.length - 1] !== 'chunked') return new EdgeError(400, 'bad_framing', 'client', 'The request body has no length this edge can read.');
  return new EdgeError(501, 'transfer_coding', 'client', 'The only transfer coding this edge accepts is chunked.');
}

/**
 * An HTTP/2 header list's size as SETTINGS_MAX_HEADER_LIST_SIZE counts it (RFC 9113 §6.5.2: name
 * and value octets plus 32 per field). Node sends the setting but lets a larger list through;
 * HTTP/1.1's parser enforces limits.maxHeaderSize itself.
 */
function headerListSize(raw: readonly string[]): number {
  let size = 0;
  for (let i = 0; i < raw.length; i += 2) size += raw[i].length + raw[i + 1].length + 32;
  return size;
}

/** HTTP/1.x connections closing after a refusal (route phase): what follows them is not served. */
const refusedConnections = new WeakSet<object>();

/** Answers a request the edge could not read and closes its connection (HTTP/1.x): what is pipelined behind it is not served. */
export function refuse(ctx: RequestContext, err: EdgeError): true {
  const res = ctx.res as ServerResponse | undefined;
  if (res && ctx.proto !== 'h2') {
    res.shouldKeepAlive = false;
    refusedConnections.add(ctx.req.socket);
  }
  sendError(ctx, err);
  return true;
}

export const upstream: Phase = {
  name: 'upstream',
  run(ctx) {
    if (ctx.socket) proxyWebSocket(ctx);
    else proxyHttp(ctx);
    return true;
  },
};

const requestPhases = [route, shield, redirect, cacheLookup, compress, balance, upstream];

/** An ordinary request; its background refresh (stale-while-revalidate) walks balance and upstream, and comes back the same way. */
export const requestPipeline = pipeline(requestPhases, { phases: [balance, upstream], wayBack: requestPhases });
export const upgradePipeline = pipeline([route, shield, redirect, balance, upstream]);

function hostHeaders(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') n++;
  return n;
}

/** The PoP names in a Via header: `1.1 sin, 1.1 fra` → [sin, fra]. */
function viaNames(via: string | string[]): string[] {
  const text = Array.isArray(via) ? via.join(',') : via;
  return text.split(',').map((hop) => hop.trim().split(/\s+/)[1] ?? '');
}
