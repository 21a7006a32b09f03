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
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
