/**
 * Active health checking: every monitored origin's probe on its interval, and the read-only view
 * selection asks (`isHealthy`, `poolHealthy`, `poolRtt`, `state`).
 *
 * - Intervals carry jitter (±10% by default) so checks of many origins drift apart instead of
 *   landing on an origin fleet in the same millisecond; the first check runs within the first
 *   tenth of an interval after start.
 * - A target's next check is scheduled when the previous one ends, so one target never has two
 *   checks at once, however slow the origin or short the interval.
 * - A failed attempt is re-tried at once up to `retries` times, each attempt with its own timeout,
 *   and only then counts as one failure toward `consecutiveDown`.
 * - `setTargets` applies a reload: health is kept by (pool, origin, monitor) for targets that
 *   stay; a target whose address or monitor settings changed keeps its health but is re-checked
 *   soon (its in-flight check, about the old settings, is dropped).
 * - `stop` clears every timer and aborts every in-flight check; its promise resolves once their
 *   sockets are gone.
 */
import { DEFAULT_EWMA_ALPHA, HealthState, healthKey, type HealthKey, type HealthListener, type HealthStore, type OriginHealth } from './health-state.js';
import type { OutlierDetector } from './passive.js';
import { createProbe } from './probes.js';
import type { MonitorSettings, Probe, ProbeResult, ProbeTarget } from './types.js';

/** One origin of one pool, monitored or not: the checker must know every origin to count a pool. */
export interface HealthTarget {
  readonly pool: string;
  readonly origin: string;
  readonly enabled: boolean;
  /** The pool's monitor; absent = not checked, counted healthy while enabled. */
  readonly monitor?: { readonly name: string; readonly settings: MonitorSettings };
  readonly probe: ProbeTarget;
}

/** What selection reads. Everything is synchronous and cheap: it runs per request. */
export interface HealthView {
  /**
   * Whether the origin may take traffic: false when disabled or passively ejected; true without
   * a monitor; by its status with one (`unknown` counts as `unknownIsHealthy` says). An origin
   * the checker was never told of is healthy: health has no opinion on who exists.
   */
  isHealthy(pool: string, origin: string): boolean;
  /** The origin's active health under its pool's current monitor; undefined without a monitor. */
  state(pool: string, origin: string): OriginHealth | undefined;
  /** Mean RTT EWMA over the pool's healthy origins that have one, ms; undefined without data. */
  poolRtt(pool: string): number | undefined;
  /** At least `minimumOrigins` of the pool's origins are healthy (a pool never told of counts as healthy). */
  poolHealthy(pool: string, minimumOrigins: number): boolean;
}

export interface HealthChecker extends HealthView {
  start(): void;
  stop(): Promise<void>;
  setTargets(list: readonly HealthTarget[]): void;
  onChange(listener: HealthListener): () => void;
  /** Every monitored origin's health, for the admin API and dashboard. */
  list(): OriginHealth[];
}

export interface HealthCheckerOptions {
  /** Where health lives; default in memory. A shared backend plugs in here. */
  store?: HealthStore;
  /** Builds a monitor type's probe; default by name (probes.ts). */
  probeFor?: (settings: MonitorSettings) => Probe;
  /** Whether `unknown` (no verdict yet) takes traffic; default true. */
  unknownIsHealthy?: boolean;
  /** Spread of intervals, ±fraction; default 0.1. */
  jitter?: number;
  ewmaAlpha?: number;
  /** Passive ejection: consulted by isHealthy, fed with active verdicts and with who exists. */
  outliers?: OutlierDetector;
  /** Uniform [0, 1); default Math.random. */
  random?: () => number;
  /** Epoch ms; default Date.now. */
  now?: () => number;
  /** A listener or probe that threw; default ignored. */
  onError?: (err: unknown) => void;
}

/** A checked target at run time. */
interface Running {
  readonly key: HealthKey;
  target: HealthTarget;
  settings: MonitorSettings;
  probe: Probe;
  fingerprint: string;
  timer?: NodeJS.Timeout;
  inflight?: { controller: AbortController; done: Promise<void> };
}

interface Member {
  readonly enabled: boolean;
  /** Set when a monitor checks it. */
  readonly key?: HealthKey;
}

/** Delay to the next check: `interval` ± `jitter`·interval, uniformly. */
export function nextDelay(interval: number, jitter: number, random: () => number): number {
  return Math.max(0, interval * (1 + jitter * (2 * random() - 1)));
}

/** Delay to a target's first check: within the first `jitter` fraction of its interval. */
export function firstDelay(interval: number, jitter: number, random: () => number): number {
  return interval * jitter * random();
}

export function createHealthChecker(options: HealthCheckerOptions = {}): HealthChecker {
  const probeFor = options.probeFor ?? createProbe;
  const unknownIsHealthy = options.unknownIsHealthy ?? true;
  const jitter = options.jitter ?? 0.1;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  const outliers = options.outliers;
  const health = new HealthState(options.store, options.ewmaAlpha ?? DEFAULT_EWMA_ALPHA, onError);

  let running = new Map<string, Running>();
  let pools = new Map<string, Map<string, Member>>();
  let started = false;

  function schedule(r: Running, delay: number): void {
    if (!started) return;
    clearTimeout(r.timer);
    r.timer = setTimeout(() => {
      r.timer = undefined;
      runCheck(r);
    }, delay);
  }

  function runCheck(r: Running): void {
    const controller = new AbortController();
    const settings = r.settings;
    const done = checkWithRetries(r.probe, r.target.probe, settings, controller.signal, onError)
      .then((result) => {
        if (r.inflight?.controller !== controller) return;
        r.inflight = undefined;
        if (controller.signal.aborted || !started) return;
        const at = now();
        health.record(r.key, result, settings, at);
        outliers?.activeCheck(`${r.key.pool}/${r.key.origin}`, result.ok, at);
        schedule(r, nextDelay(settings.interval, jitter, random));
      })
      .catch(onError);
    r.inflight = { controller, done };
  }

  function cancel(r: Running): Promise<void> | undefined {
    clearTimeout(r.timer);
    r.timer = undefined;
    const inflight = r.inflight;
    r.inflight = undefined;
    inflight?.controller.abort(new DOMException('health checker stopped or reloaded', 'AbortError'));
    return inflight?.done;
  }

  function memberHealthy(pool: string, origin: string, m: Member | undefined, at: number): boolean {
    if (!m) return true;
    if (!m.enabled) return false;
    if (m.key) {
      const status = health.get(m.key)?.status ?? 'unknown';
      if (status === 'unhealthy' || (status === 'unknown' && !unknownIsHealthy)) return false;
    }
    return !outliers?.isEjected(`${pool}/${origin}`, at);
  }

  const checker: HealthChecker = {
    start() {
      if (started) return;
      started = true;
      for (const r of running.values()) schedule(r, firstDelay(r.settings.interval, jitter, random));
    },

    async stop() {
      started = false;
      const pending: Promise<void>[] = [];
      for (const r of running.values()) {
        const p = cancel(r);
        if (p) pending.push(p);
      }
      await Promise.all(pending);
    },

    setTargets(list) {
      const nextRunning = new Map<string, Running>();
      const nextPools = new Map<string, Map<string, Member>>();
      for (const t of list) {
        let members = nextPools.get(t.pool);
        if (!members) nextPools.set(t.pool, (members = new Map()));
        const checked = t.enabled && t.monitor !== undefined;
        const key: HealthKey | undefined = checked ? { pool: t.pool, origin: t.origin, monitor: t.monitor!.name } : undefined;
        members.set(t.origin, { enabled: t.enabled, key });
        if (!key) continue;
        const id = healthKey(key);
        const settings = t.monitor!.settings;
        const fingerprint = JSON.stringify([settings, t.probe.address.href, t.probe.hostHeader, t.probe.tls]);
        let r = running.get(id);
        if (r && r.fingerprint !== fingerprint) {
          void cancel(r);
          r.target = t;
          r.settings = settings;
          r.fingerprint = fingerprint;
          try {
            r.probe = probeFor(settings);
          } catch (err) {
            onError(err);
            continue;
          }
          schedule(r, firstDelay(settings.interval, jitter, random));
        } else if (r) {
          r.target = t;
        } else {
          let probe: Probe;
          try {
            probe = probeFor(settings);
          } catch (err) {
            onError(err);
            continue;
          }
          r = { key, target: t, settings, probe, fingerprint };
          health.ensure(key);
          schedule(r, firstDelay(settings.interval, jitter, random));
        }
        nextRunning.set(id, r);
      }
      for (const [id, r] of running) {
        if (nextRunning.has(id)) continue;
        void cancel(r);
        health.delete(r.key);
      }
      running = nextRunning;
      pools = nextPools;
      outliers?.setOrigins(list.map((t) => ({ id: `${t.pool}/${t.origin}`, pool: t.pool, monitored: t.enabled && t.monitor !== undefined })));
    },

    onChange: (listener) => health.onChange(listener),

    isHealthy(pool, origin) {
      return memberHealthy(pool, origin, pools.get(pool)?.get(origin), now());
    },

    state(pool, origin) {
      const key = pools.get(pool)?.get(origin)?.key;
      return key ? health.get(key) : undefined;
    },

    poolRtt(pool) {
      const members = pools.get(pool);
      if (!members) return undefined;
      const at = now();
      let sum = 0;
      let n = 0;
      for (const [origin, m] of members) {
        if (!m.key || !memberHealthy(pool, origin, m, at)) continue;
        const ewma = health.get(m.key)?.rttEwmaMs;
        if (ewma === undefined) continue;
        sum += ewma;
        n++;
      }
      return n > 0 ? sum / n : undefined;
    },

    poolHealthy(pool, minimumOrigins) {
      const members = pools.get(pool);
      if (!members) return true;
      const at = now();
      let healthy = 0;
      for (const [origin, m] of members) if (memberHealthy(pool, origin, m, at)) healthy++;
      return healthy >= minimumOrigins;
    },

    list() {
      const out: OriginHealth[] = [];
      for (const r of running.values()) {
        const h = health.get(r.key);
        if (h) out.push(h);
      }
      return out;
    },
  };
  return checker;
}

/** One check: the probe, re-tried at once up to `retries` times while it fails. */
async function checkWithRetries(probe: Probe, target: ProbeTarget, settings: MonitorSettings, signal: AbortSignal, onError: (err: unknown) => void): Promise<ProbeResult> {
  let result: ProbeResult = { ok: false, rttMs: 0, reason: 'aborted' };
  for (let attempt = 0; attempt <= settings.retries && !signal.aborted; attempt++) {
    result = await attemptOnce(probe, target, settings.timeout, signal, onError);
    if (result.ok) break;
  }
  return result;
}

/**
 * One attempt, bounded by `timeoutMs` whatever the probe does: its signal fires at the timeout
 * (or when `parent` aborts). A probe settles in its abort listener, so its own result (and its
 * cleanup) comes first; a probe that does not is overtaken one event-loop turn later.
 */
export async function attemptOnce(probe: Probe, target: ProbeTarget, timeoutMs: number, parent: AbortSignal, onError: (err: unknown) => void = () => {}): Promise<ProbeResult> {
  const controller = new AbortController();
  const started = performance.now();
  let immediate: NodeJS.Immediate | undefined;
  const overtaken = new Promise<ProbeResult>((resolve) => {
    controller.signal.addEventListener(
      'abort',
      () => {
        const reason = parent.aborted ? 'aborted' : 'timeout';
        immediate = setImmediate(() => resolve({ ok: false, rttMs: performance.now() - started, reason }));
      },
      { once: true },
    );
  });
  const forward = () => controller.abort(parent.reason);
  parent.addEventListener('abort', forward, { once: true });
  const timer = setTimeout(() => controller.abort(new DOMException('health check timed out', 'TimeoutError')), timeoutMs);
  if (parent.aborted) forward();
  try {
    const checked = Promise.resolve()
      .then(() => probe.check(target, controller.signal))
      .catch((err: unknown): ProbeResult => {
        onError(err);
        return { ok: false, rttMs: performance.now() - started, reason: err instanceof Error ? err.message : String(err) };
      });
    return await Promise.race([checked, overtaken]);
  } finally {
    clearTimeout(timer);
    clearImmediate(immediate);
    parent.removeEventListener('abort', forward);
  }
}
