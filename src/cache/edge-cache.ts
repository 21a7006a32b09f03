/**
 * The cache of one worker: its store (memory, or memory over a disk directory shared by the
 * node's workers: `cache.disk`, or by default with several workers the node's own tier,
 * node-tier.ts), the coalescer, and purge. Lives as long as the worker; a reload changes the
 * coalescing limits at once, the store's sizes at the next restart. A worker whose store has a
 * shared tier joins the node (`joinNode`): one fill per key for the node, and memory tiers kept
 * coherent (coherence.ts).
 */
import type { Logger } from 'pino';
import type { CacheConfig, RuleConfig } from '../config/cache-schema.js';
import type { UrlParts } from '../router/url-pattern.js';
import { Coalescer } from './coalesce.js';
import type { Cluster, Locks } from '../cluster/types.js';
import { joinCoherence } from './coherence.js';
import { TieredStore } from './store/tiered-store.js';
import { cacheUrl, VARIANT } from './key.js';
import { createStore } from './store/index.js';
import type { CacheStore, KeyFilter, StoredEntry, StoreWriter } from './types.js';
import { purgeHost, purgePrefixes } from './purge-target.js';

/** What the cache decided for one request, read again when the origin's answer comes back. */
export interface CacheExchange {
  /** Primary key (cache URL plus keyed header/cookie values). */
  key: string;
  /** The cache URL (`scheme://host/path?query` as the rule shapes it). */
  url: string;
  level: 'standard' | 'everything';
  /** Rule label for metrics: the rule's pattern, or `-`. */
  label: string;
  /** A stored response being revalidated (conditional request sent), or served on origin failure. */
  stale: StoredEntry | undefined;
  /** This request fills the key for others (coalescing leader); undefined: pass-through. */
  lead: { done(outcome: 'stored' | 'uncacheable' | 'failed'): void } | undefined;
  /** The Cache-Status forward reason (`miss`, `stale`, `bypass`, `uri-miss`, `vary-miss`, `request`). */
  fwd: string;
  detail: string | undefined;
  /** ms since epoch when the request was sent upstream (RFC 9111 §4.2.3 request_time). */
  requestTime: number;
  /** Conditional headers sent for revalidation (the client's own were removed). */
  revalidate: Record<string, string> | undefined;
  /** Unsafe method: entries of this URL are invalidated after a non-error answer (§4.4). */
  invalidate: boolean;
  /** The store writer while the response body streams in. */
  writer: StoreWriter | undefined;
  /** A background refresh (no client waits on it): not counted among the cache's requests. */
  background?: boolean;
}

export interface PurgeRequest {
  /** Full URLs (`https://example.com/a.css`); without a scheme both schemes are purged. */
  urls?: string[];
  /** `example.com/static/` or `https://example.com/static/` (a port is ignored: keys have none). */
  prefixes?: string[];
  hosts?: string[];
  tags?: string[];
  everything?: boolean;
  /** `delete` removes; `invalidate` marks stale so the next request revalidates (304 if unchanged). */
  mode?: 'delete' | 'invalidate';
  /**
   * Set by the supervisor for every worker but one: only this worker's memory tier is purged
   * (uncounted), since the one other worker purges the shared tier and counts it, and its
   * changes reach every memory tier (coherence.ts). Not part of the admin API's body.
   */
  memoryOnly?: boolean;
}

export class EdgeCache {
  readonly store: CacheStore;
  coalescer: Coalescer;
  /**
   * Coalescing across the node's workers (the cluster's locks): set by `joinNode`, so one request
   * in the whole node fills a key and the other workers' leaders read the stored answer from the
   * shared tier. One IPC round trip per miss, none per hit.
   */
  nodeLock: Locks | undefined;
  private config: CacheConfig;
  private leave: (() => void) | undefined;

  constructor(
    config: CacheConfig,
    private readonly log: Logger,
  ) {
    this.config = config;
    this.store = createStore({ memory: config.memory, disk: config.disk });
    this.coalescer = newCoalescer(config);
    this.checkStore();
  }

  private reported: string | undefined;

  /** Logs a store that degraded (disk full, unwritable…) once per reason, and its recovery. */
  checkStore(): void {
    const failure = this.store.failure;
    if (failure === this.reported) return;
    if (failure) this.log.error({ type: 'cache', failure }, `cache store degraded, serving without it where it fails: ${failure}`);
    else this.log.info({ type: 'cache' }, 'cache store recovered');
    this.reported = failure;
  }

  /**
   * Joins the node's workers sharing this store's shared tier: their fills coalesce on the node's
   * locks, and every change here drops the others' memory copies (and theirs drop ours). A store
   * without a shared tier has nothing to share: nothing changes.
   */
  joinNode(cluster: Pick<Cluster, 'locks' | 'events'>): void {
    if (!(this.store instanceof TieredStore) || this.leave) return;
    this.nodeLock = cluster.locks;
    this.leave = joinCoherence(this.store, cluster.events);
  }

  /**
   * Before an unsafe request leaves for the origin (RFC 9111 §4.4), when workers share the tier:
   * every worker drops its memory copy of the URL now, and a fill of it under way in this worker
   * or another is waited for (it holds the node's lock until its commit), so the delete that follows
   * a success finds what that fill stored. The drop is relayed before the lock is answered (one
   * ordered channel), so it is in every worker before the origin even sees the request: a client
   * that asks again once answered is not served the old copy from another worker's memory. On a
   * failure the disk copy stays and is used again. One lock round trip per unsafe request.
   */
  async beforeUnsafe(key: string, url: string): Promise<void> {
    if (!(this.store instanceof TieredStore) || !this.nodeLock) return;
    this.store.dropEverywhere(key === url ? [key] : [key, url]); // sent before the lock call
    await this.afterFills(key);
  }

  /**
   * Waits out a fill of `key` under way in this worker (its coalescer) and in the others (the
   * node's lock, which its holder keeps until the commit and which is re-entrant for the worker
   * holding it), then runs `then` while holding the lock, so no fill starts meanwhile.
   */
  private async afterFills(key: string, then?: () => Promise<void>): Promise<void> {
    const wait = Math.min(this.config.coalescing.waitTimeout, UNSAFE_WAIT_MS);
    await this.coalescer.settled(key, wait);
    const lock = this.nodeLock;
    const r = lock ? await lock.acquire(key, wait) : undefined;
    try {
      await then?.();
    } finally {
      if (r === 'lead') lock!.release(key, 'failed');
    }
  }

  get settings(): CacheConfig {
    return this.config;
  }

  reconfigure(config: CacheConfig): void {
    const c = this.config;
    if (JSON.stringify([c.memory, c.disk]) !== JSON.stringify([config.memory, config.disk])) {
      this.log.warn({ type: 'config' }, 'cache store sizes changed: they apply at the next restart');
    }
    if (JSON.stringify(c.coalescing) !== JSON.stringify(config.coalescing)) this.coalescer = newCoalescer(config);
    this.config = config;
  }

  /**
   * Removes (or marks stale) what `req` selects; returns how many entries. `ruleFor` gives the
   * page rule of a URL, so a URL purge finds entries whose key the rule shaped (query ignored…).
   */
  async purge(req: PurgeRequest, ruleFor: (url: UrlParts) => RuleConfig | undefined): Promise<number> {
    const mode = req.mode ?? 'delete';
    const memoryOnly = req.memoryOnly === true && this.store instanceof TieredStore;
    const store: CacheStore = memoryOnly ? (this.store as TieredStore).memory : this.store;
    let n = 0;
    const apply = async (filter: KeyFilter, accept: (url: string) => boolean = () => true): Promise<void> => {
      const metas = [];
      for await (const meta of store.list(filter)) if (accept(meta.url)) metas.push(meta);
      for (const meta of metas) {
        // Vary markers (status 0) go with their URL but are not counted: n is stored responses.
        // Another worker's memory tier only drops its copies: the shared tier says what is stored.
        if (mode === 'delete' || memoryOnly) {
          if ((await store.delete(meta.key)) && meta.status !== 0) n++;
        } else if (!meta.invalidated && meta.status !== 0) {
          if (await store.update({ ...meta, invalidated: true })) n++;
        }
      }
    };
    if (req.everything) await apply({});
    for (const raw of req.urls ?? []) {
      for (const url of purgeUrls(raw, ruleFor)) await apply({ prefix: url }, (u) => u === url);
    }
    for (const raw of req.prefixes ?? []) for (const prefix of purgePrefixes(raw)) await apply({ prefix });
    for (const host of req.hosts ?? []) await apply({ host: purgeHost(host) });
    for (const tag of req.tags ?? []) await apply({ tag: tag.toLowerCase() });
    return memoryOnly ? 0 : n;
  }

  /**
   * RFC 9111 §4.4: after an unsafe request succeeded, stored responses for these URLs are no
   * longer used. Resolves once no worker of the node can serve them: the response waits for it.
   * With a shared tier, a fill of one of them under way, in this worker or another, is waited for
   * first (it holds the node's lock until its commit, and a Location target fetched just before
   * the POST could otherwise land after the delete); fills that start meanwhile wait, then lead
   * afresh.
   */
  async invalidate(urls: readonly string[], ruleFor: (url: UrlParts) => RuleConfig | undefined): Promise<void> {
    const store = this.store;
    const keys = urls.flatMap((raw) => purgeUrls(raw, ruleFor));
    if (!(store instanceof TieredStore)) {
      for (const url of keys) store.delete(url).catch(() => {});
      return;
    }
    // The primary key holds the response or the Vary marker: deleting it unlinks every variant.
    // A shared tier's file goes before the response does (another worker could read it).
    await Promise.all(keys.map((url) => this.afterFills(url, () => store.deleteNow(url)))).catch(() => {});
  }

  /** Entries being committed (the client may already have its answer): close waits for them. */
  private readonly commits = new Set<Promise<unknown>>();

  track(commit: Promise<unknown>): void {
    this.commits.add(commit);
    void commit.finally(() => this.commits.delete(commit));
  }

  async close(): Promise<void> {
    const deadline = new Promise((r) => setTimeout(r, 5_000).unref());
    await Promise.race([Promise.allSettled([...this.commits]), deadline]);
    this.leave?.();
    await this.store.close();
  }
}

/** Calls the leader's done once. */
export function settle(x: CacheExchange, outcome: 'stored' | 'uncacheable' | 'failed'): void {
  const lead = x.lead;
  if (!lead) return;
  x.lead = undefined;
  lead.done(outcome);
}

/** How long an unsafe request waits at most for another worker's fill of its URL. */
const UNSAFE_WAIT_MS = 1_000;

function newCoalescer(config: CacheConfig): Coalescer {
  const c = config.coalescing;
  return new Coalescer({ maxWaiters: c.maxWaiters, waitTimeoutMs: c.waitTimeout, hitForMissMs: c.hitForMiss });
}

/** A purge URL as cache URLs (each scheme when none is given), shaped by the URL's page rule. */
function purgeUrls(raw: string, ruleFor: (url: UrlParts) => RuleConfig | undefined): string[] {
  const out: string[] = [];
  for (const full of withSchemes(raw)) {
    let u: URL;
    try {
      u = new URL(full);
    } catch {
      continue;
    }
    const scheme = u.protocol === 'https:' ? 'https' : 'http';
    const path = `${u.pathname}${u.search}`;
    const host = u.hostname.toLowerCase();
    const rule = ruleFor({ scheme, host, port: Number(u.port) || (scheme === 'https' ? 443 : 80), path });
    out.push(cacheUrl(scheme, host, path, rule));
  }
  return out;
}

function withSchemes(raw: string): string[] {
  const t = raw.trim();
  if (/^https?:\/\//i.test(t)) return [t.replace(/^[a-z]+:\/\/[^/]+/i, (s) => s.toLowerCase())];
  const lower = t.replace(/^[^/]+/, (s) => s.toLowerCase());
  return [`http://${lower}`, `https://${lower}`];
}

export { VARIANT };
