/**
 * A Desk node: one node:http server with the REST API (/api), the realtime socket (/ws), the
 * health check (/healthz) and the static files of desk/public, plus the fan-out to the other
 * nodes through Redis when `redisUrl` is given, or through the database file the nodes share
 * (`sharedSqlite`, nodes on one machine without Redis: fanout-sqlite.ts).
 *
 * Requests go: /healthz → /regional/workspaces/* → /email/confirm → /api/* → static files → 404.
 * Upgrades: /ws only.
 *
 * /healthz answers `{ok, db, redis, fanout, node}`: `db` is whether the database answers, `redis`
 * whether the Redis fan-out is connected (null without Redis), `fanout` which fan-out the node
 * uses (`redis`, `database` or null when alone). The status is 503 only when
 * the database is down: without Redis a node still serves its own sockets (clients on other nodes
 * miss its events live and catch up when Redis is back), so the load balancer should keep it.
 */
import http from 'node:http';
import pino, { type Logger } from 'pino';
import { startEmail, type EmailOptions } from '../email/email-node.js';
import type { DeskStore } from '../store/types.js';
import { handleApi } from './api.js';
import { DeskContext, defaultTimings, publicPresence, type DeskTimings } from './desk-context.js';
import { redisFanout, type FanoutMessage } from './fanout.js';
import { sqliteFanout } from './fanout-sqlite.js';
import { badTarget, decodeSegment, listen, refuseUpgrade, requestUrl, sendError, sendJson } from './http-io.js';
import { defaultLoginLimits, LoginThrottle, type LoginLimits } from './login-throttle.js';
import { available } from './presence.js';
import { Realtime, refuse } from './realtime.js';
import { fromRegionalNode } from './sessions.js';
import { serveStatic } from './static-files.js';
import { wakeSnoozed } from './actions.js';
import { type AttachmentOptions, Attachments } from './attachments.js';
import { attachmentPolicy } from '../attachments/kinds.js';
import { handleEmailConfirm } from './transcripts.js';
import { webhookSender } from './webhooks.js';

export interface DeskNodeOptions {
  port: number;
  host?: string;
  store: DeskStore;
  /** `redis://host:port`: fan-out to the other nodes. */
  redisUrl?: string;
  /** Without Redis: the SQLite file the nodes share, through which they tell each other events. */
  sharedSqlite?: string;
  /** This node's name (`fra-1`), in /healthz and on every fan-out message. */
  nodeId: string;
  /** desk/public: widget, inbox, demo page. */
  publicDir?: string;
  /** URLs that get every message.new and conversation.update, signed. */
  webhooks?: string[];
  log?: Logger;
  /** Heartbeat, typing, rate and presence timings (tests shorten them). */
  timings?: Partial<DeskTimings>;
  /** Email replies, operator notifications, transcripts and the inbound listener (desk/EMAIL.md). */
  email?: EmailOptions;
  /** Regional nodes presenting this secret may open sockets for their clients (desk/REGIONAL.md). */
  regionalSecret?: string;
  /** Sign-in throttling (login-throttle.ts; tests slow the refill down). */
  loginLimits?: Partial<LoginLimits>;
  /** Where uploaded files go and how large they may be (server/attachments.ts); none: no attachments. */
  attachments?: AttachmentOptions;
}

export interface DeskNode {
  port: number;
  /** The inbound SMTP listener's port, when `email.inbound` is set. */
  smtpPort?: number;
  /** Closes sockets with 1001 (clients reconnect elsewhere), the fan-out and the server; not the store. */
  close(): Promise<void>;
}

export async function startDeskNode(opts: DeskNodeOptions): Promise<DeskNode> {
  const log = (opts.log ?? pino({ level: 'info' })).child({ desk: opts.nodeId });
  const timings: DeskTimings = { ...defaultTimings, ...opts.timings };
  const webhooks = webhookSender(opts.webhooks ?? [], log);
  const desk = new DeskContext(opts.store, opts.nodeId, log, timings, webhooks);
  if (opts.loginLimits) desk.loginThrottle = new LoginThrottle({ ...defaultLoginLimits, ...opts.loginLimits });
  const realtime = new Realtime(desk, opts.regionalSecret);
  const attachments = opts.attachments && new Attachments(desk, opts.attachments);
  desk.attachments = attachments ? attachmentPolicy(attachments.maxBytes) : null;

  let downSince: number | undefined = Date.now();
  const fanoutHooks = {
    nodeId: opts.nodeId,
    log,
    onMessage: (msg: FanoutMessage) => desk.receive(msg),
    onHealth: (up: boolean) => {
      if (!up) {
        downSince ??= Date.now();
        return;
      }
      const since = downSince ?? Date.now();
      downSince = undefined;
      for (const ws of desk.presence.localWorkspaces()) desk.publishPresence(ws);
      void realtime.catchUp(since).catch((err: unknown) => log.warn({ err }, 'desk: catch-up failed'));
    },
  };
  const fanout = opts.redisUrl ? redisFanout({ url: opts.redisUrl, ...fanoutHooks }) : opts.sharedSqlite ? sqliteFanout({ path: opts.sharedSqlite, ...fanoutHooks }) : undefined;
  const fanoutKind = opts.redisUrl ? 'redis' : opts.sharedSqlite ? 'database' : null;
  if (fanout) desk.useFanout(fanout);

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'desk: request failed');
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'internal error' } });
      else res.destroy();
    });
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  // Behind an edge, idle connections are the edge's warm path here: keep them longer than its
  // pool does (Node's 5 s default made a far PoP pay a new TCP handshake after every lull), and
  // longer than it, so the edge, not Desk, closes them (no race with a request on its way).
  server.keepAliveTimeout = 65_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = requestUrl(req);
    if (!url) return badTarget(res);
    if (url.pathname === '/healthz') {
      const db = await opts.store.ping().catch(() => false);
      const redis = fanout && fanoutKind === 'redis' ? fanout.healthy() : null;
      sendJson(res, db ? 200 : 503, { ok: db, db, redis, fanout: fanoutKind, node: opts.nodeId });
      return;
    }
    if (url.pathname.startsWith('/regional/workspaces/')) {
      let id: string;
      try {
        id = decodeSegment(url.pathname.slice(21));
      } catch (err) {
        return sendError(res, err);
      }
      return regionalWorkspace(req, res, id);
    }
    if (await handleEmailConfirm(desk, req, res, url)) return;
    if (attachments && (await attachments.handle(req, res, url))) return;
    if (await handleApi(desk, { onLogout: (token) => realtime.endSession(token) }, req, res, url)) return;
    if (opts.publicDir && (await serveStatic(opts.publicDir, req, res, url.pathname))) return;
    sendJson(res, 404, { error: { code: 'not_found', message: 'not found' } });
  }

  /**
   * What a regional node needs to welcome a new visitor itself (desk/REGIONAL.md): the workspace's
   * name and allowed origins, who is at the desk, whether it sends email and what may be
   * attached. Only for the regional secret.
   */
  async function regionalWorkspace(req: http.IncomingMessage, res: http.ServerResponse, id: string): Promise<void> {
    if (!fromRegionalNode(req, opts.regionalSecret)) {
      return sendJson(res, 403, { error: { code: 'forbidden', message: 'regional nodes only' } });
    }
    const workspace = await desk.workspace(id);
    if (!workspace) return sendJson(res, 404, { error: { code: 'not_found', message: 'no such workspace' } });
    const operators = desk.presenceList(id);
    sendJson(res, 200, {
      workspace: { id: workspace.id, name: workspace.name, allowedOrigins: workspace.allowedOrigins },
      availability: { available: available(operators), operators: publicPresence(operators) },
      // What the regional node's own welcome says of email and attachments, as the core's would.
      email: desk.mailer !== undefined,
      attachments: desk.attachments,
    });
  }

  // A throw in an 'upgrade' listener is an uncaught exception: everything in it is guarded.
  server.on('upgrade', (req, socket, head) => {
    try {
      const url = requestUrl(req);
      if (!url) return refuse(socket, 400, 'bad_event');
      if (url.pathname !== '/ws') return refuseUpgrade(socket, 404);
      realtime.upgrade(req, socket, head).catch((err: unknown) => {
        log.error({ err }, 'desk: upgrade failed');
        socket.destroy();
      });
    } catch (err) {
      log.error({ err }, 'desk: upgrade failed');
      socket.destroy();
    }
  });
  const port = await listen(server, opts.port, opts.host);
  // Confirmation links point here unless the deployment says where the public reaches Desk.
  const email = opts.email ? await startEmail(desk, { ...opts.email, publicUrl: opts.email.publicUrl ?? `http://${opts.host ?? '127.0.0.1'}:${port}` }) : undefined;
  log.info({ port, fanout: fanoutKind, smtpPort: email?.smtpPort }, 'desk node listening');

  // Snoozes that are due end on whichever node sees them first (the store gives each to one).
  const waking = setInterval(() => {
    wakeSnoozed(desk).catch((err: unknown) => log.warn({ err }, 'desk: waking snoozed conversations failed'));
  }, timings.snoozeSweepMs);
  waking.unref();

  let closing: Promise<void> | undefined;
  return {
    port,
    smtpPort: email?.smtpPort,
    close() {
      closing ??= (async () => {
        clearInterval(waking);
        const done = new Promise<void>((r) => server.close(() => r()));
        await email?.close();
        await realtime.close();
        await fanout?.close();
        server.closeAllConnections();
        await done;
        log.info('desk node closed');
      })();
      return closing;
    },
  };
}
