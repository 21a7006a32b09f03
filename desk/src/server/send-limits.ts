/**
 * How many emails a visitor can make Desk send: a sliding window per recipient address and per
 * visitor (the widget's session), so neither one socket nor many sessions can turn the node into
 * a mailer aimed at someone's inbox (issue: 40 transcripts in 2 s to any typed address). Pure:
 * the caller passes the time. Kept per node; behind an edge with session affinity a visitor
 * stays on one node, and the per-address window bounds what each node sends.
 */

export interface SendLimits {
  /** Emails to one address per window. */
  perAddress: number;
  /** Emails one visitor asks for per window. */
  perVisitor: number;
  windowMs: number;
}

export const defaultSendLimits: SendLimits = { perAddress: 3, perVisitor: 5, windowMs: 60 * 60 * 1000 };

/** Keys remembered at most; past it the least recently used go first (memory stays bounded). */
const MAX_KEYS = 50_000;

export class SendLimiter {
  private readonly sent = new Map<string, number[]>();

  constructor(private readonly limits: SendLimits = defaultSendLimits) {}

  /**
   * Counts one email to `address` for `visitorId` and returns 0, or, when either window is full,
   * counts nothing and returns the milliseconds until one frees up (for Retry-After).
   */
  take(address: string, visitorId: string, now: number): number {
    const keys: [string, number][] = [
      [`to:${address.trim().toLowerCase()}`, this.limits.perAddress],
      [`visitor:${visitorId}`, this.limits.perVisitor],
    ];
    let wait = 0;
    const windows = keys.map(([key, limit]) => {
      const times = (this.sent.get(key) ?? []).filter((t) => now - t < this.limits.windowMs);
      if (times.length >= limit) wait = Math.max(wait, times[0]! + this.limits.windowMs - now);
      return [key, times] as const;
    });
    for (const [key, times] of windows) {
      if (!wait) times.push(now);
      this.sent.delete(key); // re-inserted last: the Map's order is least recently used first
      if (times.length) this.sent.set(key, times);
    }
    while (this.sent.size > MAX_KEYS) this.sent.delete(this.sent.keys().next().value!);
    return wait;
  }
}
