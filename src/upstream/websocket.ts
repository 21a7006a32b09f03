/**
 * The upstream phase for WebSocket upgrades: the handshake is forwarded to the chosen origin
 * over a raw socket (ws over http:, wss over https:; see upgrade-handshake.ts), the origin's 101
 * relayed with its subprotocol and extension
 * headers, then the two sockets are spliced byte for byte with backpressure. An error or close
 * on either side destroys both (the leak node-http-proxy users hit for years, peers.md §3).
 * A refused upgrade (any non-101 answer) is relayed to the client as is.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { RequestContext } from '../pipeline/context.js';
import { sendError } from '../pipeline/error-page.js';
import { EdgeError, classifyUpstreamError, errorKind } from '../pipeline/errors.js';
import { closeAfterLinger } from '../pipeline/linger.js';
import { clientResponseHeaders, forwardInfo, upstreamRequestHeaders, viaOf } from './headers.js';
import { retryOrigin } from '../pipeline/balance.js';
import { answerHead } from '../pipeline/way-back.js';
import { mayRetry } from './retry.js';
import { upgradeHandshake } from './upgrade-handshake.js';
import { FrameTracker, closeFrame } from './ws-frames.js';

export function proxyWebSocket(ctx: RequestContext): void {
  const client = ctx.socket!;
  const o = ctx.origin!;
  const cfg = ctx.snapshot.config;
  const started = performance.now();
  const via = viaOf(ctx);
  ctx.client ??= ctx.edge.geo?.lookup(ctx.clientIp); // for X-Outpost-Country
  const headers = upstreamRequestHeaders(ctx.req.rawHeaders, forwardInfo(ctx, via), true);
  const signal: { aborted: boolean; onAbort?: () => void } = { aborted: false };
  const onClientGone = () => {
    ctx.error = new EdgeError(499, 'client_closed', 'client', 'The client closed the connection.');
    signal.aborted = true;
    signal.onAbort?.();
  };
  client.once('close', onClientGone);

  upgradeHandshake(o, ctx.path, headers, cfg.upstream.connectTimeout, cfg.upstream.responseTimeout, signal).then(
    ({ socket, status, statusText, rawHeaders, rest, preconnected }) => {
      client.off('close', onClientGone);
      ctx.edge.metrics.websocketUpstreams.inc({ origin: o.id, connection: preconnected ? 'preconnected' : 'new' });
      if (client.destroyed) {
        socket.destroy();
        return;
      }
      ctx.upstreamMs = performance.now() - started;
      ctx.status = status;
      ctx.edge.status.passive?.record?.(o.id, status >= 500 ? 'server_error' : 'success');
      if (status !== 101) return relayRefusal(ctx, socket, status, statusText, rawHeaders, rest, via);
      const answer = answerHead(ctx, 101, rawHeaders, clientResponseHeaders(rawHeaders, via, ctx.id, true)); // affinity
      client.write(head(101, statusText || 'Switching Protocols', answer.headers));
      if (rest.length > 0) {
        ctx.bytesOut += rest.length;
        client.write(rest);
      }
      if (ctx.head && ctx.head.length > 0) socket.write(ctx.head);
      new Tunnel(ctx, client, socket, rest);
      socket.resume();
    },
    (err: unknown) => {
      client.off('close', onClientGone);
      if (signal.aborted) return;
      const edgeErr = classifyUpstreamError(err);
      ctx.edge.metrics.upstreamErrors.inc({ origin: o.id, kind: errorKind(edgeErr) });
      ctx.edge.status.passive?.record?.(o.id, 'connect_failure');
      // A handshake that failed to connect is retried on another origin, like any GET.
      if (retryOrigin(ctx, o, edgeErr, () => mayRetry(edgeErr, 'GET', false))) {
        proxyWebSocket(ctx);
        return;
      }
      ctx.error = edgeErr;
      sendError(ctx, edgeErr);
    },
  );
}

/**
 * The origin answered the upgrade with something else (403, 404, a redirect…): the client gets
 * that answer as is, then the connection closes. The body is passed through raw, so its framing
 * headers (Content-Length or Transfer-Encoding) are kept.
 */
function relayRefusal(ctx: RequestContext, socket: Socket, status: number, statusText: string, rawHeaders: string[], rest: Buffer, via: string): void {
  const client = ctx.socket!;
  const out = clientResponseHeaders(rawHeaders, via, ctx.id);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === 'transfer-encoding') out.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  out.push('connection', 'close');
  client.write(head(status, statusText, out));
  if (rest.length > 0) client.write(rest);
  ctx.bytesOut += rest.length;
  socket.on('data', (c: Buffer) => {
    ctx.bytesOut += c.length;
  });
  socket.pipe(client);
  // pipe() ends the client's side when the origin's answer ends; the client may never close its own.
  socket.once('end', () => closeAfterLinger(client));
  socket.on('error', () => client.destroy());
  client.once('close', () => socket.destroy());
  socket.resume();
}

function head(status: number, message: string | undefined, headers: string[]): string {
  let out = `HTTP/1.1 ${status} ${message ?? ''}\r\n`;
  for (let i = 0; i < headers.length; i += 2) out += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${out}\r\n`;
}

/**
 * Two spliced sockets. Bytes pass untouched; a FrameTracker per direction only counts frame
 * lengths, so a graceful stop can insert a Close (1001, going away) at a frame boundary.
 */
class Tunnel {
  private closed = false;
  private goingAway = false;
  private readonly down = new FrameTracker(); // origin → client
  private readonly up = new FrameTracker(); // client → origin
  private sentDown = false;
  private sentUp = false;

  constructor(
    private readonly ctx: RequestContext,
    private readonly client: Duplex,
    private readonly origin: Socket,
    firstDown: Buffer,
  ) {
    if (firstDown.length > 0) this.down.feed(firstDown);
    // An idle tunnel should hold little more than its two sockets: let the request go.
    (ctx as { req: unknown }).req = undefined;
    const o = ctx.origin!;
    o.load.websockets++;
    ctx.edge.metrics.websockets.inc({ origin: o.id });
    ctx.edge.tunnels.add(this);

    client.on('data', (c: Buffer) => this.forward(c, this.up, origin, client, false));
    origin.on('data', (c: Buffer) => {
      ctx.bytesOut += c.length;
      this.forward(c, this.down, client, origin, true);
    });
    client.on('drain', () => origin.resume());
    origin.on('drain', () => client.resume());
    // Half-close passes through; either side closing or failing ends both.
    client.on('end', () => origin.end());
    origin.on('end', () => client.end());
    for (const s of [client, origin]) {
      s.on('error', () => this.destroy());
      s.on('close', () => this.destroy());
    }
    const idle = ctx.snapshot.config.websocket.idleTimeout;
    // Idle: both peers are told (Close 1001, going away) rather than left to find a dead socket.
    (client as Socket).setTimeout?.(idle, () => this.goAway());
    (client as Socket).setNoDelay?.(true);
    origin.setNoDelay(true);
  }

  private forward(chunk: Buffer, tracker: FrameTracker, to: Duplex, from: Duplex, toClient: boolean): void {
    if (this.goingAway) {
      if (toClient ? this.sentDown : this.sentUp) return; // after our Close, nothing more this way
      const n = tracker.bytesToBoundary(chunk);
      if (n > 0) {
        const part = chunk.subarray(0, n);
        tracker.feed(part);
        to.write(part);
      }
      if (tracker.atBoundary) this.sendClose(toClient);
      return;
    }
    tracker.feed(chunk);
    if (!to.write(chunk)) from.pause();
  }

  /** Graceful stop or idle: Close 1001 both ways at the next frame boundary, then hang up. */
  goAway(): void {
    if (this.closed || this.goingAway) return;
    this.goingAway = true;
    // A peer stalled mid-frame never lets us reach a boundary: hang up regardless after a while.
    setTimeout(() => this.destroy(), 2000).unref();
    if (this.down.atBoundary) this.sendClose(true);
    if (this.up.atBoundary) this.sendClose(false);
  }

  private sendClose(toClient: boolean): void {
    if (toClient) {
      if (this.sentDown) return;
      this.sentDown = true;
      this.client.write(closeFrame(1001, 'going away', false));
    } else {
      if (this.sentUp) return;
      this.sentUp = true;
      this.origin.write(closeFrame(1001, 'going away', true));
    }
    if (this.sentDown && this.sentUp) {
      // Give the peers a moment to answer the Close, then end regardless.
      setTimeout(() => this.destroy(), 1000).unref();
    }
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
    this.origin.destroy();
    const ctx = this.ctx;
    const o = ctx.origin!;
    o.load.websockets--;
    ctx.edge.metrics.websockets.dec({ origin: o.id });
    ctx.edge.tunnels.delete(this);
  }
}
