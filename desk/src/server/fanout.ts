/**
 * Cross-node fan-out over Redis pub/sub (PROTOCOL.md, Across nodes). Every event a node emits is
 * published on `desk:w:<workspace>` as `{origin, workspace, to, event}` (the audience travels
 * with it, so the receiving node picks its sockets the same way); presence goes on the same
 * channel as `{origin, workspace, presence: {operators, ttlMs}}`. A node ignores its own messages.
 *
 * Redis is not the source of truth (the database is), so the fan-out is best effort: while Redis
 * is down, publishing fails fast (no offline queue: stale events must not burst out on
 * reconnect), the node keeps serving its own sockets, and ioredis reconnects. `onHealth` reports
 * each change so the node can catch its clients up from the database when Redis is back.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Audience, ServerEvent } from './hub.js';
import type { PresenceEntry } from './presence.js';

export const CHANNEL_PREFIX = 'desk:w:';

export type FanoutMessage = { origin: string; workspace: string; to: Audience; event: ServerEvent } | { origin: string; workspace: string; presence: { operators: PresenceEntry[]; ttlMs: number } };

/** What a message carries, without the origin (the fan-out adds it). */
export type FanoutPayload = { to: Audience; event: ServerEvent } | { presence: { operators: PresenceEntry[]; ttlMs: number } };

export interface Fanout {
  /** False when the node runs alone (no Redis URL). */
  readonly configured: boolean;
  /** Both connections up and subscribed. */
  healthy(): boolean;
  publish(workspace: string, payload: FanoutPayload): void;
  close(): Promise<void>;
}

export interface FanoutOptions {
  url: string;
  nodeId: string;
  log: Logger;
  onMessage(msg: FanoutMessage): void;
  onHealth(up: boolean): void;
}

/** A node alone: nothing to publish to, nothing to hear. */
export const noFanout: Fanout = {
  configured: false,
  healthy: () => false,
  publish: () => {},
  close: async () => {},
};

/** Reconnect quickly at first, then every 2 s, forever (a Redis restart must not need a node restart). */
const retryStrategy = (times: number): number => Math.min(100 * times, 2000);

export function redisFanout(opts: FanoutOptions): Fanout {
  const { nodeId, log } = opts;
  const common = { retryStrategy, connectTimeout: 5000, lazyConnect: false } as const;
  const pub = new Redis(opts.url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: `desk-pub-${nodeId}` });
  const sub = new Redis(opts.url, { ...common, autoResubscribe: false, maxRetriesPerRequest: null, connectionName: `desk-sub-${nodeId}` });
  let subscribed = false;
  let up = false;
  let closing = false;
  let lastErrorLog = 0;

  const check = (): void => {
    const now = pub.status === 'ready' && sub.status === 'ready' && subscribed;
    if (now === up || closing) return;
    up = now;
    if (up) log.info({ redis: true }, 'desk fan-out connected');
    else log.warn({ redis: false }, 'desk fan-out down; serving local sockets only');
    opts.onHealth(up);
  };
  const onError = (err: Error): void => {
    // ioredis reports every failed reconnect; one line every 10 s is enough.
    if (Date.now() - lastErrorLog > 10_000) {
      lastErrorLog = Date.now();
      log.warn({ err: err.message }, 'desk fan-out: redis error');
    }
  };
  for (const c of [pub, sub]) {
    c.on('error', onError);
    c.on('ready', check);
    c.on('close', () => {
      if (c === sub) subscribed = false;
      check();
    });
    c.on('end', check);
  }
  // Subscribing on every `ready` (instead of ioredis' autoResubscribe) also covers a Redis that
  // was down when the node started.
  sub.on('ready', () => {
    sub.psubscribe(`${CHANNEL_PREFIX}*`).then(
      () => {
        subscribed = true;
        check();
      },
      (err: Error) => onError(err),
    );
  });
  sub.on('pmessage', (_pattern: string, channel: string, text: string) => {
    const msg = parseMessage(channel, text);
    if (!msg) {
      log.debug({ channel }, 'desk fan-out: malformed message ignored');
      return;
    }
    if (msg.origin === nodeId) return;
    try {
      opts.onMessage(msg);
    } catch (err) {
      log.error({ err }, 'desk fan-out: delivery failed');
    }
  });

  return {
    configured: true,
    healthy: () => up,
    publish(workspace, payload) {
      if (pub.status !== 'ready') return;
      const text = JSON.stringify({ origin: nodeId, workspace, ...payload });
      pub.publish(CHANNEL_PREFIX + workspace, text).catch(onError);
    },
    async close() {
      closing = true;
      // quit() waits for pending replies; disconnect() if Redis is not there to answer.
      await Promise.all([pub, sub].map((c) => (c.status === 'ready' ? c.quit().catch(() => c.disconnect()) : c.disconnect())));
    },
  };
}

/** A message from the channel, or undefined when it is not one of ours. */
export function parseMessage(channel: string, text: string): FanoutMessage | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (typeof m.origin !== 'string' || typeof m.workspace !== 'string' || channel !== CHANNEL_PREFIX + m.workspace) return undefined;
  if (m.presence && typeof m.presence === 'object') {
    const p = m.presence as Record<string, unknown>;
    if (!Array.isArray(p.operators) || typeof p.ttlMs !== 'number') return undefined;
    return raw as FanoutMessage;
  }
  const to = m.to as Record<string, unknown> | undefined;
  const event = m.event as Record<string, unknown> | undefined;
  if (!to || typeof to.kind !== 'string' || !event || typeof event.type !== 'string') return undefined;
  return raw as FanoutMessage;
}
