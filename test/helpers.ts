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

// ---------------------------------------------------------------------------------------------
// Raw sockets and failure fixtures (origin-failures, smuggling and tls suites).
// Appended as one block; other helpers go above or below it, not inside.
// ---------------------------------------------------------------------------------------------
import net, { type Socket } from 'node:net';

export interface RawServer {
  server: net.Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 port 0 that hands every connection to `onConnection` (no HTTP). */
export async function startRawOrigin(onConnection: (socket: Socket) => void): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const raw = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  const port = (raw.address() as AddressInfo).port;
  return {
    server: raw,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); raw.close(() => r()); }),
  };
}

/** A port on 127.0.0.1 that refuses connections: bound once, then closed. */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface RawExchange {
  /** Everything the peer sent, latin1. */
  text: string;
  /** True when the peer closed (end or reset) before `timeoutMs`. */
  closed: boolean;
}

/**
 * Writes `bytes` to a new connection to 127.0.0.1:`port` and collects what comes back until the
 * peer closes or `timeoutMs` passes (then the socket is destroyed and `closed` is false).
 */
export function sendRaw(port: number, bytes: string | Buffer, timeoutMs = 2000): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(bytes);
  });
}

/** `outpost_upstream_errors_total` for `kind` (summed over origins, or one `origin` id). */
export async function upstreamErrorCount(edge: Edge, kind: string, origin?: string): Promise<number> {
  const { values } = await edge.runtime.metrics.upstreamErrors.get();
  return values
    .filter((v) => v.labels.kind === kind && (origin === undefined || v.labels.origin === origin))
    .reduce((sum, v) => sum + v.value, 0);
}
// --- end of raw sockets and failure fixtures -------------------------------------------------
