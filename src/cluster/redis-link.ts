/**
 * One connection to the shared Redis, as the cluster's Redis backend uses it: which Redis (a URL:
 * plain, TLS, Sentinel or Cluster, through ioredis), with deadlines on every command, no offline
 * queue, reconnects with backoff, and a circuit breaker (redis-breaker.ts) in front, so a command
 * either answers within its deadline or its caller gets a fallback at once.
 *
 * URLs (docs/cluster.md):
 *   redis://[user:password@]host:6379[/db]          one Redis
 *   rediss://…                                       the same over TLS
 *   redis+sentinel://[:password@]h1:26379,h2:26379/mymaster[/db]
 *                                                    Sentinel: ioredis asks the sentinels for
 *                                                    the master of `mymaster`, follows failovers
 *   redis+cluster://[:password@]h1:7000,h2:7001     Redis Cluster (every key the backend uses for
 *                                                    one thing carries a {hash tag}, so its
 *                                                    scripts touch one slot)
 */
import { createHash } from 'node:crypto';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { Breaker, type BreakerOptions } from './redis-breaker.js';

export type RedisClient = Redis | Cluster;

/** What a URL names: ioredis' constructor arguments. */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'sentinel'; sentinels: { host: string; port: number }[]; name: string; password?: string; db?: number }
  | { kind: 'cluster'; nodes: { host: string; port: number }[]; password?: string };

/** Parses a cluster URL; throws a RangeError saying what is wrong. */
export function parseRedisUrl(url: string): RedisTarget {
  const m = /^([a-z+]+):\/\/(?:([^@/]*)@)?([^/]*)(?:\/(.*))?$/.exec(url);
  if (!m) throw new RangeError(`cluster.redis: not a URL: ${url}`);
  const [, scheme, auth, hostList, rest] = m;
  if (scheme === 'redis' || scheme === 'rediss') return { kind: 'single', url };
  const password = auth ? decodeURIComponent(auth.slice(auth.indexOf(':') + 1)) : undefined;
  const hosts = hostList.split(',').map((h) => {
    const hm = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(h);
    if (!hm) throw new RangeError(`cluster.redis: bad host "${h}" in ${url}`);
    return { host: hm[1].replace(/^\[|\]$/g, ''), port: Number(hm[2] ?? (scheme === 'redis+sentinel' ? 26379 : 6379)) };
  });
  if (scheme === 'redis+sentinel') {
    const [name, db] = (rest ?? '').split('/');
    if (!name) throw new RangeError(`cluster.redis: a Sentinel URL names its master: redis+sentinel://host:26379/mymaster (got ${url})`);
    if (db !== undefined && !/^\d+$/.test(db)) throw new RangeError(`cluster.redis: bad db "${db}" in ${url}`);
    return { kind: 'sentinel', sentinels: hosts, name, password, db: db === undefined ? undefined : Number(db) };
  }
  if (scheme === 'redis+cluster') return { kind: 'cluster', nodes: hosts, password };
  throw new RangeError(`cluster.redis: unknown scheme ${scheme}: (redis, rediss, redis+sentinel or redis+cluster)`);
}

export interface LinkOptions {
  /** Per command deadline. Default 250 ms. */
  commandTimeoutMs?: number;
  /** Shown by `CLIENT LIST` (the PoP and the connection's role). */
  name?: string;
  breaker?: BreakerOptions;
}

/** Reconnect fast at first, then every 2 s at most, forever, with jitter so 50 PoPs do not reconnect in step. */
const retryStrategy = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2000) * (0.75 + Math.random() * 0.5);

/** An ioredis client with the backend's settings. */
export function openRedis(url: string, options: { commandTimeoutMs: number; name?: string }): RedisClient {
  const target = parseRedisUrl(url);
  const common: RedisOptions = {
    commandTimeout: options.commandTimeoutMs,
    // A command while disconnected fails at once (the caller falls back) instead of waiting.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: 1000,
    retryStrategy,
    connectionName: options.name,
    // Commands of one event-loop turn leave in one write (many hits per turn, one syscall).
    enableAutoPipelining: true,
  };
  if (target.kind === 'single') return new Redis(target.url, common);
  if (target.kind === 'sentinel') {
    const { sentinels, name, password, db } = target;
    return new Redis({ ...common, sentinels, name, password, sentinelPassword: password, db });
  }
  const clusterOptions: ClusterOptions = {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    clusterRetryStrategy: retryStrategy,
    redisOptions: { ...common, password: target.password },
  };
  return new Cluster(target.nodes, clusterOptions);
}

/** A client, its breaker, and what they say of themselves. */
export class RedisLink {
  readonly client: RedisClient;
  readonly breaker: Breaker;
  /** Commands sent (fallbacks answered without Redis not counted). */
  commands = 0;
  private connError: string | undefined;
  private readonly loaded = new Map<string, string>();
  private probe: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(url: string, options: LinkOptions = {}) {
    this.client = openRedis(url, { commandTimeoutMs: options.commandTimeoutMs ?? 250, name: options.name });
    this.breaker = new Breaker(options.breaker);
    this.client.on('ready', () => {
      this.connError = undefined;
      this.breaker.reset();
    });
    // ioredis emits every failed reconnect; without a listener Node would call it unhandled.
    this.client.on('error', (err: Error) => (this.connError = err.message));
    this.client.on('close', () => (this.connError ??= 'connection closed'));
  }

  get connected(): boolean {
    return this.client.status === 'ready' && !this.breaker.open;
  }

  get error(): string | undefined {
    return this.connected ? undefined : (this.breaker.lastError ?? this.connError ?? `status ${this.client.status}`);
  }

  /** Resolves true once connected, false after `timeoutMs`. */
  ready(timeoutMs = 5000): Promise<boolean> {
    if (this.client.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        resolve(v);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.client.on('ready', onReady);
    });
  }

  /** One command through the breaker: its reply, or `fallback(err)` (counted) when Redis fails or is skipped. */
  command<T>(args: (string | number)[], fallback: (err: unknown) => T): Promise<T> {
    return this.breaker.run(
      () => this.send(args) as Promise<T>,
      (err) => this.fellBack(err, fallback),
    );
  }

  /** A Lua script by its SHA1 (EVALSHA); EVAL (which also loads it) the first time and after a restart. */
  script<T>(source: string, keys: string[], args: (string | number)[], fallback: (err: unknown) => T): Promise<T> {
    let sha = this.loaded.get(source);
    if (!sha) this.loaded.set(source, (sha = createHash('sha1').update(source).digest('hex')));
    return this.breaker.run(
      async () => {
        try {
          return (await this.send(['EVALSHA', sha, keys.length, ...keys, ...args])) as T;
        } catch (err) {
          if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
          return (await this.send(['EVAL', source, keys.length, ...keys, ...args])) as T;
        }
      },
      (err) => this.fellBack(err, fallback),
    );
  }

  /**
   * An open breaker is closed by a call that succeeds; a PoP with no calls to make would stay
   * "disconnected" for good, so a PING goes as the probe when the open period ends.
   */
  private fellBack<T>(err: unknown, fallback: (err: unknown) => T): T {
    if (this.breaker.open && !this.probe && !this.closed) {
      this.probe = setTimeout(() => {
        this.probe = undefined;
        void this.command(['PING'], () => undefined);
      }, this.breaker.retryInMs + 10);
      this.probe.unref();
    }
    return fallback(err);
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.probe);
    this.client.disconnect();
    return Promise.resolve();
  }

  private send(args: (string | number)[]): Promise<unknown> {
    this.commands++;
    const [name, ...rest] = args;
    return this.client.call(String(name), ...rest);
  }
}
