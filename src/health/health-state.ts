/**
 * Health per (pool, origin, monitor) — never per address: two pools (or two monitors) pointing
 * at one server keep separate verdicts, so a strict check in one cannot flap the other (the
 * Caddy confusion, peers.md §3).
 *
 * A key starts `unknown` and stays so until the thresholds reach a first verdict: consecutiveUp
 * successes make it `healthy`, consecutiveDown failures make it `unhealthy`, from `unknown` as
 * from the other state. Whether `unknown` may take traffic is the reader's choice (the checker's
 * `unknownIsHealthy`, on by default: a new or reloaded PoP serves while its first checks run).
 *
 * The transition is a pure function; HealthState applies it to a store and tells listeners.
 */
import type { ProbeResult } from './types.js';

export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

export interface HealthKey {
  readonly pool: string;
  readonly origin: string;
  readonly monitor: string;
}

export interface OriginHealth extends HealthKey {
  readonly status: HealthStatus;
  /** Current run of passed checks (a failure resets it). */
  readonly successStreak: number;
  /** Current run of failed checks (a success resets it). */
  readonly failureStreak: number;
  /** RTT of the last passed check, ms. Failed checks measure time to failure, not latency, and leave it. */
  readonly lastRttMs?: number;
  /** EWMA of passed checks' RTT, ms (dynamic latency steering). */
  readonly rttEwmaMs?: number;
  /** Reason of the last failed check. */
  readonly lastError?: string;
  /** Epoch ms of the last check and of the last status change. */
  readonly lastCheckAt?: number;
  readonly lastChangeAt?: number;
  readonly checks: number;
  readonly failures: number;
}

/** A status change: what listeners and sinks receive. */
export interface HealthChange extends HealthKey {
  readonly from: HealthStatus;
  readonly to: HealthStatus;
  /** The failing check's reason, or `ok`. */
  readonly reason: string;
  readonly rttMs: number;
  /** Epoch ms. */
  readonly at: number;
}

export interface Thresholds {
  readonly consecutiveUp: number;
  readonly consecutiveDown: number;
}

/** Weight of the newest sample in the RTT EWMA. */
export const DEFAULT_EWMA_ALPHA = 0.3;

/** The store key: the three names, unambiguous whatever characters they hold. */
export function healthKey(k: HealthKey): string {
  return JSON.stringify([k.pool, k.origin, k.monitor]);
}

export function initialHealth(k: HealthKey): OriginHealth {
  return { pool: k.pool, origin: k.origin, monitor: k.monitor, status: 'unknown', successStreak: 0, failureStreak: 0, checks: 0, failures: 0 };
}

/** One check's verdict applied to `prev`: the next health, and the change if the status moved. */
export function applyCheck(prev: OriginHealth, result: ProbeResult, t: Thresholds, at: number, alpha = DEFAULT_EWMA_ALPHA): { next: OriginHealth; change?: HealthChange } {
  const successStreak = result.ok ? prev.successStreak + 1 : 0;
  const failureStreak = result.ok ? 0 : prev.failureStreak + 1;
  let status = prev.status;
  if (result.ok && status !== 'healthy' && successStreak >= t.consecutiveUp) status = 'healthy';
  if (!result.ok && status !== 'unhealthy' && failureStreak >= t.consecutiveDown) status = 'unhealthy';
  const next: OriginHealth = {
    ...prev,
    status,
    successStreak,
    failureStreak,
    lastRttMs: result.ok ? result.rttMs : prev.lastRttMs,
    rttEwmaMs: result.ok ? (prev.rttEwmaMs === undefined ? result.rttMs : alpha * result.rttMs + (1 - alpha) * prev.rttEwmaMs) : prev.rttEwmaMs,
    lastError: result.ok ? prev.lastError : (result.reason ?? 'failed'),
    lastCheckAt: at,
    lastChangeAt: status !== prev.status ? at : prev.lastChangeAt,
    checks: prev.checks + 1,
    failures: prev.failures + (result.ok ? 0 : 1),
  };
  if (status === prev.status) return { next };
  const change: HealthChange = {
    pool: prev.pool,
    origin: prev.origin,
    monitor: prev.monitor,
    from: prev.status,
    to: status,
    reason: result.ok ? 'ok' : (result.reason ?? 'failed'),
    rttMs: result.rttMs,
    at,
  };
  return { next, change };
}

/**
 * Where health lives. Reads are synchronous because selection reads on the request path; a
 * shared backend (Redis across PoPs, the primary over IPC across workers) keeps a local mirror
 * that its subscription updates, and publishes from `set`.
 */
export interface HealthStore {
  get(key: string): OriginHealth | undefined;
  set(key: string, health: OriginHealth): void;
  delete(key: string): void;
  keys(): Iterable<string>;
}

export class MemoryHealthStore implements HealthStore {
  private readonly map = new Map<string, OriginHealth>();
  get(key: string): OriginHealth | undefined {
    return this.map.get(key);
  }
  set(key: string, health: OriginHealth): void {
    this.map.set(key, health);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  keys(): Iterable<string> {
    return this.map.keys();
  }
}

export type HealthListener = (change: HealthChange) => void;

/** Applies checks to a store and tells listeners of status changes. A throwing listener is reported to `onError`, never to the checker. */
export class HealthState {
  private readonly listeners = new Set<HealthListener>();

  constructor(
    readonly store: HealthStore = new MemoryHealthStore(),
    private readonly alpha = DEFAULT_EWMA_ALPHA,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** Adds `k` as unknown if the store has no health for it yet. */
  ensure(k: HealthKey): OriginHealth {
    const key = healthKey(k);
    let h = this.store.get(key);
    if (!h) this.store.set(key, (h = initialHealth(k)));
    return h;
  }

  get(k: HealthKey): OriginHealth | undefined {
    return this.store.get(healthKey(k));
  }

  delete(k: HealthKey): void {
    this.store.delete(healthKey(k));
  }

  record(k: HealthKey, result: ProbeResult, t: Thresholds, at: number): HealthChange | undefined {
    const key = healthKey(k);
    const { next, change } = applyCheck(this.store.get(key) ?? initialHealth(k), result, t, at, this.alpha);
    this.store.set(key, next);
    if (change) {
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (err) {
          this.onError(err);
        }
      }
    }
    return change;
  }

  /** Subscribes to status changes; returns the unsubscribe. */
  onChange(listener: HealthListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
