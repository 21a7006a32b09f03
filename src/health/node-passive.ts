/**
 * Passive health for a whole node: `consecutiveFailures` counts the failures of the node's
 * traffic, whichever workers saw them, so a dead origin is ejected after the same number of
 * failures with 1 worker or 32.
 *
 *   worker (WorkerPassive)                           supervisor (one OutlierDetector)
 *   record(): adds to a per-origin tally ── every FLUSH_MS ──▶ replays the tallies
 *   isEjected(): reads the last list    ◀── on each change ─── the ejected list
 *
 * The request path only adds to local counters: nothing waits on the supervisor. The price is a
 * bound on staleness: an origin is ejected at most FLUSH_MS plus one IPC hop after the failure
 * that crossed the threshold (failures in between reach it and prove nothing new), and it
 * returns in the workers one hop after the supervisor lets it back.
 *
 * A tally keeps what the detector needs of a run of outcomes, not the run: failures before the
 * first success (`lead`, which adds to the node's count), the longest run between two successes
 * (`mid`, which ejects on its own if it reaches the threshold), and the failures after the last
 * success (`trail`, the count the next batch continues). Constant size per origin per batch.
 */
import type { OutlierDetector, TrafficOutcome } from './passive.js';

/** Failures are sent at most this long after they happen. */
export const FLUSH_MS = 50;

type Failure = Exclude<TrafficOutcome, 'success'>;

/** One origin's outcomes in one batch: [id, lead, mid, trail, any success (0/1), last failure kind]. */
export type OutcomeTally = [id: string, lead: number, mid: number, trail: number, ok: 0 | 1, kind: Failure];

/** What the supervisor publishes: every ejected origin, and whether it waits for a healthy check. */
export type EjectedList = { id: string; until: number; monitored: boolean }[];

/** Adds one outcome to a tally (pure; exported for tests). */
export function tally(t: OutcomeTally, outcome: TrafficOutcome): void {
  if (outcome === 'success') {
    if (t[4] === 1) t[2] = Math.max(t[2], t[3]);
    t[3] = 0;
    t[4] = 1;
  } else {
    if (t[4] === 1) t[3]++;
    else t[1]++;
    t[5] = outcome;
  }
}

/** Replays tallies into the node's detector, in the order each worker saw its outcomes. */
export function replay(detector: OutlierDetector, tallies: readonly OutcomeTally[], now = Date.now()): void {
  for (const [id, lead, mid, trail, ok, kind] of tallies) {
    detector.recordFailures(id, kind, lead, now);
    if (!ok) continue;
    if (mid > 0) {
      detector.record(id, 'success', now);
      detector.recordFailures(id, kind, mid, now);
    }
    detector.record(id, 'success', now);
    detector.recordFailures(id, kind, trail, now);
  }
}

/** Checks a batch from a worker (IPC data is trusted, but a bad frame must not throw into the supervisor). */
export function isTallies(data: unknown): data is OutcomeTally[] {
  return (
    Array.isArray(data) &&
    data.every(
      (t) =>
        Array.isArray(t) &&
        t.length === 6 &&
        typeof t[0] === 'string' &&
        [t[1], t[2], t[3]].every((n) => Number.isInteger(n) && n >= 0) &&
        (t[4] === 0 || t[4] === 1) &&
        (t[5] === 'connect_failure' || t[5] === 'server_error'),
    )
  );
}

/** A worker's passive health: tallies outcomes for the supervisor, reads its verdicts. */
export class WorkerPassive {
  private pending = new Map<string, OutcomeTally>();
  private timer: NodeJS.Timeout | undefined;
  private ejected = new Map<string, { until: number; monitored: boolean }>();

  /** `send` carries a batch to the supervisor, fire and forget. */
  constructor(
    private readonly send: (batch: OutcomeTally[]) => void,
    private readonly flushMs = FLUSH_MS,
  ) {}

  record(id: string, outcome: TrafficOutcome): void {
    let t = this.pending.get(id);
    if (!t) this.pending.set(id, (t = [id, 0, 0, 0, 0, 'server_error']));
    tally(t, outcome);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.send(batch);
  }

  /** The supervisor's list, as published on every change. */
  update(list: EjectedList): void {
    this.ejected = new Map(list.map((e) => [e.id, { until: e.until, monitored: e.monitored }]));
  }

  /** As OutlierDetector.isEjected: an unmonitored origin is back when its time is up, a monitored one when the supervisor says. */
  isEjected(id: string, now: number): boolean {
    const e = this.ejected.get(id);
    return e !== undefined && (now < e.until || e.monitored);
  }
}
