/**
 * Request coalescing: when many requests miss the same key at once, one (the leader) goes to the
 * origin and the others wait for its outcome instead of stampeding the origin (Varnish's waiting
 * list, nginx's proxy_cache_lock).
 *
 * - The first `join` of a key leads. Later joins wait, up to `maxWaiters` per key; past that they
 *   pass (go to the origin uncached) rather than queue without bound.
 * - The leader's `done(outcome)` wakes every waiter with it: 'stored' → look the key up again;
 *   anything else → go to the origin uncached.
 * - `done('uncacheable')` also marks the key hit-for-miss for `hitForMissMs` (Varnish): while
 *   marked, joins pass at once, so a burst on an uncacheable URL neither queues nor serializes.
 * - Each waiter gives up after `waitTimeoutMs` on its own (nginx's proxy_cache_lock_timeout):
 *   its result is 'timeout' and it goes to the origin uncached; the leader carries on.
 *
 * Callers must call `done` on every path of the leader, errors and client aborts included:
 * until then the key stays in flight and later joins wait (and time out). `done` is idempotent.
 * Waiter timers are unref'd and cleared when the leader finishes.
 */

export type LeadOutcome = 'stored' | 'uncacheable' | 'failed';
export type WaitOutcome = LeadOutcome | 'timeout';

export interface Lead {
  role: 'lead';
  /** Ends the flight: wakes the waiters with `outcome`. Idempotent. */
  done(outcome: LeadOutcome): void;
}

export interface Wait {
  role: 'wait';
  /** The leader's outcome, or 'timeout' after waitTimeoutMs. Never rejects. */
  result: Promise<WaitOutcome>;
}

export interface Pass {
  role: 'pass';
  reason: 'hit-for-miss' | 'queue-full';
}

export type Joined = Lead | Wait | Pass;

export interface CoalescerOptions {
  /** Waiters per key at most; more pass. 0 disables waiting (every non-leader passes). */
  maxWaiters: number;
  /** A waiter gives up after this long (ms). */
  waitTimeoutMs: number;
  /** How long a key stays marked uncacheable after done('uncacheable') (ms); 0 disables. */
  hitForMissMs: number;
  now?: () => number;
}

interface Waiter {
  resolve(outcome: WaitOutcome): void;
  timer: NodeJS.Timeout;
}

interface Flight {
  waiters: Set<Waiter>;
  finished: boolean;
}

export class Coalescer {
  private readonly flights = new Map<string, Flight>();
  /** key → until (ms); insertion order is expiry order, since the period is fixed. */
  private readonly hitForMiss = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: CoalescerOptions) {
    this.now = options.now ?? Date.now;
  }

  join(key: string): Joined {
    if (this.hitForMiss.size > 0) {
      const until = this.hitForMiss.get(key);
      if (until !== undefined) {
        if (this.now() < until) return PASS_HIT_FOR_MISS;
        this.hitForMiss.delete(key);
      }
    }
    const flight = this.flights.get(key);
    if (flight === undefined) return this.lead(key);
    if (flight.waiters.size >= this.options.maxWaiters) return PASS_QUEUE_FULL;
    return { role: 'wait', result: this.wait(flight, this.options.waitTimeoutMs) };
  }

  /** Has `key` a leader in flight? (A background refresh asks before joining, so it never waits.) */
  busy(key: string): boolean {
    return this.flights.has(key);
  }

  /**
   * Resolves when the flight of `key` under way (if any) ends, or after `timeoutMs`: an
   * invalidation waits out a fill in this process, whose commit could land after its delete.
   * Not a waiter in the queue's sense: maxWaiters does not apply.
   */
  settled(key: string, timeoutMs: number): Promise<void> {
    const flight = this.flights.get(key);
    return flight === undefined ? Promise.resolve() : this.wait(flight, timeoutMs).then(() => {});
  }

  /** Keys with a leader in flight. */
  inFlight(): number {
    return this.flights.size;
  }

  /** Waiters across all keys. */
  waiting(): number {
    let n = 0;
    for (const flight of this.flights.values()) n += flight.waiters.size;
    return n;
  }

  private lead(key: string): Lead {
    const flight: Flight = { waiters: new Set(), finished: false };
    this.flights.set(key, flight);
    return {
      role: 'lead',
      done: (outcome) => {
        if (flight.finished) return;
        flight.finished = true;
        if (this.flights.get(key) === flight) this.flights.delete(key);
        if (outcome === 'uncacheable') this.markHitForMiss(key);
        for (const waiter of flight.waiters) {
          clearTimeout(waiter.timer);
          waiter.resolve(outcome);
        }
        flight.waiters.clear();
      },
    };
  }

  private wait(flight: Flight, timeoutMs: number): Promise<WaitOutcome> {
    return new Promise<WaitOutcome>((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          flight.waiters.delete(waiter);
          resolve('timeout');
        }, timeoutMs),
      };
      waiter.timer.unref();
      flight.waiters.add(waiter);
    });
  }

  private markHitForMiss(key: string): void {
    if (this.options.hitForMissMs <= 0) return;
    const now = this.now();
    // Drop expired marks from the front, so uncacheable URLs seen once do not pile up.
    for (const [k, until] of this.hitForMiss) {
      if (until > now) break;
      this.hitForMiss.delete(k);
    }
    this.hitForMiss.delete(key);
    this.hitForMiss.set(key, now + this.options.hitForMissMs);
  }
}

const PASS_HIT_FOR_MISS: Pass = Object.freeze({ role: 'pass', reason: 'hit-for-miss' });
const PASS_QUEUE_FULL: Pass = Object.freeze({ role: 'pass', reason: 'queue-full' });
