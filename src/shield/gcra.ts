/**
 * Rate limiting with GCRA (the generic cell rate algorithm): per key one number, the theoretical
 * arrival time (TAT), so memory is O(1) per key and a check is O(1). `requests` per `periodMs`,
 * with a burst of up to `requests` at once. The key table is bounded: past `maxKeys` the least
 * recently used keys go (a key back at its full allowance carries no state worth keeping anyway).
 */

export interface LimitResult {
  allowed: boolean;
  /** Requests still allowed right now. */
  remaining: number;
  /** ms until the full allowance is back. */
  resetMs: number;
  /** 0 when allowed; else ms until one more request would be. */
  retryAfterMs: number;
}

export class RateLimiter {
  private readonly interval: number;
  private readonly tolerance: number;
  private readonly tats = new Map<string, number>();
  private readonly blocked = new Map<string, number>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly options: { requests: number; periodMs: number; maxKeys?: number; now?: () => number }) {
    this.interval = options.periodMs / options.requests;
    // A burst of `requests` at once: the TAT may run this far ahead of now.
    this.tolerance = options.periodMs - this.interval;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.tats.size;
  }

  hit(key: string, cost = 1): LimitResult {
    const now = this.now();
    const prev = this.tats.get(key);
    const tat = prev === undefined || prev < now ? now : prev;
    const next = tat + this.interval * cost;
    const allowAt = next - this.interval - this.tolerance;
    if (allowAt > now) {
      // Refused: the state does not move.
      if (prev !== undefined) this.touch(key, prev);
      return { allowed: false, remaining: 0, resetMs: Math.ceil(tat - now), retryAfterMs: Math.ceil(allowAt - now) };
    }
    this.touch(key, next);
    const remaining = Math.floor((now + this.tolerance - (next - this.interval)) / this.interval);
    return { allowed: true, remaining: Math.max(0, remaining), resetMs: Math.ceil(next - now), retryAfterMs: 0 };
  }

  /** Holds `key` blocked until `untilMs` (a rule's timeout after it went over). */
  mitigate(key: string, untilMs: number): void {
    this.blocked.delete(key);
    this.blocked.set(key, untilMs);
    if (this.blocked.size > this.maxKeys) this.blocked.delete(this.blocked.keys().next().value!);
  }

  /** When `key` is held blocked, until when; else undefined. */
  mitigated(key: string): number | undefined {
    const until = this.blocked.get(key);
    if (until === undefined) return undefined;
    if (until <= this.now()) {
      this.blocked.delete(key);
      return undefined;
    }
    return until;
  }

  private touch(key: string, tat: number): void {
    this.tats.delete(key);
    this.tats.set(key, tat);
    if (this.tats.size > this.maxKeys) this.tats.delete(this.tats.keys().next().value!);
  }
}

/** The counted identity of a client: IPv4 as is, IPv6 by its /64 (one subscriber's network). */
export function clientKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  const [head, tail = ''] = ip.split('%')[0].toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** The IETF RateLimit headers (draft-ietf-httpapi-ratelimit-headers): the policy and the current state. */
export function rateLimitHeaders(policy: string, limit: number, periodMs: number, r: { remaining: number; resetMs: number }): [string, string][] {
  return [
    ['ratelimit-policy', `"${policy}";q=${limit};w=${Math.ceil(periodMs / 1000)}`],
    ['ratelimit', `"${policy}";r=${r.remaining};t=${Math.ceil(r.resetMs / 1000)}`],
  ];
}
