/**
 * The admin listener (loopback by default): Prometheus metrics for the whole node, liveness and
 * readiness. It runs in the supervisor, apart from the traffic listeners, so a flood of client
 * traffic cannot starve the probes that decide whether this PoP should get traffic.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleApi, type AdminModel } from './api.js';

export interface AdminSource {
  /** Prometheus text of the node (every worker summed). */
  metrics(): Promise<string>;
  readonly metricsContentType: string;
  /** Ready to take traffic: config loaded, every worker listening, not shutting down. */
  ready(): boolean;
  /** A small JSON view of the node for operators. */
  status(): object;
  /** The token-protected API under /api/ (api.ts); the token is read per request (reloads). */
  api?: { token(): string | undefined; model: AdminModel };
}

export async function startAdmin(addr: { host: string; port: number }, source: AdminSource): Promise<{ server: http.Server; address: AddressInfo }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (source.api && handleApi(req, res, source.api.token(), source.api.model)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
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
        return send(200, 'application/json', JSON.stringify(source.status(), null, 2) + '\n');
      default:
        return send(404, 'text/plain', 'not found: try /metrics, /healthz, /readyz, /status\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => resolve());
  });
  return { server, address: server.address() as AddressInfo };
}
