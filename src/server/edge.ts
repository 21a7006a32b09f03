/**
 * One edge node's serving half, as one worker runs it (or a test, in-process): the listeners,
 * the current snapshot, config swaps and the graceful stop. The supervisor (primary process)
 * owns the admin listener, the config file and the workers; it tells each edge what to apply.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { createMetrics, type EdgeMetrics } from '../observe/metrics.js';
import { randomBytes } from 'node:crypto';
import { OriginStatus } from '../balancer/origin-status.js';
import { MemoryCluster } from '../cluster/memory.js';
import type { Cluster } from '../cluster/types.js';
import { OutlierDetector } from '../health/passive.js';
import { outlierDetector, outlierMembers } from './health-link.js';
import type { EdgeRuntime, GeoLookup } from '../pipeline/context.js';
import { buildSnapshot } from '../router/snapshot.js';
import { OriginRegistry } from '../upstream/origin.js';
import { EdgeCache } from '../cache/edge-cache.js';
import { ShieldState } from '../shield/shield-phase.js';
import { ConnectionGate, StreamResetBudget, type Admission } from '../shield/connection-gate.js';
import { clientErrorHandler, requestHandler, upgradeHandler, type InflightCounter } from './handlers.js';
import { guardRequestTimeouts, type RequestTimeoutHooks } from './request-timeouts.js';

export interface Edge {
  readonly runtime: EdgeRuntime;
  /** Bound addresses (port 0 resolved), for tests and logs. */
  readonly addresses: { http?: AddressInfo; https?: AddressInfo };
  /** Swaps in a new validated config; requests in flight keep the one they started with. */
  apply(config: Config): void;
  /** Stops accepting, drains in-flight requests up to `drainMs`, closes WebSockets with 1001. */
  shutdown(drainMs?: number): Promise<void>;
}

export interface EdgeOptions {
  log: Logger;
  metrics?: EdgeMetrics;
  /** Key for affinity cookies shared by the node's workers; default: random for this process. */
  secret?: string;
  /** Admin state and health; default: a fresh one (no monitors). */
  status?: OriginStatus;
  geo?: GeoLookup;
  normalizeRegion?: (region: string) => string;
  /** Shared state (src/cluster); default: this process's own (memory). */
  cluster?: Cluster;
}

export async function startEdge(config: Config, opts: EdgeOptions): Promise<Edge> {
  const registry = new OriginRegistry((err) => opts.log.warn({ err }, 'closing an origin pool failed'));
  const status = opts.status ?? new OriginStatus();
  // Passive ejection by default, fed by this process's traffic (health-link.ts).
  if (!status.passive) status.passive = outlierDetector(config);
  const syncOutliers = (c: Config) => {
    if (status.passive instanceof OutlierDetector) status.passive.setOrigins(outlierMembers(c));
  };
  syncOutliers(config);
  const normalizeRegion = opts.normalizeRegion ?? ((r: string) => r);
  const shieldState = new ShieldState();
  const runtime: EdgeRuntime = {
    snapshot: buildSnapshot(config, registry, status, normalizeRegion, shieldState),
    metrics: opts.metrics ?? createMetrics(),
    log: opts.log,
    tunnels: new Set(),
    retryBudgets: new Map(),
    status,
    geo: opts.geo,
    normalizeRegion,
    secret: opts.secret ?? randomBytes(32).toString('base64url'),
    cache: new EdgeCache(config.cache, opts.log),
    httpsPort: undefined,
    connections: new ConnectionGate(() => runtime.snapshot.config.limits),
    cluster: opts.cluster ?? new MemoryCluster(),
    shield: shieldState,
  };
  // A challenge answer is single use wherever the state is shared (the node's workers, or PoPs).
  shieldState.claimNode = (nonce, expiresAt) => runtime.cluster.nonces.claim(nonce, expiresAt);
  const counter: InflightCounter = { inflight: 0 };
  const sockets = new Set<Socket>();
  const h2Sessions = new Set<http2.ServerHttp2Session>();
  const addresses: Edge['addresses'] = {};
  const servers: (http.Server | http2.Http2SecureServer)[] = [];
  const limits = () => runtime.snapshot.config.limits;

  const track = (listener: string) => (socket: Socket) => {
    sockets.add(socket);
    runtime.metrics.connections.inc({ listener });
    socket.once('close', () => {
      sockets.delete(socket);
      runtime.metrics.connections.dec({ listener });
    });
  };

  /** At most one log line per refusal reason per second: a flood must not become a log flood. */
  const lastRefusalLog = new Map<string, number>();
  const refused = (listener: string, reason: Admission | 'h2-rapid-reset', client: string | undefined) => {
    runtime.metrics.connectionsRefused.inc({ listener, reason });
    const now = Date.now();
    if ((lastRefusalLog.get(reason) ?? 0) + 1000 > now) return;
    lastRefusalLog.set(reason, now);
    opts.log.warn({ type: 'connection_refused', listener, reason, client }, `connection closed: ${reason}`);
  };
  /** Raw sockets the gate turned away, so their TLS wrapper's hang-up is not counted as a client error. */
  const gateRefused = new WeakSet<Socket>();

  /**
   * The per-client connection limits (shield/connection-gate.ts), on 'connection': before any
   * byte is read. Over a limit the socket is destroyed without an answer (the peer is abusive,
   * and answering costs what the limit saves). The peer address is what counts: trusted-proxy
   * headers are per request and not read yet.
   */
  const accept = (listener: string) => {
    const tracked = track(listener);
    return (socket: Socket) => {
      const ip = socket.remoteAddress;
      if (ip === undefined) {
        // Already gone (reset before we saw it): nothing to count.
        socket.destroy();
        return;
      }
      const verdict = runtime.connections.admit(ip);
      if (verdict !== 'ok') {
        gateRefused.add(socket);
        socket.destroy();
        refused(listener, verdict, ip);
        return;
      }
      socket.once('close', () => runtime.connections.release(ip));
      tracked(socket);
    };
  };

  if (config.listen.http) {
    const server = http.createServer({
      maxHeaderSize: config.limits.maxHeaderSize,
      requireHostHeader: true,
      joinDuplicateHeaders: false,
      connectionsCheckingInterval: timeoutCheckInterval(config),
    });
    setHttpLimits(server, config);
    server.on('request', closeAfterLastRequest);
    const onClientError = clientErrorHandler(runtime);
    const guard = guardRequestTimeouts(limits, requestTimeoutHooks(runtime, onClientError));
    server.on('request', guard);
    server.on('checkContinue', guard);
    const onHttpRequest = requestHandler(runtime, 'http', counter);
    server.on('request', onHttpRequest);
    server.on('checkContinue', continueUnlessTooLarge(onHttpRequest, limits));
    server.on('upgrade', upgradeHandler(runtime, 'http'));
    server.on('clientError', onClientError);
    server.on('connection', accept('http'));
    addresses.http = await listen(server, config.listen.http);
    servers.push(server);
  }

  if (config.listen.https) {
    const certs = runtime.snapshot.certificates!;
    const server = http2.createSecureServer({
      allowHTTP1: true,
      ALPNProtocols: config.tls!.http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
      ...certs.defaultPem,
      minVersion: config.tls!.minVersion,
      // SNI: the certificate comes from the snapshot current at handshake time (hot-reloaded).
      SNICallback: (name, cb) => cb(null, runtime.snapshot.certificates?.contextFor(name)),
      maxHeaderSize: config.limits.maxHeaderSize,
      settings: http2Settings(config),
      maxSessionInvalidFrames: 100,
      maxSessionRejectedStreams: 100,
      // Node's default is 120 s; fixed when the listener starts (Node keeps it out of reach).
      handshakeTimeout: config.limits.handshakeTimeout,
    } as http2.SecureServerOptions);
    setHttpLimits(server as unknown as http.Server, config);
    // HTTP/1.1 over TLS (allowHTTP1) has the same 30 s default; it is read when listening starts.
    (server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval = timeoutCheckInterval(config);
    server.on('request', closeAfterLastRequest as never);
    const onClientError = clientErrorHandler(runtime);
    const guard = guardRequestTimeouts(limits, requestTimeoutHooks(runtime, onClientError));
    server.on('request', guard);
    server.on('checkContinue', guard);
    const onHttpsRequest = requestHandler(runtime, 'https', counter);
    server.on('request', onHttpsRequest);
    server.on('checkContinue', continueUnlessTooLarge(onHttpsRequest, limits));
    server.on('upgrade', upgradeHandler(runtime, 'https'));
    // Node's TLS servers report a failed handshake twice, as clientError and as tlsClientError:
    // tlsClientError alone counts it; clientError is left with HTTP/1.1 errors once TLS is up.
    const secured = new WeakSet<object>();
    server.on('secureConnection', (socket: TLSSocket) => secured.add(socket));
    server.on(
      'clientError' as 'session',
      ((err: NodeJS.ErrnoException, socket: TLSSocket) => {
        if (secured.has(socket)) onClientError(err, socket);
        else socket.destroy();
      }) as never,
    );
    server.on('connection', accept('https'));
    server.on('session', (session) => {
      h2Sessions.add(session);
      // Node's session timer counts stream frames only, not PING or SETTINGS (a client pinging a
      // session without streams is still idle: test/timeouts-http2.test.ts); streams have their
      // own bounds (request-timeouts.ts).
      session.setTimeout(limits().keepAliveTimeout, () => session.close());
      session.once('close', () => h2Sessions.delete(session));
      guardStreamResets(session, limits, () => refused('https', 'h2-rapid-reset', session.socket?.remoteAddress));
    });
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      // The gate destroyed the raw socket this TLS socket wraps (`_parent`, Node's own field):
      // already counted as refused, not a client's hang-up.
      if (gateRefused.has((socket as unknown as { _parent: Socket })._parent)) return;
      // A client that hangs up mid-handshake (a TLS 1.3 probe closing at once) is no TLS failure;
      // one past limits.handshakeTimeout (silent, or a ClientHello trickled) is a slow client.
      const kind = err.code === 'ECONNRESET' ? 'reset' : err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'timeout' : 'tls';
      runtime.metrics.clientErrors.inc({ kind });
      opts.log.debug({ type: 'tls_error', code: err.code }, err.message);
      socket.destroy();
    });
    addresses.https = await listen(server, config.listen.https);
    runtime.httpsPort = addresses.https.port;
    servers.push(server);
  }

  return {
    runtime,
    addresses,
    apply(next) {
      const snapshot = buildSnapshot(next, registry, status, normalizeRegion, shieldState);
      syncOutliers(next);
      runtime.cache.reconfigure(next.cache);
      const prev = runtime.snapshot.config;
      runtime.snapshot = snapshot;
      registry.release(snapshot.origins);
      for (const s of servers) {
        setHttpLimits(s as http.Server, next);
        // New HTTP/2 sessions get the new SETTINGS; open ones keep what they were sent.
        if ('updateSettings' in s) s.updateSettings(http2Settings(next));
        if ('setSecureContext' in s && snapshot.certificates) {
          s.setSecureContext({ ...snapshot.certificates.defaultPem, minVersion: next.tls!.minVersion });
        }
      }
      if (JSON.stringify(prev.listen) !== JSON.stringify(next.listen)) {
        opts.log.warn({ type: 'config' }, 'listen addresses changed: they apply at the next restart');
      }
    },
    async shutdown(drainMs = runtime.snapshot.config.shutdown.drainTimeout) {
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const s of servers) (s as http.Server).closeIdleConnections?.();
      for (const session of h2Sessions) session.close();
      for (const t of runtime.tunnels) t.goAway();
      const drained = new Promise<void>((resolve) => {
        const check = () => {
          if (counter.inflight === 0 && runtime.tunnels.size === 0) resolve();
        };
        counter.onIdle = check;
        const timer = setInterval(check, 50);
        timer.unref();
        check();
      });
      let timedOut = false;
      const deadline = new Promise<void>((resolve) =>
        setTimeout(() => {
          timedOut = true;
          resolve();
        }, drainMs).unref(),
      );
      await Promise.race([drained, deadline]);
      if (timedOut) opts.log.warn({ type: 'shutdown', inflight: counter.inflight, websockets: runtime.tunnels.size }, 'drain deadline passed; closing what remains');
      for (const t of runtime.tunnels) t.destroy();
      for (const s of servers) (s as http.Server).closeAllConnections?.();
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
      await registry.closeAll(timedOut);
      await runtime.cache.close();
    },
  };
}

/**
 * What a request past its time does (request-timeouts.ts): HTTP/1.1 goes the way of Node's own
 * requestTimeout, through the clientError handler (408, counted, the connection closed); an
 * HTTP/2 stream is counted and logged alike (`kind: timeout`).
 */
function requestTimeoutHooks(runtime: EdgeRuntime, onClientError: ReturnType<typeof clientErrorHandler>): RequestTimeoutHooks {
  return {
    http1Expired: onClientError,
    h2Expired: (why) => {
      runtime.metrics.clientErrors.inc({ kind: 'timeout' });
      runtime.log.debug({ type: 'client_error', code: `h2_${why}_timeout`, kind: 'timeout' }, `HTTP/2 stream past its ${why === 'idle' ? 'bodyIdleTimeout' : 'requestTimeout'}`);
    },
  };
}

/**
 * `Expect: 100-continue`: Node answers 100 Continue by itself unless someone listens. We say it
 * only when the declared body fits `limits.maxBodySize`; otherwise the request handler answers
 * 413 and the client never sends the body.
 */
function continueUnlessTooLarge(onRequest: (req: never, res: never) => void, limits: () => Config['limits']) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const max = limits().maxBodySize;
    const declared = Number(req.headers['content-length']);
    if (!(max > 0 && declared > max)) res.writeContinue();
    onRequest(req as never, res as never);
  };
}

function setHttpLimits(server: http.Server, config: Config): void {
  const l = config.limits;
  server.maxConnections = l.maxConnections;
  server.headersTimeout = l.headersTimeout;
  server.requestTimeout = l.requestTimeout;
  server.keepAliveTimeout = l.keepAliveTimeout;
  server.maxRequestsPerSocket = l.maxRequestsPerConnection || null;
}

/**
 * `limits.maxRequestsPerConnection` (Node's maxRequestsPerSocket) only writes `Connection: close`
 * on the last response and then leaves the connection open: a client that ignores it keeps the
 * socket until keepAliveTimeout, each further request answered 503. Marking the last response
 * not keep-alive makes Node close the connection once it is sent. A listener of 'request' ahead
 * of the pipeline, so it runs before any header is written; HTTP/2 responses have no such flag.
 */
function closeAfterLastRequest(_req: http.IncomingMessage, res: http.ServerResponse): void {
  // Set by Node's parser when the limit is reached (not in @types/node).
  if ((res as { maxRequestsOnConnectionReached?: boolean }).maxRequestsOnConnectionReached) res.shouldKeepAlive = false;
}

/** The SETTINGS the HTTPS listener sends HTTP/2 clients. */
function http2Settings(config: Config): http2.Settings {
  return { maxHeaderListSize: config.limits.maxHeaderSize, maxConcurrentStreams: config.limits.http2MaxStreams };
}

/**
 * Rapid reset (CVE-2023-44487): a client opens streams and cancels them at once, so the edge
 * starts work (a request to the origin) for each while the client's concurrency never reaches
 * SETTINGS_MAX_CONCURRENT_STREAMS. Node 20's nghttp2 (1.57+) has its own guard, fixed and loose
 * (a burst of 1000 resets, then 33 per second, answered with GOAWAY INTERNAL_ERROR); this one is
 * `limits.http2MaxResetsPerSecond`, read live. A stream counts when the peer (or nghttp2) closes
 * it before its response ended: Node then emits 'aborted' on a stream not yet destroyed; streams
 * the edge destroys itself (an origin failure, the session going) are already destroyed then.
 *
 * Over the limit: GOAWAY ENHANCE_YOUR_CALM (RFC 9113 §5.4.1) with the last stream processed, so
 * nghttp2 ignores every new stream from then on, and a graceful close; the socket is cut
 * `H2_GOAWAY_GRACE_MS` later if the peer has not hung up. Not a `destroy()` at once: that drops
 * the GOAWAY still in the TLS layer, and Node's own client then stalls on a dead socket instead
 * of seeing why it was closed.
 */
function guardStreamResets(session: http2.ServerHttp2Session, limits: () => Config['limits'], onClose: () => void): void {
  const budget = new StreamResetBudget(() => limits().http2MaxResetsPerSecond);
  let closing = false;
  session.on('stream', (stream) => {
    stream.once('aborted', () => {
      if (closing || stream.destroyed || session.destroyed || !budget.reset()) return;
      closing = true;
      onClose();
      session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, session.state.lastProcStreamID ?? 0);
      session.close();
      const cut = setTimeout(() => session.destroy(), H2_GOAWAY_GRACE_MS);
      cut.unref();
      session.once('close', () => clearTimeout(cut));
    });
  });
}

/** How long a session closed for rapid reset has to read its GOAWAY before the socket is cut. */
const H2_GOAWAY_GRACE_MS = 1000;

/**
 * How often Node looks for connections past headersTimeout / requestTimeout. Its default is 30 s,
 * which would let a slowloris client hold a connection for up to 30 s past a 10 s headersTimeout.
 * Fixed when the listener starts; a reload that shortens the timeouts keeps this granularity.
 */
function timeoutCheckInterval(config: Config): number {
  const l = config.limits;
  return Math.min(1000, Math.max(100, Math.floor(Math.min(l.headersTimeout, l.requestTimeout) / 4)));
}

function listen(server: http.Server | http2.Http2SecureServer, addr: { host: string; port: number }): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
