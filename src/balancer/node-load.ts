/**
 * The node's load, by periodic sums: each worker publishes its own live counts (requests in flight
 * and WebSockets per origin, requests and retries in flight per pool) on a node event every
 * PUBLISH_MS when they changed, and every worker steers on its own live count plus the others'
 * last published (origin-status.ts for origin steering, upstream/retry.ts for the retry budget).
 * Nothing on the request path waits: it reads numbers already here.
 *
 * Staleness, stated: another worker's count is at most PUBLISH_MS plus one IPC hop old (the hop is
 * well under a millisecond on an idle node; under load it is what the supervisor's event loop
 * adds). A worker that exits stops publishing: its last counts are dropped after EXPIRE_MS. A
 * worker whose counts do not change still publishes every HEARTBEAT_MS while they are not zero,
 * so the others do not expire them; all-zero counts are published once.
 *
 * Cost: each worker publishes at most 1000 / PUBLISH_MS messages a second, fanned out to every
 * worker by the supervisor: N workers make N² × 10 deliveries a second at most (4 workers: 160),
 * each a few bytes per origin with traffic.
 */
import type { EventMessage, Events } from '../cluster/types.js';
import { RetryBudget } from '../upstream/retry.js';
import type { PeerLoad } from './origin-status.js';
import type { OriginCandidate } from './origin/types.js';

export const LOAD_TOPIC = 'node:load';
export const PUBLISH_MS = 100;
export const HEARTBEAT_MS = 500;
export const EXPIRE_MS = 1_500;

/** One worker's counts; zero entries left out. */
export interface LoadSample {
  /** Who publishes (a worker's id); its own messages are skipped. */
  by: string;
  /** [origin id, requests in flight, WebSockets] */
  origins: [string, number, number][];
  /** [pool, requests in flight, retries in flight], for the retry budget */
  pools: [string, number, number][];
}

/** This worker's counts now (pure; exported for tests). */
export function sampleLoad(by: string, origins: readonly OriginCandidate[], budgets: ReadonlyMap<string, RetryBudget>): LoadSample {
  const sample: LoadSample = { by, origins: [], pools: [] };
  const seen = new Set<string>();
  for (const o of origins) {
    // An origin listed in two snapshots' pools shares its counters (one id): count it once.
    if (seen.has(o.id) || (o.load.inflight === 0 && o.load.websockets === 0)) continue;
    seen.add(o.id);
    sample.origins.push([o.id, o.load.inflight, o.load.websockets]);
  }
  for (const [pool, b] of budgets) if (b.active !== 0 || b.retrying !== 0) sample.pools.push([pool, b.active, b.retrying]);
  return sample;
}

export interface NodeLoadOptions {
  /** This worker's id in the samples; default its pid. */
  self?: string;
  /** The origins whose counts this worker publishes (the current snapshot's). */
  origins(): readonly OriginCandidate[];
  /** The retry budgets by pool (EdgeRuntime.retryBudgets): read to publish, given the others' counts. */
  budgets: Map<string, RetryBudget>;
  now?: () => number;
}

export class NodeLoad implements PeerLoad {
  private readonly self: string;
  private readonly now: () => number;
  private readonly peers = new Map<string, { at: number; sample: LoadSample }>();
  private sums = new Map<string, { inflight: number; websockets: number }>();
  private last = '';
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly events: Events,
    private readonly opts: NodeLoadOptions,
  ) {
    this.self = opts.self ?? String(process.pid);
    this.now = opts.now ?? Date.now;
    this.unsubscribe = events.subscribe<LoadSample>(LOAD_TOPIC, (m) => this.receive(m));
  }

  /** Publishes every PUBLISH_MS until `stop`. */
  start(intervalMs = PUBLISH_MS): this {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe();
  }

  /** One period: publish this worker's counts if they changed (or as a heartbeat), drop the silent. */
  tick(now = this.now()): void {
    const sample = sampleLoad(this.self, this.opts.origins(), this.opts.budgets);
    const text = JSON.stringify(sample);
    const busy = sample.origins.length > 0 || sample.pools.length > 0;
    if (text !== this.last || (busy && now - this.lastAt >= HEARTBEAT_MS)) {
      this.events.publish(LOAD_TOPIC, sample);
      this.last = text;
      this.lastAt = now;
    }
    let expired = false;
    for (const [by, p] of this.peers) {
      if (now - p.at < EXPIRE_MS) continue;
      this.peers.delete(by);
      expired = true;
    }
    if (expired) this.sum();
  }

  inflight(originId: string): number {
    return this.sums.get(originId)?.inflight ?? 0;
  }

  websockets(originId: string): number {
    return this.sums.get(originId)?.websockets ?? 0;
  }

  private receive(m: EventMessage<LoadSample>): void {
    const s = m.data;
    if (!s || typeof s.by !== 'string' || s.by === this.self || !Array.isArray(s.origins) || !Array.isArray(s.pools)) return;
    this.peers.set(s.by, { at: this.now(), sample: s });
    this.sum();
  }

  /** The others' counts, summed: origins for steering, pools into the retry budgets. */
  private sum(): void {
    const origins = new Map<string, { inflight: number; websockets: number }>();
    const pools = new Map<string, [number, number]>();
    for (const { sample } of this.peers.values()) {
      for (const [id, inflight, websockets] of sample.origins) {
        const acc = origins.get(id);
        if (acc) {
          acc.inflight += inflight;
          acc.websockets += websockets;
        } else origins.set(id, { inflight, websockets });
      }
      for (const [pool, active, retrying] of sample.pools) {
        const acc = pools.get(pool) ?? [0, 0];
        pools.set(pool, [acc[0] + active, acc[1] + retrying]);
      }
    }
    this.sums = origins;
    const budgets = this.opts.budgets;
    for (const [pool, b] of budgets) if (!pools.has(pool)) b.peerActive = b.peerRetrying = 0;
    for (const [pool, [active, retrying]] of pools) {
      let b = budgets.get(pool);
      if (!b) budgets.set(pool, (b = new RetryBudget()));
      b.peerActive = active;
      b.peerRetrying = retrying;
    }
  }
}
