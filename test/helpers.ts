/** Shared test fixtures: real servers on 127.0.0.1 port 0, an in-process edge, a config builder. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { configSchema, type Config } from '../src/config/schema.js';
import { startEdge, type Edge } from '../src/server/edge.js';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface TestServer {
  server: http.Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** A plain node:http origin on 127.0.0.1, port 0. */
export async function startOrigin(handler: Handler): Promise<TestServer> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A validated config with one `*` load balancer over `origins` (addresses), plus overrides. */
export function edgeConfig(origins: string[], extra: Record<string, unknown> = {}): Config {
  const raw = {
    pop: { id: 'test', region: 'local' },
    listen: { http: '127.0.0.1:0', admin: '127.0.0.1:0' },
    log: { level: 'silent', access: false },
    pools: { main: { origins: origins.map((address, i) => ({ name: `o${i + 1}`, address })) } },
    loadBalancers: [{ hostname: '*', defaultPools: ['main'] }],
    ...extra,
  };
  return configSchema.parse(raw);
}

/** An in-process edge (no workers) with a silent logger. */
export function startTestEdge(config: Config): Promise<Edge> {
  return startEdge(config, { log: pino({ level: 'silent' }) });
}

export function edgeUrl(edge: Edge, scheme: 'http' | 'https' = 'http'): string {
  const a = edge.addresses[scheme]!;
  return `${scheme}://127.0.0.1:${a.port}`;
}
