/**
 * The rate-limit counters' contract: a rule as they see it, their decision, and what the shield
 * phase calls. Apart from node-limits.ts so that the leases and the bus messages, which that
 * file builds on, can name them without importing it back.
 */

/** One rate-limit rule as the counters see it. */
export interface LimitRule {
  /** Identifies the rule across reloads: a reload that keeps it keeps its counts. */
  signature: string;
  requests: number;
  periodMs: number;
  /** How long a key that went over stays mitigated. */
  timeoutMs: number;
  /** Set on a `scope: global` rule: what its count does while Redis does not answer. */
  global?: { onRedisError: 'local' | 'allow' };
}

export type LimitDecision =
  | { allowed: true; remaining: number; resetMs: number }
  /**
   * `until`: ms epoch the key stays mitigated. `retryAfterMs`: for the Retry-After header.
   * `fresh`: this hit put the key over (the first denial); false when it was already mitigated.
   */
  | { allowed: false; until: number; retryAfterMs: number; fresh: boolean };

/** What the shield phase calls: one counted hit. Synchronous when it can decide locally. */
export interface Limits {
  hit(rule: LimitRule, key: string, now: number): LimitDecision | Promise<LimitDecision>;
  /** Drops the tables of rules no longer configured, keeps the rest across reloads. */
  retain(signatures: Set<string>): void;
}
