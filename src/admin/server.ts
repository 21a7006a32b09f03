/**
 * The admin listener (loopback by default): Prometheus metrics for the whole node, liveness and
 * readiness. It runs in the supervisor, apart from the traffic listeners, so a flood of client
 * traffic cannot starve the probes that decide whether this PoP should get traffic.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseTarget } from '../router/request-target.js';
import { authorized, handleApi, type AdminModel } from './api.js';

export interface AdminSource {
  /** Prometheus text of the node (every worker summed). */
  metrics(): Promise<string>;
  readonly metricsContentType: string;
  /** Ready to take traffic: config loaded, every worker listening, not shutting down. */
  ready(): boolean;
  /** A small JSON view of the node for operators. */
  status(): object;
  /** The token-protected API under /api/ (api.ts); the token is read per request (reloads). */
  api?: { token(): string | undefined; model: AdminModel; publicMetrics?(): boolean };
}

/**
 * How long a client may take to send its head, and its whole request: a slow client must not hold
 * the supervisor's sockets (Node's own defaults are 60 s and 300 s). Tests pass shorter ones.
 */
export interface AdminTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

const ADMIN_TIMEOUTS: AdminTimeouts = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 };

export async function startAdmin(addr: { host: string; port: number }, source: AdminSource, timeouts: AdminTimeouts = ADMIN_TIMEOUTS): Promise<{ server: http.Server; address: AddressInfo }> {
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    // Any target Node's parser lets through reaches here (`http://[`, `%E0%A4%A`, `*`): it is
    // read by the same pure parser as the edge's, and what is not a path is a 400, not a throw.
    const target = parseTarget(req.url ?? '/');
    if (target.form !== 'origin') {
      res.shouldKeepAlive = false;
      return send(400, 'text/plain', 'bad request target: use a path such as /metrics\n');
    }
    const path = target.path.split('?')[0];
    if (source.api && handleApi(req, res, path, source.api.token(), source.api.model)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    // admin.publicMetrics: false puts /metrics and /status behind the token as well.
    const token = source.api?.token();
    if ((path === '/metrics' || path === '/status') && token && source.api?.publicMetrics?.() === false && !authorized(req.headers.authorization, token)) {
      res.setHeader('www-authenticate', 'Bearer realm="outpost"');
      return send(401, 'text/plain', 'missing or wrong bearer token (admin.publicMetrics is false)\n');
    }
    switch (path) {
      case '/healthz':
        return send(200, 'text/plain', 'ok\n');
      case '/readyz':
        return source.ready() ? send(200, 'text/plain', 'ready\n') : send(503, 'text/plain', 'not ready\n');
      case '/metrics':
        source.metrics().then(
          (text) => send(200, source.metricsContentType, text),
          (err: Error) => send(500, 'text/plain', `metrics failed: ${err.message}\n`),
        );
        return;
      case '/status':
        return send(200, 'application/json', `${JSON.stringify(source.status(), null, 2)}\n`);
      default:
        return send(404, 'text/plain', 'not found: try /metrics, /healthz, /readyz, /status\n');
    }
  };
  const server = http.createServer({ connectionsCheckingInterval: Math.min(1000, Math.max(50, timeouts.headersTimeoutMs / 4)) }, (req, res) => {
    // The admin listener lives in the supervisor: a throw here would stop the whole node.
    try {
      handle(req, res);
    } catch (err) {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain', 'cache-control': 'no-store', connection: 'close' });
        res.end(`internal error: ${(err as Error).message}\n`);
      } else res.destroy();
    }
  });
  server.headersTimeout = timeouts.headersTimeoutMs;
  server.requestTimeout = timeouts.requestTimeoutMs;
  // Malformed bytes (a bad request line, oversize headers, a head or request past its timeout):
  // answer 400 and free the socket.
  server.on('clientError', (_err, socket) => {
    if (!socket.writable) return void socket.destroy();
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () => socket.destroy());
    setTimeout(() => socket.destroy(), 1000).unref();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => resolve());
  });
  return { server, address: server.address() as AddressInfo };
}
