/**
 * Passive health: outlier ejection from real traffic (Envoy's outlier detection, peers.md §2).
 * `consecutiveFailures` connection failures or 5xx answers in a row eject an origin for
 * `baseEjectionTime × times ejected`, capped at `maxEjectionTime`. The count of past ejections
 * decays by one for every `maxEjectionTime` an origin spends back in service, so an origin that
 * failed once last month starts again from the base time.
 *
 * Never more than `maxEjectionPercent` of a pool's origins are ejected at once: an ejection that
 * would pass it waits (the failure count stays at the threshold, and the next failure tries
 * again). With the default 50%, a pool of one origin is never ejected: passive health only moves
 * traffic inside a pool; a pool-wide outage is the monitors' call.
 *
 * An ejected origin returns when its time is up and — if it has a monitor — its next active
 * check after that is healthy; without a monitor, when its time is up. Pure logic on an
 * injectable clock; the request path calls `record` and `isEjected`, the checker `activeCheck`.
 */

export type TrafficOutcome = 'success' | 'connect_failure' | 'server_error';

/** Mirrors `health.passive` in the config schema (durations in ms). */
export interface OutlierOptions {
  enabled?: boolean;
  /** Failures in a row that eject; default 5. */
  consecutiveFailures?: number;
  /** Default 30 s. */
  baseEjectionTime?: number;
  /** Default 300 s. */
  maxEjectionTime?: number;
  /** 0..100; default 50. */
  maxEjectionPercent?: number;
  /** Time back in service that forgives one past ejection; default maxEjectionTime. */
  decayTime?: number;
  now?: () => number;
  /** Called after an origin is ejected or returns (a node's supervisor tells its workers). */
  onChange?: () => void;
}

/** One origin as passive health knows it: its id (`pool/origin`, as OriginRuntime.id), its pool, whether a monitor checks it. */
export interface OutlierMember {
  readonly id: string;
  readonly pool: string;
  readonly monitored: boolean;
}

export interface Ejection {
  readonly id: string;
  readonly pool: string;
  /** How many times it has been ejected, this one included (after decay). */
  readonly times: number;
  readonly at: number;
  /** Epoch ms when its time is up (monitored origins also wait for a healthy check). */
  readonly until: number;
  readonly outcome: TrafficOutcome;
}

interface OutlierState {
  member: OutlierMember;
  failures: number;
  times: number;
  ejected: boolean;
  until: number;
  returnedAt?: number;
}

export class OutlierDetector {
  readonly enabled: boolean;
  readonly consecutiveFailures: number;
  readonly baseEjectionTime: number;
  readonly maxEjectionTime: number;
  readonly maxEjectionPercent: number;
  readonly decayTime: number;
  private readonly now: () => number;
  private readonly onChange: () => void;
  private readonly origins = new Map<string, OutlierState>();
  private readonly pools = new Map<string, OutlierState[]>();

  constructor(options: OutlierOptions = {}) {
    this.enabled = options.enabled ?? true;
    this.consecutiveFailures = options.consecutiveFailures ?? 5;
    this.baseEjectionTime = options.baseEjectionTime ?? 30_000;
    this.maxEjectionTime = options.maxEjectionTime ?? 300_000;
    this.maxEjectionPercent = options.maxEjectionPercent ?? 50;
    this.decayTime = options.decayTime ?? this.maxEjectionTime;
    this.now = options.now ?? Date.now;
    this.onChange = options.onChange ?? (() => {});
  }

  /** Who exists (a config reload): keeps the state of ids still listed, forgets the rest. */
  setOrigins(members: Iterable<OutlierMember>): void {
    const previous = new Map(this.origins);
    this.origins.clear();
    this.pools.clear();
    for (const member of members) {
      const old = previous.get(member.id);
      const s: OutlierState = old && old.member.pool === member.pool ? { ...old, member } : { member, failures: 0, times: 0, ejected: false, until: 0 };
      this.origins.set(member.id, s);
      let list = this.pools.get(member.pool);
      if (!list) this.pools.set(member.pool, (list = []));
      list.push(s);
    }
  }

  /** One request's outcome. Returns the ejection it caused, if any. Unknown ids are ignored. */
  record(id: string, outcome: TrafficOutcome, now = this.now()): Ejection | undefined {
    if (outcome !== 'success') return this.recordFailures(id, outcome, 1, now);
    const s = this.origins.get(id);
    if (!s || !this.enabled) return undefined;
    this.settle(s, now);
    // Traffic that still reaches an ejected origin (a pinned session, a last resort) proves nothing new.
    if (!s.ejected) s.failures = 0;
    return undefined;
  }

  /**
   * `n` failures in a row, as `n` calls of `record` would count them: once the threshold ejects,
   * the rest prove nothing new. The node's supervisor counts its workers' runs this way.
   */
  recordFailures(id: string, outcome: Exclude<TrafficOutcome, 'success'>, n: number, now = this.now()): Ejection | undefined {
    const s = this.origins.get(id);
    if (!s || !this.enabled || n <= 0) return undefined;
    this.settle(s, now);
    if (s.ejected) return undefined;
    s.failures += n;
    if (s.failures < this.consecutiveFailures || !this.mayEject(s, now)) return undefined;
    if (s.returnedAt !== undefined) s.times = Math.max(0, s.times - Math.floor((now - s.returnedAt) / this.decayTime));
    s.times++;
    s.ejected = true;
    s.failures = 0;
    s.until = now + ejectionTime(s.times, this.baseEjectionTime, this.maxEjectionTime);
    this.onChange();
    return { id, pool: s.member.pool, times: s.times, at: now, until: s.until, outcome };
  }

  /** An active check's verdict; returns true when it brought an ejected origin back. */
  activeCheck(id: string, healthy: boolean, now = this.now()): boolean {
    const s = this.origins.get(id);
    if (!s?.ejected || !healthy || now < s.until) return false;
    this.restore(s, now);
    return true;
  }

  /**
   * The monitor saw the origin fail and recover (unhealthy → healthy): that is fresher evidence
   * than the ejection's timer, so it returns at once. Returns true when it was ejected.
   */
  recovered(id: string, now = this.now()): boolean {
    const s = this.origins.get(id);
    if (!s?.ejected) return false;
    this.restore(s, now);
    return true;
  }

  isEjected(id: string, now = this.now()): boolean {
    const s = this.origins.get(id);
    return s !== undefined && ejectedAt(s, now);
  }

  /** The origins ejected now, for the admin view and for a node's workers (`monitored`: back only when the supervisor says). */
  ejected(now = this.now()): { id: string; pool: string; times: number; until: number; monitored: boolean }[] {
    const out = [];
    for (const s of this.origins.values()) if (ejectedAt(s, now)) out.push({ id: s.member.id, pool: s.member.pool, times: s.times, until: s.until, monitored: s.member.monitored });
    return out;
  }

  private mayEject(s: OutlierState, now: number): boolean {
    const pool = this.pools.get(s.member.pool) ?? [s];
    let ejected = 0;
    for (const other of pool) if (other !== s && ejectedAt(other, now)) ejected++;
    return (ejected + 1) * 100 <= this.maxEjectionPercent * pool.length;
  }

  /** An unmonitored origin whose time is up is back; made explicit here, so its counters restart. */
  private settle(s: OutlierState, now: number): void {
    if (s.ejected && !s.member.monitored && now >= s.until) this.restore(s, s.until);
  }

  private restore(s: OutlierState, at: number): void {
    s.ejected = false;
    s.failures = 0;
    s.returnedAt = at;
    this.onChange();
  }
}

/** `base × times`, at most `max`. */
export function ejectionTime(times: number, base: number, max: number): number {
  return Math.min(base * times, max);
}

function ejectedAt(s: OutlierState, now: number): boolean {
  return s.ejected && (now < s.until || s.member.monitored);
}
