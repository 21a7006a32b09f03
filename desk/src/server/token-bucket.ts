/**
 * A per-connection token bucket: `rate` events a second on average, `burst` at once. Pure (the
 * caller passes the time) so it is tested without clocks. One bucket per WebSocket bounds what a
 * single client can make the node do (PROTOCOL.md: `rate_limited`).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token; false when the bucket is empty (the event is refused). */
  take(now: number): boolean {
    if (this.wait(now) > 0) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is there (0: now), after refilling for the time passed. */
  wait(now: number): number {
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  /** Gives a token back (an attempt that turned out not to count), up to the burst. */
  refund(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }

  /** Whether the bucket is full again: nothing to remember about its key. */
  full(now: number): boolean {
    this.wait(now);
    return this.tokens >= this.burst;
  }
}
