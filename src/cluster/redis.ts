/**
 * The Redis backend: the state several PoPs share (docs/cluster.md). Built from a URL (redis://,
 * rediss://, redis+sentinel://, redis+cluster://: redis-link.ts), the PoP's id (`member`) and a
 * key prefix (`outpost:`).
 *
 *   nonces     SET <prefix>nonce:<id> 1 NX PX <ms until it expires>: one round trip, atomic
 *   events     one stream, <prefix>events (redis-events.ts)
 *   documents  a hash per name, <prefix>doc:<name> {version, value, at}; a put is one script
 *              (HINCRBY version, then HSET), so two PoPs putting at once get two versions
 *   locks      the PoP's own (MemoryLocks): a PoP's cache is its own, so is its fill
 *
 * Redis is never on a request's critical section: every command has a 250 ms deadline, no
 * offline queue, and a circuit breaker (redis-breaker.ts) that answers fallbacks at once after 3
 * failures in a row. Fallbacks: a nonce claim is allowed (the caller's own guard refused the
 * replays it saw itself); a document read answers the last version this PoP read or wrote
 * (rejects when it never had one); a put rejects (no version can be made up). Each is counted in
 * `health().fallbacks`.
 */
import type { BreakerOptions } from './redis-breaker.js';
import { RedisCounters, type RedisCountersOptions } from './redis-counters.js';
import { RedisEvents, type RedisEventsOptions } from './redis-events.js';
import { RedisLink } from './redis-link.js';
import { MemoryLocks } from './memory.js';
import type { Cluster, ClusterHealth, Documents, Nonces, VersionedDocument } from './types.js';

export interface RedisClusterOptions {
  url: string;
  /** The PoP's id: the events' `from`, the connections' names. */
  member: string;
  /** Every key starts with it. Default `outpost:`. In Redis Cluster the events' stream is one key, on one node. */
  prefix?: string;
  /** Per command deadline. Default 250 ms. */
  commandTimeoutMs?: number;
  breaker?: BreakerOptions;
  events?: Omit<RedisEventsOptions, 'prefix'>;
}

/** KEYS[1] the document's hash; ARGV value (JSON), at. Returns the new version. */
const PUT = `
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'at', ARGV[2])
return v`;

export class RedisCluster implements Cluster {
  readonly link: RedisLink;
  readonly nonces: Nonces;
  readonly locks: MemoryLocks;
  readonly events: RedisEvents;
  readonly documents: Documents;
  readonly prefix: string;
  /** The last version of each document this PoP read or wrote: what `get` answers while Redis is away. */
  private readonly lastGood = new Map<string, VersionedDocument>();

  constructor(options: RedisClusterOptions) {
    const prefix = (this.prefix = options.prefix ?? 'outpost:');
    const link = (this.link = new RedisLink(options.url, {
      commandTimeoutMs: options.commandTimeoutMs,
      name: `outpost-${options.member}`,
      breaker: options.breaker,
    }));
    this.locks = new MemoryLocks(options.member);
    this.events = new RedisEvents(link, options.url, options.member, { ...options.events, prefix });
    this.nonces = {
      claim: (id, expiresAt) => {
        const ttl = Math.max(1, Math.ceil(expiresAt - Date.now()));
        return link.command(['SET', `${prefix}nonce:${id}`, '1', 'NX', 'PX', ttl], () => 'OK').then((r) => r === 'OK');
      },
    };
    this.documents = {
      get: async <T>(name: string) => {
        const fields = await link.command<string[] | undefined>(['HGETALL', `${prefix}doc:${name}`], () => undefined);
        if (fields === undefined) {
          const last = this.lastGood.get(name);
          if (last) return last as VersionedDocument<T>;
          throw new Error(`documents.get ${name}: Redis unavailable (${link.error}) and no earlier version known`);
        }
        if (fields.length === 0) return undefined;
        const doc = parseDocument<T>(fields);
        this.lastGood.set(name, doc);
        return doc;
      },
      put: async <T>(name: string, value: T) => {
        const at = Date.now();
        let failure: unknown;
        const version = await link.script<number | undefined>(PUT, [`${prefix}doc:${name}`], [JSON.stringify(value) ?? 'null', at], (err) => {
          failure = err;
          return undefined;
        });
        if (version === undefined) throw new Error(`documents.put ${name}: Redis unavailable: ${(failure as Error)?.message ?? failure}`);
        const doc = { version: Number(version), value, at };
        this.lastGood.set(name, doc);
        return doc;
      },
    };
  }

  /** Resolves true once both connections are up and the event reader has its place, false after `timeoutMs`. */
  async ready(timeoutMs = 5000): Promise<boolean> {
    const timeout = new Promise<false>((r) => setTimeout(() => r(false), timeoutMs).unref());
    return Promise.race([Promise.all([this.link.ready(timeoutMs), this.events.started]).then(([up]) => up), timeout]);
  }

  health(): ClusterHealth {
    const connected = this.link.connected && this.events.readerConnected;
    return {
      backend: 'redis',
      connected,
      error: connected ? undefined : (this.link.error ?? 'event reader disconnected'),
      fallbacks: this.link.breaker.fallbacks,
    };
  }

  /** Global rate-limit counting (`scope: global`) on this PoP's connection and prefix. */
  counters(options: Omit<RedisCountersOptions, 'link' | 'prefix'>): RedisCounters {
    return new RedisCounters({ ...options, link: this.link, prefix: this.prefix });
  }

  /** Counters for /status and metrics beyond health(). */
  stats() {
    const e = this.events;
    return { commands: this.link.commands, queued: e.queued, dropped: e.dropped, gaps: e.gaps, readErrors: e.readErrors, position: e.position };
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.link.close();
  }
}

function parseDocument<T>(fields: string[]): VersionedDocument<T> {
  const h: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) h[fields[i]] = fields[i + 1];
  return { version: Number(h.version), value: JSON.parse(h.value ?? 'null') as T, at: Number(h.at) };
}
