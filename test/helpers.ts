/** Shared test fixtures: real servers on 127.0.0.1 port 0, an in-process edge, a config builder. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Agent } from 'undici';
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
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
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
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        raw.close(() => r());
      }),
  };
}

/**
 * A port on 127.0.0.1 that refuses connections (bound once, then closed), for a server the test
 * starts later or for a dead address. Drawn below the kernel's ephemeral range (32768–60999), so
 * the servers other test files start on port 0 meanwhile cannot take it before ours binds it.
 */
export async function closedPort(): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    const s = net.createServer();
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.listen(port, '127.0.0.1', () => r(true));
    });
    if (!ok) continue;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
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
  return values.filter((v) => v.labels.kind === kind && (origin === undefined || v.labels.origin === origin)).reduce((sum, v) => sum + v.value, 0);
}
// --- end of raw sockets and failure fixtures -------------------------------------------------

// ---------------------------------------------------------------------------------------------
// WebSocket origins, dev TLS files and the build (websocket, config and cluster suites).
// Appended as one block; other helpers go above or below it, not inside.
// ---------------------------------------------------------------------------------------------
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type ServerOptions as WsServerOptions, type WebSocket as WsSocket } from 'ws';
import { createDevCa, issueCert } from '../src/tls/dev-certs.js';

/** The repository root (where bin/, dist/ and outpost.schema.json live). */
export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface WsOrigin {
  name: string;
  server: http.Server;
  wss: WebSocketServer;
  port: number;
  /** `http://127.0.0.1:port`, or `https://` for a TLS origin: the edge config's address. */
  url: string;
  /** Server-side WebSockets, in connection order, with the raw socket each was upgraded on. */
  connections: { ws: WsSocket; socket: Socket; req: http.IncomingMessage }[];
  /** Resolves with the next WebSocket the origin accepts. */
  nextConnection(): Promise<{ ws: WsSocket; socket: Socket; req: http.IncomingMessage }>;
  close(): Promise<void>;
}

export interface WsOriginOptions {
  name?: string;
  /** PEM certificate and key: the origin speaks wss (an https server). */
  tls?: { cert: string; key: string };
  /** Options for ws's WebSocketServer (handleProtocols, perMessageDeflate …). */
  ws?: Omit<WsServerOptions, 'server' | 'noServer' | 'port'>;
  /** Answers an upgrade itself instead of accepting it (return true when it did). */
  refuse?: (req: http.IncomingMessage, socket: Socket) => boolean;
  /** Plain HTTP requests (default: 200 with the origin's name). */
  onRequest?: Handler;
}

/**
 * A `ws` echo origin on 127.0.0.1 port 0: every message comes back as it was sent (text as text,
 * binary as binary), except the text `whoami`, answered with the origin's name.
 */
export async function startWsOrigin(opts: WsOriginOptions = {}): Promise<WsOrigin> {
  const name = opts.name ?? 'ws-origin';
  const onRequest: Handler = opts.onRequest ?? ((_req, res) => res.end(name));
  const server = opts.tls ? https.createServer({ ...opts.tls }, onRequest) : http.createServer(onRequest);
  const wss = new WebSocketServer({ ...opts.ws, noServer: true });
  const connections: WsOrigin['connections'] = [];
  let waiters: ((c: WsOrigin['connections'][number]) => void)[] = [];
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (opts.refuse?.(req, socket)) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      ws.on('message', (data, isBinary) => {
        if (!isBinary && data.toString() === 'whoami') ws.send(name);
        else ws.send(data, { binary: isBinary });
      });
      const c = { ws, socket, req };
      connections.push(c);
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve(c);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    server,
    wss,
    port,
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    connections,
    nextConnection: () => new Promise((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise((r) => {
        for (const c of connections) c.socket.destroy();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface DevTlsFiles {
  dir: string;
  /** CA certificate PEM, for clients. */
  ca: string;
  caFile: string;
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

/** A throwaway CA and a leaf for 127.0.0.1 and localhost, written as PEM files into `dir` (a new temp dir by default). */
export function writeDevTls(dir = mkdtempSync(join(tmpdir(), 'outpost-tls-'))): DevTlsFiles {
  const ca = createDevCa();
  const leaf = issueCert(ca, ['localhost', '127.0.0.1']);
  mkdirSync(dir, { recursive: true });
  const caFile = join(dir, 'ca.crt');
  const certFile = join(dir, 'edge.crt');
  const keyFile = join(dir, 'edge.key');
  writeFileSync(caFile, ca.cert);
  writeFileSync(certFile, leaf.cert);
  writeFileSync(keyFile, leaf.key, { mode: 0o600 });
  return { dir, ca: ca.cert, caFile, cert: leaf.cert, key: leaf.key, certFile, keyFile };
}

/** Sum of a prom-client metric's values (every label set), read in-process. */
export async function metricSum(metric: { get(): Promise<{ values: { value: number }[] }> | { values: { value: number }[] } }): Promise<number> {
  const { values } = await metric.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

/** Polls `check` every 20 ms until it returns true (or a truthy value), or throws after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** True when some compiled file in dist/ is missing or older than its source in src/. */
function distIsStale(): boolean {
  const src = join(repoRoot, 'src');
  const walk = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) => {
      const p = join(dir, e.name);
      if (e.isDirectory()) return walk(p);
      if (!e.name.endsWith('.ts') || e.name.endsWith('.test.ts') || e.name.endsWith('.d.ts')) return false;
      const out = join(repoRoot, 'dist', relative(src, p).replace(/\.ts$/, '.js'));
      return !existsSync(out) || statSync(out).mtimeMs < statSync(p).mtimeMs;
    });
  return walk(src);
}

/**
 * Builds dist/ (what `bin/outpost.js` runs) when it is older than src/, so suites that spawn the
 * CLI also work from a bare `npx vitest run FILE`. `npm test` builds first, so this is then a
 * no-op. Suites run in parallel: a lock directory makes a second caller wait for the first build
 * instead of writing dist/ at the same time.
 */
export async function ensureBuilt(): Promise<void> {
  if (!distIsStale()) return;
  const lock = join(repoRoot, 'node_modules', '.outpost-build-lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed run is older than any real build.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (!distIsStale()) return;
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: repoRoot }, (err, stdout, stderr) =>
        err ? reject(new Error(`npx tsc -p tsconfig.json failed:\n${stdout}${stderr}`)) : resolve(),
      );
    });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
// --- end of WebSocket origins, dev TLS files and the build -----------------------------------

/**
 * undici dispatchers that connect from given loopback addresses (127.0.0.2, 127.0.0.3, …), so a
 * test can play distinct clients; `close()` ends them all.
 */
export function loopbackClients(): { from(address: string): Agent; close(): Promise<void> } {
  const agents = new Map<string, Agent>();
  return {
    from(address) {
      let a = agents.get(address);
      if (!a) agents.set(address, (a = new Agent({ localAddress: address })));
      return a;
    },
    async close() {
      await Promise.all([...agents.values()].map((a) => a.close()));
    },
  };
}
