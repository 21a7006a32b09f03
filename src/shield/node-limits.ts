/**
 * Rate-limit counts shared by all the node's workers: a limit of 100 is 100 per PoP, not per
 * worker, and each rule counts on its own.
 *
 * The supervisor keeps the only count (`NodeLimitTable`: per rule one GCRA `RateLimiter`, so
 * O(1) memory per key and at most `maxKeys` keys per rule). A worker (`NodeLimits`) asks it about
 * a counted hit unless it holds a lease on the key: one IPC round trip, batched per event-loop
 * turn, so a busy worker sends one message per turn with all its hits (at most 1,000; more are
 * split; limit-messages.ts) and the supervisor answers each message with one. A client that only
 * reaches one worker gets the whole limit.
 *
 * Leases (limit-leases.ts), so that a key far from its limit costs no round trip per hit. A rule
 * leases L = min(256, ⌊requests / 16⌋) tokens at a time; under 16 requests L = 0 and every hit is
 * asked about, exactly as if there were one process. A hit that asks for a lease (its worker holds
 * none on the key, or one down to its last quarter) and is allowed with at least 2 × W × L left
 * after it (W: the workers the table heard from in the last second, the only ones that can hold a
 * lease) also takes L tokens from the key's GCRA, and its verdict carries them. The worker spends
 * them synchronously, without IPC, until they are gone or min(250 ms, period) after the hit that
 * asked. The hit that finds the lease down to a quarter asks for the next one while the following
 * hits spend that quarter, so a busy key seldom waits, and hands the quarter back with its ask: the
 * table takes it back only if it grants the next lease, which then pays for what the quarter paid
 * for meanwhile, so a renewal is one message and its reply. What any other lease leaves unspent
 * (it expired, the key went over, its rule went away, the worker held more than `maxLeases`,
 * 10,000) goes back with the next turn's message. The table gives tokens back to the key's TAT,
 * never below now: the state the key would be in had they never been taken.
 *
 * The bound. Every hit a worker admits spends a token the table's GCRA counted (a leased one up to
 * min(250 ms, period) before it is spent), so the node never admits more than the limit. What
 * leases cost is on the other side, and bounded by L per worker, since a worker holds at most one
 * lease per key: (1) at most W × L of a key's allowance sits unspent in leases at a time (a burst
 * gets at least limit − W × L; the rest comes back within 250 ms); (2) once the table marks a key
 * mitigated, a worker that holds a lease on it still admits hits from it until it next hears from
 * the table about the key: at most L per worker (a renewal granted just before pays for what the old
 * lease spent since the ask), every one of them counted before the key went over. A worker gives
 * its lease back when it hears the key is over (the one whose hit put it over first), and answers
 * the key from its cache of holds from then.
 *
 * Once a key goes over, the table holds it mitigated until now + the rule's timeout; the worker
 * that asked learns `until` from the reply and from then answers that key itself, synchronously,
 * until `until` (a bounded cache); any other worker learns it on its next hit for the key. Only
 * the hit that put the key over is `fresh` (one per mitigation, node-wide), for logs and metrics.
 *
 * When the supervisor does not answer within `timeoutMs` (1 s), or a send fails, the hits are
 * decided by a `RateLimiter` in the worker (failing open to per-worker counting: a request never
 * waits more than that), counted in `fallbacks`, and for `backoffMs` after that the worker keeps
 * deciding locally, synchronously, rather than make every request wait out another timeout.
 * Hits the table counted but answered late stay counted there, which errs towards refusing; so do
 * the tokens of a lease granted in such a late answer, those of a lease whose renewal went
 * unanswered (whether the table took them back is not known, so they are neither spent nor sent),
 * and tokens that cannot be sent back. A lease held is still spent while the worker decides alone.
 *
 * `LocalLimits` is the same decision in one process: for a single-process edge, as the worker's
 * fallback and mitigation cache, and inside the table. A rule's table, once quiet for its period
 * and its timeout, holds nothing a fresh one would not (every TAT is in the past, every hold over),
 * so it is dropped then; `retain()` drops the tables of rules no longer configured at once.
 *
 * Keys longer than 64 characters (a header or cookie value) are counted by their SHA-256, so a
 * key costs at most 64 characters in a message and in every table.
 *
 * Wiring (the lead's): the shield calls `limits.hit(rule, key, now)`; the result is a decision
 * when the worker can decide alone (key known mitigated, supervisor unreachable, LocalLimits) and
 * a Promise otherwise: `const d = limits.hit(...); const decision = d instanceof Promise ? await d : d`.
 * The worker builds `new NodeLimits(send)` (its `now` option is the clock the shield passes to
 * `hit`, Date.now by default) where `send` carries a `NodeLimitMessage` over the cluster bus
 * (`limits.node`, src/cluster/bus.ts) and hands the reply to `onMessage`; `send` returns false
 * only when there is no channel. The supervisor serves `limits.node` from a `NodeLimitTable`,
 * whose `handle` answers synchronously (the `NodeLimitReply` is the call's result, or null when
 * the message only gave tokens back). `limitRule(config)` gives the rule's signature.
 *
 * Cost of leases, measured with `bench/attack.sh` idle (wrk -c64, one client key, 2 workers, a
 * limit of 1,000,000/s, a shared and noisy 2-CPU VM): about 1 hit in 150–190 is asked about (one
 * message and its reply per renewal) instead of every hit; the supervisor's CPU per request went
 * from 6–12 µs to about 2 µs (waking it costs far more than deciding); shield on / off (level
 * medium + the rule vs. nothing) went from 0.91× to 1.01× and 1.02× in two runs (0.78× and 1.18×
 * in two more while other jobs loaded the machine).
 *
 * Cost of the table, measured on a 2-CPU VM, Node 20, JSON IPC over `child_process.fork`, workers flooding
 * 1,000 hits per turn: `handle()` decides about 0.7–1 M hits/s when every hit is a new count
 * (50,000 keys), 4–5 M/s when most keys are already held; end to end (JSON both ways, workers
 * and supervisor on the same two cores) 0.52–0.58 M hits/s for 1–4 workers with new counts,
 * 0.8–1.4 M/s with held keys. With 4 workers each pushing 300,000 hits at once the supervisor
 * fell more than 1 s behind and one worker decided part of its hits alone (the fallback, as meant).
 */
import { createHash } from 'node:crypto';
import type { RateLimitConfig } from '../config/security-schema.js';
import type { LimitDecision, LimitRule, Limits } from './limit-types.js';
import { RateLimiter } from './rate-limit.js';
import { LEASE_MS, LeaseTable, leaseSize, type LeaseAsk } from './limit-leases.js';
import { decode, encode, leaseOf, readable, type LimitVerdict, type NodeLimitMessage, type NodeLimitReply } from './limit-messages.js';

export type { LimitDecision, LimitRule, Limits } from './limit-types.js';
export type { LimitVerdict, NodeLimitMessage, NodeLimitReply } from './limit-messages.js';

/** The signature the shield has always used: a reload that changes only timeout, action or status keeps the counts. */
export function limitRule(config: RateLimitConfig): LimitRule {
  const parts: unknown[] = [config.match, config.methods, config.key, config.requests, config.period];
  if (config.scope === 'global') parts.push('global');
  const rule: LimitRule = { signature: JSON.stringify(parts), requests: config.requests, periodMs: config.period, timeoutMs: config.timeout };
  if (config.scope === 'global') rule.global = { onRedisError: config.onRedisError };
  return rule;
}

const MAX_KEY = 64;

/** The key as counted: long ones by their hash (deterministic, so every worker agrees). */
export function countedKey(key: string): string {
  return key.length <= MAX_KEY ? key : `#${createHash('sha256').update(key).digest('base64url')}`;
}

/** How often quiet rule tables are looked for (by the callers' clock). */
const SWEEP_MS = 10_000;

/** The decision in one process: one RateLimiter per rule signature. */
export class LocalLimits implements Limits {
  private readonly tables = new Map<string, { limiter: RateLimiter; quietAt: number }>();
  /** The time of the call being served: the limiters' clock is the caller's `now`. */
  private clock = 0;
  private nextSweep = 0;

  /** `maxKeys` bounds each rule's tracked keys, and separately its mitigated keys. */
  constructor(private readonly maxKeys = 100_000) {}

  hit(rule: LimitRule, key: string, now: number): LimitDecision {
    key = countedKey(key);
    const table = this.table(rule, now);
    const held = table.limiter.mitigated(key);
    if (held !== undefined) return { allowed: false, until: held, retryAfterMs: held - now, fresh: false };
    const r = table.limiter.hit(key);
    table.quietAt = Math.max(table.quietAt, now + rule.periodMs);
    if (r.allowed) return { allowed: true, remaining: r.remaining, resetMs: r.resetMs };
    const until = now + rule.timeoutMs;
    table.limiter.mitigate(key, until);
    table.quietAt = Math.max(table.quietAt, until);
    return { allowed: false, until, retryAfterMs: Math.max(r.retryAfterMs, rule.timeoutMs), fresh: true };
  }

  /** Until when `key` is held mitigated under `rule`, or undefined. Throws RangeError for a rule RateLimiter refuses. */
  held(rule: LimitRule, key: string, now: number): number | undefined {
    return this.table(rule, now).limiter.mitigated(countedKey(key));
  }

  /** Takes `n` more of `key`'s allowance when they fit (a lease): true when taken. Never mitigates. */
  take(rule: LimitRule, key: string, n: number, now: number): boolean {
    const table = this.table(rule, now);
    if (!table.limiter.hit(countedKey(key), n).allowed) return false;
    table.quietAt = Math.max(table.quietAt, now + rule.periodMs);
    return true;
  }

  /** Gives back `n` of `key`'s allowance taken and not spent; nothing when the rule has no table (its counts are gone). */
  credit(rule: LimitRule, key: string, n: number, now: number): void {
    const table = this.tables.get(rule.signature);
    if (!table || table.limiter.requests !== rule.requests || table.limiter.periodMs !== rule.periodMs) return;
    this.clock = now;
    table.limiter.refund(countedKey(key), n);
  }

  /** Holds `key` mitigated under `rule` until `until` (nothing when that is not after `now`). */
  hold(rule: LimitRule, key: string, until: number, now: number): void {
    const table = this.table(rule, now);
    table.limiter.mitigate(countedKey(key), until);
    table.quietAt = Math.max(table.quietAt, until);
  }

  retain(signatures: Set<string>): void {
    for (const signature of this.tables.keys()) if (!signatures.has(signature)) this.tables.delete(signature);
  }

  /** Rules with a table. */
  get size(): number {
    return this.tables.size;
  }

  /** Keys counted under a rule (at most maxKeys). */
  keys(signature: string): number {
    return this.tables.get(signature)?.limiter.size ?? 0;
  }

  private table(rule: LimitRule, now: number) {
    this.clock = now;
    if (now >= this.nextSweep) this.sweep(now);
    let table = this.tables.get(rule.signature);
    // A signature that now means other numbers (it should not): start that rule over.
    if (!table || table.limiter.requests !== rule.requests || table.limiter.periodMs !== rule.periodMs) {
      const limiter = new RateLimiter({ requests: rule.requests, periodMs: rule.periodMs, maxKeys: this.maxKeys, now: () => this.clock });
      this.tables.set(rule.signature, (table = { limiter, quietAt: now }));
    }
    return table;
  }

  /** Drops the tables that hold nothing a fresh one would not. */
  private sweep(now: number): void {
    this.nextSweep = now + SWEEP_MS;
    for (const [signature, table] of this.tables) if (now >= table.quietAt) this.tables.delete(signature);
  }
}

export interface NodeLimitsOptions {
  /** How long a worker waits for the supervisor before it decides alone. Default 1000. */
  timeoutMs?: number;
  /** How long it then keeps deciding alone before it asks again. Default 1000. */
  backoffMs?: number;
  /** Hits per message. Default 1000. */
  maxBatch?: number;
  /** Bound on the fallback's keys, and on cached mitigations, per rule. Default 100_000. */
  maxKeys?: number;
  /** Bound on leases held (the oldest goes back first). Default 10_000. */
  maxLeases?: number;
  /** The clock the hits are given on, read when a quiet worker gives expired leases back. Default Date.now. */
  now?: () => number;
}

interface Queued {
  rule: LimitRule;
  key: string;
  now: number;
  resolve: (d: LimitDecision) => void;
  /** The lease this hit asks for, if it asks. */
  lease: LeaseAsk | undefined;
}

/** A worker's side: hits go to the supervisor's table, or spend a lease; mitigations it learned are answered here. */
export class NodeLimits implements Limits {
  /** The fallback counter, and the cache of mitigated keys (its holds). */
  private readonly local: LocalLimits;
  private readonly leases: LeaseTable;
  private queue: Queued[] = [];
  /** Unspent lease tokens to give back with the next message. */
  private returns: [LimitRule, string, number][] = [];
  private scheduled = false;
  /** Gives back the leases of a quiet worker once they expire. */
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;
  private readonly waiting = new Map<number, { batch: Queued[]; timer: NodeJS.Timeout }>();
  private seq = 0;
  private degraded = false;
  private readonly timeoutMs: number;
  private readonly backoffMs: number;
  private readonly maxBatch: number;
  /** Hits decided in this worker because the supervisor did not answer in time or could not be sent to. */
  fallbacks = 0;
  /** Messages sent to the supervisor. */
  batches = 0;

  constructor(
    private readonly send: (m: NodeLimitMessage) => boolean,
    options: NodeLimitsOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.backoffMs = options.backoffMs ?? 1000;
    this.maxBatch = options.maxBatch ?? 1000;
    this.local = new LocalLimits(options.maxKeys);
    this.clock = options.now ?? Date.now;
    // Tokens back go with the next turn's message (alone if no hit comes), so they are not stuck here.
    this.leases = new LeaseTable((rule, key, tokens) => {
      this.returns.push([rule, key, tokens]);
      this.schedule();
    }, options.maxLeases);
  }

  hit(rule: LimitRule, key: string, now: number): LimitDecision | Promise<LimitDecision> {
    key = countedKey(key);
    const held = this.local.held(rule, key, now); // also refuses a bad rule here, not in the supervisor
    if (held !== undefined) return { allowed: false, until: held, retryAfterMs: held - now, fresh: false };
    const leased = this.leases.spend(rule, key, now);
    if (leased) return leased;
    if (this.degraded) {
      this.fallbacks++;
      return this.local.hit(rule, key, now);
    }
    const lease = this.leases.ask(rule, key, now);
    return new Promise((resolve) => {
      this.queue.push({ rule, key, now, resolve, lease });
      this.schedule();
    });
  }

  retain(signatures: Set<string>): void {
    this.local.retain(signatures);
    this.leases.retain(signatures);
  }

  /** Leases held, and asks for one not answered yet (at most `maxLeases`). */
  get leased(): number {
    return this.leases.size;
  }

  /** Feeds the supervisor's messages in; true when the message was one of ours. */
  onMessage(m: unknown): boolean {
    if ((m as { type?: unknown } | null)?.type !== 'outpost:limit-verdicts') return false;
    const reply = m as NodeLimitReply;
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return true; // late: its hits were decided here already
    this.waiting.delete(reply.id);
    clearTimeout(waiting.timer);
    const { batch } = waiting;
    const verdicts = Array.isArray(reply.verdicts) && reply.verdicts.length === batch.length ? reply.verdicts : [];
    batch.forEach((q, i) => {
      const d = decode(verdicts[i]);
      if (!d) {
        this.decideHere(q);
        return;
      }
      if (q.lease) {
        const tokens = d.allowed ? leaseOf(verdicts[i], q.rule) : 0;
        if (d.allowed && tokens > 0) {
          this.leases.granted(q.lease, q.now, tokens, d.remaining, d.resetMs);
          this.arm();
        } else this.leases.declined(q.lease);
      }
      if (!d.allowed) {
        // Over at the node: what this worker still holds of the key goes back, and the hold is cached.
        this.leases.drop(q.rule, q.key);
        this.local.hold(q.rule, q.key, d.until, q.now);
      }
      q.resolve(d);
    });
    return true;
  }

  /** Hits waiting for a reply or for the next turn. */
  get pending(): number {
    let n = this.queue.length;
    for (const w of this.waiting.values()) n += w.batch.length;
    return n;
  }

  /** While leases are held, every LEASE_MS the expired ones go back, hits or not. */
  private arm(): void {
    if (this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      this.leases.sweep(this.clock());
      if (this.leases.size > 0) this.arm();
    }, LEASE_MS);
    this.idleTimer.unref();
  }

  /** One message per event-loop turn. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const { queue, returns } = this;
    this.queue = [];
    this.returns = [];
    for (let i = 0; i < queue.length || i < returns.length; i += this.maxBatch) {
      this.ask(queue.slice(i, i + this.maxBatch), returns.slice(i, i + this.maxBatch));
    }
  }

  private ask(batch: Queued[], returns: [LimitRule, string, number][]): void {
    // Tokens that cannot be given back stay counted: that errs towards refusing, for one period.
    if (this.degraded) {
      for (const q of batch) this.decideHere(q);
      return;
    }
    const index = new Map<string, number>();
    const m: NodeLimitMessage = { type: 'outpost:limit-hits', id: ++this.seq, rules: [], ruleIndex: [], keys: [] };
    const ruleAt = (rule: LimitRule): number => {
      let i = index.get(rule.signature);
      if (i === undefined) {
        index.set(rule.signature, (i = m.rules.length));
        m.rules.push([rule.signature, rule.requests, rule.periodMs, rule.timeoutMs]);
      }
      return i;
    };
    batch.forEach(({ rule, key, lease }, i) => {
      m.ruleIndex.push(ruleAt(rule));
      m.keys.push(key);
      if (lease) (m.leases ??= []).push([i, lease.held]);
    });
    if (returns.length > 0) m.returned = returns.map(([rule, key, tokens]) => [ruleAt(rule), key, tokens]);
    let sent: boolean;
    try {
      sent = this.send(m) !== false;
    } catch {
      sent = false;
    }
    if (!sent) {
      this.degrade();
      for (const q of batch) this.decideHere(q);
      return;
    }
    this.batches++;
    if (batch.length === 0) return; // only tokens back: no reply comes
    const timer = setTimeout(() => {
      this.waiting.delete(m.id);
      this.degrade();
      for (const q of batch) this.decideHere(q);
    }, this.timeoutMs);
    timer.unref();
    this.waiting.set(m.id, { batch, timer });
  }

  private decideHere(q: Queued): void {
    if (q.lease) this.leases.abandoned(q.lease);
    this.fallbacks++;
    q.resolve(this.local.hit(q.rule, q.key, q.now));
  }

  private degrade(): void {
    if (this.degraded) return;
    this.degraded = true;
    setTimeout(() => {
      this.degraded = false;
    }, this.backoffMs).unref();
  }
}

/**
 * The supervisor's side: the node's only count, decided on the supervisor's clock. Per worker it
 * keeps only when it last heard from it (a hit, once counted, stays counted when its worker dies,
 * and so do the tokens of its leases), so a message it cannot read is dropped and its worker
 * falls back after its timeout.
 */
export class NodeLimitTable {
  private readonly limits: LocalLimits;
  private readonly now: () => number;
  /** When each worker last sent: the ones heard from in the last second are the ones that may hold leases. */
  private readonly heard = new Map<number, number>();

  constructor(
    private readonly reply: (workerId: number, m: NodeLimitReply) => void,
    options: { maxKeys?: number; now?: () => number } = {},
  ) {
    this.limits = new LocalLimits(options.maxKeys);
    this.now = options.now ?? Date.now;
  }

  handle(workerId: number, m: NodeLimitMessage): void {
    if (!readable(m)) return;
    const rules = m.rules.map(([signature, requests, periodMs, timeoutMs]): LimitRule => ({ signature, requests, periodMs, timeoutMs }));
    const now = this.now();
    this.heard.set(workerId, now);
    let verdicts: LimitVerdict[];
    try {
      // Tokens back first: a hit in the same message may use them.
      for (const [r, key, tokens] of m.returned ?? []) this.limits.credit(rules[r], key, Math.min(tokens, leaseSize(rules[r])), now);
      const asks = m.leases && m.leases.length > 0 ? new Map(m.leases) : undefined;
      let workers = 0;
      verdicts = m.keys.map((key, i): LimitVerdict => {
        const rule = rules[m.ruleIndex[i]];
        const d = this.limits.hit(rule, key, now);
        const held = asks?.get(i);
        if (!d.allowed || held === undefined) return encode(d);
        // A lease only far from the limit: every worker could hold one and as much again is left.
        const n = leaseSize(rule);
        if (n === 0 || d.remaining < 2 * (workers ||= this.workers(now)) * n) return encode(d);
        // The new lease replaces the worker's current one: what that still held comes back first.
        this.limits.credit(rule, key, Math.min(held, n), now);
        if (!this.limits.take(rule, key, n, now)) return encode(d);
        return [1, d.remaining, d.resetMs, n];
      });
    } catch {
      return; // a rule RateLimiter refuses (the worker refuses it first; this is the backstop)
    }
    if (m.keys.length > 0) this.reply(workerId, { type: 'outpost:limit-verdicts', id: m.id, verdicts });
  }

  /**
   * Forgets the worker for the lease threshold. Its counts stay: they belong to keys, and the
   * tokens of its leases stay spent (erring towards refusing, for one period at most).
   */
  workerGone(workerId: number): void {
    this.heard.delete(workerId);
  }

  /** Drops the tables of rules no longer configured (quiet ones go on their own). */
  retain(signatures: Set<string>): void {
    this.limits.retain(signatures);
  }

  /** Rules with a table. */
  get size(): number {
    return this.limits.size;
  }

  /** Keys counted under a rule. */
  keys(signature: string): number {
    return this.limits.keys(signature);
  }

  /**
   * Workers heard from in the last second (at least 1). A lease is asked for in a message and
   * lives 250 ms at most from the hit that asked, so every worker that can hold one is counted.
   */
  private workers(now: number): number {
    for (const [id, at] of this.heard) if (now - at > HEARD_MS) this.heard.delete(id);
    return Math.max(1, this.heard.size);
  }
}

const HEARD_MS = 1000;
