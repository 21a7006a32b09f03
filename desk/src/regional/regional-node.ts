/**
 * A regional Desk node (desk/REGIONAL.md): it runs near visitors far from the core, holds their
 * sockets, and keeps no database of its own. Each client socket is relayed to the core over a
 * socket opened beforehand (core-link.ts), so a hello costs one trip to the core; a message sent
 * is journaled on this node's disk and accepted at once (relay.ts), and the core's ack follows.
 * What the journal still holds is sent again by itself (replay.ts).
 *
 * HTTP: /healthz (503 while the core is unreachable: a node that cannot welcome anyone should get
 * no one), the static files of desk/public from its own disk, and every other request passed to
 * the core as it is.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import pino, { type Logger } from 'pino';
import { Pool } from 'undici';
import { WebSocketServer } from 'ws';
import { badTarget, listen, refuseUpgrade, requestUrl, sendJson } from '../server/http-io.js';
import { upgradeInfo, visitorOriginAllowed } from '../server/origins.js';
import { MAX_FRAME, refuse } from '../server/realtime.js';
import { serveStatic } from '../server/static-files.js';
import { CoreLink } from './core-link.js';
import { Journal } from './journal.js';
import { Relay } from './relay.js';
import { replayJournal } from './replay.js';
import { Workspaces } from './workspaces.js';

export interface RegionalNodeOptions {
  port: number;
  host?: string;
  /** The core Desk nodes (or their load balancer), in order of preference: `http://core:3001`. */
  core: string | string[];
  /** The secret the core was started with (`regionalSecret`). */
  secret: string;
  /** The journal file on this node's disk. */
  journal: string;
  nodeId: string;
  publicDir?: string;
  log?: Logger;
  /** Idle sockets to the core kept open (4). */
  spares?: number;
  /** How old a journal row must be before the replay sends it again (5 s), and how often it looks (2 s). */
  replayGraceMs?: number;
  replayEveryMs?: number;
}

export interface RegionalNode {
  port: number;
  journal: Journal;
  close(): Promise<void>;
}

/** Request headers not passed to the core: hop-by-hop ones (RFC 9110 §7.6.1). */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

export async function startRegionalNode(opts: RegionalNodeOptions): Promise<RegionalNode> {
  const log = (opts.log ?? pino({ level: 'info' })).child({ desk: opts.nodeId, role: 'regional' });
  const coreUrls = (Array.isArray(opts.core) ? opts.core : [opts.core]).map((u) => new URL(u));
  const wsUrls = coreUrls.map((u) => {
    const ws = new URL('/ws', u);
    ws.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return ws.href;
  });
  const journal = new Journal(opts.journal);
  const link = new CoreLink({ urls: wsUrls, secret: opts.secret, spares: opts.spares, log });
  // HTTP goes where the sockets go: the core node that answers now.
  const pools = coreUrls.map((u) => new Pool(u.origin, { keepAliveTimeout: 60_000 }));
  const pool = () => pools[link.currentIndex]!;
  const workspaces = new Workspaces(pool, opts.secret, log);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME, clientTracking: true });
  const inFlight = new Set<string>();
  /** Core sockets of live relays, cut when the node closes (what they carried stays in the journal). */
  const cores = new Set<import('ws').WebSocket>();

  let replaying = false;
  const replay = async () => {
    if (replaying || !link.healthy) return;
    replaying = true;
    try {
      const n = await replayJournal({ journal, link, inFlight, log, graceMs: opts.replayGraceMs ?? 5_000 });
      if (n) log.info({ settled: n }, 'regional: journal replayed');
    } finally {
      replaying = false;
    }
  };
  const replayTimer = setInterval(() => void replay(), opts.replayEveryMs ?? 2_000);
  replayTimer.unref();

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      log.warn({ err: (err as Error).message }, 'regional: request failed');
      if (!res.headersSent) sendJson(res, 502, { error: { code: 'core_unreachable', message: 'the core did not answer' } });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 20_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = requestUrl(req);
    if (!url) return badTarget(res);
    if (url.pathname === '/healthz') {
      const ok = link.healthy;
      sendJson(res, ok ? 200 : 503, { ok, role: 'regional', core: ok, journal: journal.size, workspaces: workspaces.size, node: opts.nodeId });
      return;
    }
    if (!url.pathname.startsWith('/api/') && opts.publicDir && (await serveStatic(opts.publicDir, req, res, url.pathname))) return;
    await proxy(req, res, url);
  }

  /** Any other request goes to the core as it came (the REST API, the inbox's login). */
  async function proxy(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
    headers['x-forwarded-host'] ??= req.headers.host ?? '';
    // The core throttles sign-ins per client address: tell it whose request this is (RFC 7239's de facto form).
    const xff = req.headers['x-forwarded-for'];
    const peer = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = xff ? `${Array.isArray(xff) ? xff.join(', ') : xff}, ${peer}` : peer;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const upstream = await pool().request({
      // Origin-form (RFC 9112 §3.2.1) whatever form the client used: the core is the only authority here.
      path: url.pathname + url.search,
      method: req.method as 'GET',
      headers,
      body: hasBody ? req : undefined,
    });
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(upstream.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
    res.writeHead(upstream.statusCode, out);
    for await (const chunk of upstream.body) res.write(chunk);
    res.end();
  }

  // A throw in an 'upgrade' listener is an uncaught exception: everything in it is guarded.
  server.on('upgrade', (req, socket: Duplex, head) => {
    try {
      onUpgrade(req, socket, head);
    } catch (err) {
      log.error({ err }, 'regional: upgrade failed');
      socket.destroy();
    }
  });

  function onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = requestUrl(req);
    if (!url) {
      refuse(socket, 400, 'bad_event');
      return;
    }
    if (url.pathname !== '/ws') {
      refuseUpgrade(socket, 404);
      return;
    }
    const upgrade = upgradeInfo(req);
    const attach = JSON.stringify({ type: 'regional.attach', upgrade });
    // A site a workspace does not allow is refused here, as the core does, when the node knows it.
    const workspaceId = url.searchParams.get('workspace');
    const facts = workspaceId ? workspaces.get(workspaceId) : undefined;
    if (facts && !visitorOriginAllowed(facts.workspace.allowedOrigins, upgrade)) {
      refuse(socket, 403, 'forbidden');
      return;
    }
    link
      .take()
      .then(
        (core) => {
          if (socket.destroyed) return core.close(1000);
          core.send(attach);
          cores.add(core);
          core.once('close', () => cores.delete(core));
          wss.handleUpgrade(req, socket, head, (client) => new Relay(client, core, attach, upgrade, workspaces, journal, inFlight));
        },
        () => refuseUpgrade(socket, 503),
      )
      .catch((err: unknown) => {
        log.error({ err }, 'regional: upgrade failed');
        socket.destroy();
      });
  }
  const port = await listen(server, opts.port, opts.host);
  log.info({ port, core: coreUrls.map((u) => u.origin), journal: journal.size }, 'regional desk node listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    journal,
    close() {
      closing ??= (async () => {
        clearInterval(replayTimer);
        const done = new Promise<void>((r) => server.close(() => r()));
        for (const c of wss.clients) c.close(1001, 'node shutting down');
        link.close();
        await new Promise((r) => setTimeout(r, 200));
        for (const c of wss.clients) c.terminate();
        for (const c of cores) c.terminate();
        server.closeAllConnections();
        await done;
        await Promise.all(pools.map((p) => p.close()));
        journal.close();
      })();
      return closing;
    },
  };
}
