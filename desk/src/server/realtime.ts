/**
 * The WebSocket side of a Desk node: accepting sockets on `/ws`, one handler per client event
 * (desk/PROTOCOL.md), liveness and limits. Frames of one socket are handled one at a time, in the
 * order they came, so a client's sends are stored in the order it sent them.
 *
 * Close codes: 4401 no or failed hello, 4403 hello refused (origin), 1001 node shutting down or
 * missed heartbeats, 1009 frame over 64 KiB (ws), 1011 internal error during hello,
 * 1013 too slow to read what it is sent.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { actorOf, handleEvent, stopTyping } from './events.js';
import { parseClientEvent } from './client-events.js';
import { DeskConnection, type UpgradeInfo } from './connection.js';
import type { DeskContext } from './desk-context.js';
import { DeskError, publicError } from './errors.js';
import { refuseUpgrade, requestUrl } from './http-io.js';
import { operatorHello, visitorHello } from './hello.js';
import { upgradeInfo, visitorOriginAllowed } from './origins.js';
import { fromRegionalNode } from './sessions.js';
import { messageView, operatorConversation, visibleMessagesAfter, visitorConversation } from './views.js';

/** ws refuses (1009) any frame larger than this; a 5,000-character message is far below it. */
export const MAX_FRAME = 64 * 1024;
/** Frames waiting for their turn on one socket; more is a flood whatever the bucket says. */
const MAX_PENDING = 50;
/**
 * The heartbeat interval is cut into this many ticks and each socket is pinged on its own tick,
 * so 5,000 sockets are pinged ~330 at a time every second instead of all at once every 15 s
 * (a burst that showed at the p99 of every message sent at that moment).
 */
const HEARTBEAT_TICKS = 15;

export class Realtime {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME, clientTracking: false });
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;
  private tick = 0;
  private readonly slots = new WeakMap<DeskConnection, number>();
  /** Regional sockets not attached yet (spares), closed with the node. */
  private readonly spares = new Set<WebSocket>();

  /**
   * `regionalSecret`: regional nodes (desk/src/regional) that present it in `x-desk-regional` open
   * sockets here on behalf of their clients; the first frame of such a socket is
   * `regional.attach {upgrade}` with what the client's own upgrade said (its Origin, country, user
   * agent), and from then on it is that client's socket.
   */
  constructor(
    private readonly desk: DeskContext,
    private readonly regionalSecret?: string,
  ) {
    const t = desk.timings;
    this.timers.push(setInterval(() => this.heartbeat(), t.heartbeatMs / HEARTBEAT_TICKS));
    this.timers.push(
      setInterval(
        () => {
          for (const ws of desk.presence.localWorkspaces()) desk.publishPresence(ws);
          for (const ws of desk.presence.sweep(Date.now())) desk.refreshPresence(ws);
        },
        Math.min(t.presenceRepublishMs, t.presenceTtlMs / 3),
      ),
    );
    for (const timer of this.timers) timer.unref();
  }

  /** The HTTP server's `upgrade` for `/ws`: a visitor socket naming its workspace (`?workspace=`) from a site not allowed is refused with 403 here. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    if (this.closing) return refuse(socket, 503, 'shutting_down');
    if (req.headers['x-desk-regional'] !== undefined) {
      if (!fromRegionalNode(req, this.regionalSecret)) return refuse(socket, 403, 'forbidden');
      this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws));
      return;
    }
    const url = requestUrl(req);
    if (!url) return refuse(socket, 400, 'bad_event');
    const info = upgradeInfo(req);
    const workspaceId = url.searchParams.get('workspace');
    if (workspaceId) {
      const workspace = await this.desk.workspace(workspaceId).catch(() => undefined);
      if (workspace && !visitorOriginAllowed(workspace.allowedOrigins, info)) return refuse(socket, 403, 'forbidden');
    }
    if (socket.destroyed) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, info));
  }

  /** A regional node's socket: idle (a spare) until its `regional.attach` names the client's upgrade. */
  private attach(ws: WebSocket): void {
    ws.on('error', () => {});
    this.spares.add(ws);
    ws.once('close', () => this.spares.delete(ws));
    ws.once('message', (data: RawData) => {
      this.spares.delete(ws);
      const info = attachInfo(rawText(data));
      if (!info) return ws.close(4400, 'regional.attach first');
      this.accept(ws, { ...info, regional: true });
    });
  }

  private accept(ws: WebSocket, info: UpgradeInfo): void {
    const { desk } = this;
    const conn = new DeskConnection(ws, info, desk.timings.rate);
    this.slots.set(conn, Math.floor(Math.random() * HEARTBEAT_TICKS));
    desk.hub.add(conn);
    const helloTimer = setTimeout(() => {
      if (conn.identity.kind === 'none') conn.fail({ type: 'error', code: 'unauthorized', message: 'no hello' }, 4401, 'no hello');
    }, desk.timings.helloTimeoutMs);
    helloTimer.unref();
    let lastRateError = 0;

    ws.on('message', (data: RawData, isBinary: boolean) => {
      conn.missedPings = 0;
      const now = Date.now();
      if (!conn.bucket.take(now) || conn.pending >= MAX_PENDING) {
        // One error a second is enough to tell a flooding client.
        if (now - lastRateError >= 1000) {
          lastRateError = now;
          conn.send({ type: 'error', code: 'rate_limited', message: 'too many events; slow down' });
        }
        return;
      }
      conn.pending++;
      const text = isBinary ? undefined : rawText(data);
      conn.queue = conn.queue
        .then(() => this.frame(conn, text))
        .catch((err: unknown) => desk.log.error({ err }, 'desk: event handler failed'))
        .finally(() => conn.pending--);
    });
    ws.on('pong', () => (conn.missedPings = 0));
    ws.on('error', (err) => desk.log.debug({ err: err.message }, 'desk: socket error'));
    ws.on('close', () => {
      clearTimeout(helloTimer);
      this.closed(conn);
    });
  }

  private async frame(conn: DeskConnection, text: string | undefined): Promise<void> {
    const { desk } = this;
    if (conn.ws.readyState !== conn.ws.OPEN) return;
    const hello = conn.identity.kind === 'none';
    try {
      if (text === undefined) throw new DeskError('bad_event', 'events are JSON text frames');
      const event = parseClientEvent(text);
      if (hello) {
        if (event.type === 'visitor.hello') await visitorHello(desk, conn, event);
        else if (event.type === 'operator.hello') await operatorHello(desk, conn, event);
        else throw new DeskError('unauthorized', 'say hello first');
        return;
      }
      await handleEvent(desk, conn, actorOf(conn), event);
    } catch (err) {
      const error = { type: 'error', ...publicError(err) };
      if (!(err instanceof DeskError)) desk.log.error({ err }, 'desk: event failed');
      if (hello) {
        const code = err instanceof DeskError ? (err.code === 'forbidden' ? 4403 : 4401) : 1011;
        conn.fail(error, code, code === 1011 ? 'internal error' : String(error.code));
      } else if (error.code === 'unauthorized') conn.fail(error, 4401, 'unauthorized');
      else conn.send(error);
    }
  }

  private closed(conn: DeskConnection): void {
    const { desk } = this;
    for (const conversation of [...conn.typing.keys()]) stopTyping(desk, conn, conversation);
    conn.clearTyping();
    desk.hub.remove(conn);
    const id = conn.identity;
    if (id.kind === 'operator') {
      desk.presence.disconnect(id.workspaceId, id.operator.id);
      desk.publishPresence(id.workspaceId);
      desk.refreshPresence(id.workspaceId);
    }
  }

  /** Pings the sockets whose tick this is; one that missed two pings in a row is closed (PROTOCOL.md, Liveness). */
  private heartbeat(): void {
    const tick = this.tick++ % HEARTBEAT_TICKS;
    for (const conn of this.desk.hub.all) {
      if (this.slots.get(conn) !== tick) continue;
      if (conn.missedPings >= 2) {
        conn.ws.close(1001, 'heartbeat missed');
        setTimeout(() => conn.ws.terminate(), 1000).unref();
        continue;
      }
      conn.missedPings++;
      conn.ws.ping();
    }
  }

  /** Sockets of a logged-out session are closed (4401) on this node. */
  endSession(token: string): void {
    for (const conn of this.desk.hub.all) {
      if (conn.identity.kind === 'operator' && conn.identity.token === token) {
        conn.fail({ type: 'error', code: 'unauthorized', message: 'signed out' }, 4401, 'signed out');
      }
    }
  }

  /**
   * After the fan-out was down (Redis), events of other nodes may have been missed: each visitor
   * gets the messages after the last seq it was sent and its conversation's state; each operator
   * the summaries of conversations active since `since`, and the messages it missed in those it
   * was following. The database is the source of truth, so this is exact for visitors.
   */
  async catchUp(since: number): Promise<void> {
    const { desk } = this;
    const lists = new Map<string, Promise<import('./views.js').OperatorConversationView[]>>();
    for (const conn of [...desk.hub.all]) {
      const id = conn.identity;
      try {
        if (id.kind === 'visitor') {
          const conv = await desk.store.getConversation(id.conversationId);
          if (!conv) continue;
          const seen = conn.seen.get(conv.id) ?? 0;
          if (conv.lastSeq > seen) {
            for (const m of await visibleMessagesAfter(desk.store, conv.id, seen, true)) {
              conn.send({ type: 'message.new', message: messageView(m) }, { conversation: conv.id, seq: m.seq });
            }
          }
          conn.send({ type: 'conversation.update', conversation: visitorConversation(conv) });
        } else if (id.kind === 'operator') {
          let list = lists.get(id.workspaceId);
          if (!list) lists.set(id.workspaceId, (list = this.activeSince(id.workspaceId, since)));
          for (const view of await list) {
            conn.send({ type: 'conversation.update', conversation: view });
            const seen = conn.seen.get(view.id);
            if (seen !== undefined && view.lastSeq > seen) {
              for (const m of await visibleMessagesAfter(desk.store, view.id, seen, false)) {
                conn.send({ type: 'message.new', message: messageView(m) }, { conversation: view.id, seq: m.seq });
              }
            }
          }
        }
      } catch (err) {
        desk.log.warn({ err }, 'desk: catch-up failed for a socket');
      }
    }
  }

  private async activeSince(workspaceId: string, since: number): Promise<import('./views.js').OperatorConversationView[]> {
    const rows = await this.desk.store.listConversations(workspaceId, { filter: 'all', limit: 200 });
    const active = rows.filter((c) => c.lastActivityAt >= since - 1000);
    return Promise.all(active.map((c) => operatorConversation(this.desk.store, c)));
  }

  /** Closes every socket with 1001 (clients reconnect, to another node) and waits up to `graceMs` for them. */
  async close(graceMs = 1000): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const ws of this.spares) ws.close(1001, 'node shutting down');
    const conns = [...this.desk.hub.all];
    const closed = conns.map((c) => new Promise<void>((r) => (c.ws.readyState === c.ws.CLOSED ? r() : c.ws.once('close', () => r()))));
    for (const c of conns) c.ws.close(1001, 'node shutting down');
    const timeout = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.all(closed), timeout]);
    for (const c of conns) c.ws.terminate();
    for (const ws of this.spares) ws.terminate();
    this.wss.close();
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** The client's upgrade as a regional node relays it (`{"type":"regional.attach","upgrade":{…}}`), or undefined. */
function attachInfo(text: string): UpgradeInfo | undefined {
  try {
    const ev = JSON.parse(text) as { type?: unknown; upgrade?: Record<string, unknown> };
    const u = ev.upgrade;
    if (ev.type !== 'regional.attach' || !u || typeof u !== 'object') return undefined;
    const str = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : undefined);
    return { origin: str(u.origin, 300), sameOrigin: u.sameOrigin === true, country: str(u.country, 8), userAgent: str(u.userAgent, 300) };
  } catch {
    return undefined;
  }
}

/** Answers an upgrade with `status` (400, 403 or 503) and a JSON error, and destroys the socket. */
export function refuse(socket: Duplex, status: 400 | 403 | 503, code: string): void {
  const message = code === 'forbidden' ? 'this site may not use the workspace' : code === 'bad_event' ? 'bad request target' : code;
  refuseUpgrade(socket, status, { error: { code, message } });
}
