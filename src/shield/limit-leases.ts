/**
 * A worker's leases on the node's rate-limit counts (node-limits.ts has the design and the bound).
 * A lease is `tokens` hits of one (rule, key) that the supervisor's GCRA already counted, handed to
 * this worker to spend by itself, synchronously, until they are gone or until `until` (the asking
 * hit's time + `leaseMs(rule)`). What is left then, or when the lease is dropped (the key went
 * over, the rule went away, the table is full), goes back through `giveBack` to the supervisor.
 *
 * A worker holds at most one lease per (rule, key), and one hit at a time asks for it: the first
 * hit on a key (its slot holds 0 tokens until the answer), or the one that finds the lease down to
 * its last quarter; the hits after it spend that quarter while the answer comes, so a busy key
 * goes on without waiting. Such a renewal hands the quarter back with the ask (`held`): the
 * supervisor credits it when, and only when, it grants the next lease, and the next lease pays for
 * what the old one spent meanwhile, so a renewal costs no message of its own, and from any moment
 * on a worker spends at most L of a key before it next hears about it from the supervisor.
 *
 * Slots are kept in one Map in the order granted, which is expiry order for rules of the same
 * lease time; the sweep stops at the first slot not yet expired, so a lease of a rule with a
 * shorter period behind a longer one goes back late (by at most LEASE_MS), though never spent late.
 */
import type { LimitDecision, LimitRule } from './limit-types.js';

/** The most a lease carries, and its longest life. */
export const MAX_LEASE = 256;
export const LEASE_MS = 250;
/** How often, by the hits' clock, expired leases are looked for. */
const SWEEP_MS = 50;

/** Tokens per lease: min(256, requests / 16); 0 for limits under 16, which are counted hit by hit. */
export function leaseSize(rule: LimitRule): number {
  return Math.min(MAX_LEASE, Math.floor(rule.requests / 16));
}

/** How long a lease may be spent: min(250 ms, the rule's period), from the hit that asked. */
export function leaseMs(rule: LimitRule): number {
  return Math.min(LEASE_MS, rule.periodMs);
}

/** A lease, or the slot of a first ask (0 tokens). */
export interface Lease {
  readonly rule: LimitRule;
  readonly key: string;
  /** Unspent. */
  tokens: number;
  /** A hit asked for the next lease and its answer has not come. */
  asking: boolean;
  /** Tokens spent since then: the next lease pays for them. */
  spentAsking: number;
  until: number;
  /** The node's remaining allowance once the lease was taken (for the decisions it makes). */
  remaining: number;
  resetMs: number;
}

/** What a hit that asks for a lease carries: the lease it asks to replace, and its tokens then. */
export interface LeaseAsk {
  readonly lease: Lease;
  /** Handed back by the ask itself: the supervisor credits them when it grants the next lease. */
  readonly held: number;
}

export class LeaseTable {
  private readonly leases = new Map<string, Lease>();
  private nextSweep = 0;

  /** `giveBack` receives the unspent tokens of every lease that ends; `max` bounds the slots (the oldest goes first). */
  constructor(
    private readonly giveBack: (rule: LimitRule, key: string, tokens: number) => void,
    private readonly max = 10_000,
  ) {}

  /**
   * Spends one token of the lease on (rule, key): the decision, or undefined when the hit is to
   * be asked about: there is no lease, it is spent or expired, or it is down to its last quarter
   * and no hit asked for the next one yet (this hit then asks, and the hits after it spend the
   * rest while the answer comes, so a busy key is seldom asked about).
   */
  spend(rule: LimitRule, key: string, now: number): LimitDecision | undefined {
    if (this.leases.size === 0) return undefined;
    if (now >= this.nextSweep) this.sweep(now);
    const id = slot(rule, key);
    const lease = this.leases.get(id);
    if (!lease || lease.tokens === 0) return undefined;
    if (now >= lease.until) {
      this.release(id, lease);
      return undefined;
    }
    if (!lease.asking && lease.tokens <= leaseSize(rule) >> 2) return undefined;
    lease.tokens--;
    if (lease.asking) lease.spentAsking++;
    else if (lease.tokens === 0) this.leases.delete(id);
    return { allowed: true, remaining: lease.remaining + lease.tokens, resetMs: lease.resetMs };
  }

  /** The ask the hit at `now` makes, or undefined when it makes none: the rule does not lease, or a hit asked already. */
  ask(rule: LimitRule, key: string, now: number): LeaseAsk | undefined {
    if (leaseSize(rule) === 0) return undefined;
    const id = slot(rule, key);
    const held = this.leases.get(id);
    if (held && now < held.until) {
      if (held.asking) return undefined;
      held.asking = true; // the lease runs low: this hit asks for the next one
      held.spentAsking = 0;
      return { lease: held, held: held.tokens };
    }
    if (held) this.release(id, held);
    const lease: Lease = { rule, key, tokens: 0, asking: true, spentAsking: 0, until: now + leaseMs(rule), remaining: 0, resetMs: 0 };
    this.leases.set(id, lease);
    this.bound();
    return { lease, held: 0 };
  }

  /**
   * The supervisor granted `granted` tokens to the hit that asked at `asked` (and took back what
   * the lease it replaces held then); `remaining` is that hit's own. The old lease ends, and the
   * new one pays for the hits the old one paid for since the ask (until it ended, if it expired or
   * was dropped meanwhile), so from the moment a hit asks, this worker spends at most L of the key
   * until its next ask, whatever the answer's delay.
   */
  granted(ask: LeaseAsk, asked: number, granted: number, remaining: number, resetMs: number): void {
    const { rule, key } = ask.lease;
    const id = slot(rule, key);
    const current = this.leases.get(id);
    if (current === ask.lease)
      this.leases.delete(id); // what it held at the ask went back with the ask
    else if (current) this.release(id, current); // a later ask's: it settles its own
    ask.lease.tokens = 0;
    const tokens = granted - Math.min(ask.lease.spentAsking, granted);
    if (tokens === 0) return;
    // At the end of the Map: it expires after the ones already there (but for another rule's shorter period).
    this.leases.set(id, { rule, key, tokens, asking: false, spentAsking: 0, until: asked + leaseMs(rule), remaining: remaining - granted, resetMs });
    this.bound();
  }

  /** The ask got no lease (too near the limit, or the key is over): the lease keeps its tokens, or gives them back if it ended. */
  declined(ask: LeaseAsk): void {
    const lease = ask.lease;
    const id = slot(lease.rule, lease.key);
    lease.asking = false;
    if (this.leases.get(id) !== lease) {
      if (lease.tokens > 0) this.giveBack(lease.rule, lease.key, lease.tokens);
      lease.tokens = 0;
    } else if (lease.tokens === 0) {
      this.leases.delete(id);
    }
  }

  /**
   * The ask's answer will never be read (it came late, or unreadable): whether the supervisor
   * took back what the lease held is not known, so it is not spent, nor given back (it stays
   * counted, which errs towards refusing).
   */
  abandoned(ask: LeaseAsk): void {
    const lease = ask.lease;
    const id = slot(lease.rule, lease.key);
    if (this.leases.get(id) === lease) this.leases.delete(id);
    lease.tokens = 0;
  }

  /** Ends the lease on (rule, key), giving its rest back: the key went over. */
  drop(rule: LimitRule, key: string): void {
    const id = slot(rule, key);
    const lease = this.leases.get(id);
    if (lease) this.release(id, lease);
  }

  /** Ends the leases of rules no longer configured. */
  retain(signatures: Set<string>): void {
    for (const [id, lease] of this.leases) if (!signatures.has(lease.rule.signature)) this.release(id, lease);
  }

  /** Slots held: leases and unanswered asks (at most `max`). */
  get size(): number {
    return this.leases.size;
  }

  /** Ends the leases past their time, oldest first. */
  sweep(now: number): void {
    this.nextSweep = now + SWEEP_MS;
    for (const [id, lease] of this.leases) {
      if (now < lease.until) break;
      this.release(id, lease);
    }
  }

  /** Ends a lease. One with an ask out keeps its tokens for the answer: the ask hands them back. */
  private release(id: string, lease: Lease): void {
    this.leases.delete(id);
    if (lease.asking || lease.tokens === 0) return;
    this.giveBack(lease.rule, lease.key, lease.tokens);
    lease.tokens = 0;
  }

  private bound(): void {
    for (const [id, lease] of this.leases) {
      if (this.leases.size <= this.max) break;
      this.release(id, lease);
    }
  }
}

/** One slot per (rule, key): a JSON signature has no raw newline. */
function slot(rule: LimitRule, key: string): string {
  return `${rule.signature}\n${key}`;
}
