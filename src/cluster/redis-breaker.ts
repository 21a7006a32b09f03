/**
 * A circuit breaker in front of Redis, so that Redis is never on a request's critical section
 * longer than one deadline (issue 15 item 5). Closed: calls go through. After `failures` failures
 * in a row (a deadline missed, a refused write, an error reply) it opens: for `backoffMs` every
 * call is answered by its fallback at once, without touching Redis. Then one call goes through as
 * a probe (half-open); its success closes the breaker, its failure opens it again for twice as
 * long (up to `maxBackoffMs`). A connection that comes back (`ready`) closes it at once.
 *
 * Release It! (Nygard) calls this pattern Circuit Breaker; Envoy's outlier detection and
 * Hystrix do the same with their own counters.
 */

export interface BreakerOptions {
  /** Failures in a row that open the breaker. Default 3. */
  failures?: number;
  /** First open period. Default 500 ms. */
  backoffMs?: number;
  /** Longest open period. Default 5000 ms. */
  maxBackoffMs?: number;
  now?: () => number;
}

export class Breaker {
  private readonly threshold: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private readonly now: () => number;
  private failuresInRow = 0;
  private backoff: number;
  private openUntil = 0;
  private probing = false;
  /** Calls answered by their fallback (Redis failed, or was skipped while open). */
  fallbacks = 0;
  /** The last failure's message; cleared by a success. */
  lastError: string | undefined;

  constructor(options: BreakerOptions = {}) {
    this.threshold = options.failures ?? 3;
    this.minBackoff = options.backoffMs ?? 500;
    this.maxBackoff = options.maxBackoffMs ?? 5000;
    this.now = options.now ?? Date.now;
    this.backoff = this.minBackoff;
  }

  /** True while calls skip Redis (the probe's own call excepted). */
  get open(): boolean {
    return this.failuresInRow >= this.threshold;
  }

  /** ms until a probe may go (0 when closed or due). */
  get retryInMs(): number {
    return this.open ? Math.max(0, this.openUntil - this.now()) : 0;
  }

  /** Whether a call may go to Redis now (a probe, when the open period is over). */
  allow(): boolean {
    if (!this.open) return true;
    if (this.probing || this.now() < this.openUntil) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.failuresInRow = 0;
    this.backoff = this.minBackoff;
    this.probing = false;
    this.lastError = undefined;
  }

  failure(err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err);
    this.failuresInRow++;
    if (this.probing) this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
    this.probing = false;
    if (this.open) this.openUntil = this.now() + this.backoff;
  }

  /** The connection is back: close at once rather than wait out the backoff. */
  reset(): void {
    this.success();
  }

  /**
   * Runs `op` unless open; any rejection (deadline, refused write, error reply) answers
   * `fallback(err)` instead and counts. Never rejects unless `fallback` throws.
   */
  async run<T>(op: () => Promise<T>, fallback: (err: unknown) => T): Promise<T> {
    if (!this.allow()) {
      this.fallbacks++;
      return fallback(new Error(`redis skipped: circuit open (${this.lastError ?? 'failing'})`));
    }
    try {
      const v = await op();
      this.success();
      return v;
    } catch (err) {
      this.failure(err);
      this.fallbacks++;
      return fallback(err);
    }
  }
}
