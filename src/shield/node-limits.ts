/**
 * Rate-limit counts shared by all the node's workers: a limit of 100 is 100 per PoP, not per
 * worker, and each rule counts on its own.
 *
 * The supervisor keeps the only count (`NodeLimitTable`: per rule one GCRA `RateLimiter`, so
 * O(1) memory per key and at most `maxKeys` keys per rule). A worker (`NodeLimits`) asks it about
 * every counted hit: one IPC round trip per hit, batched per event-loop turn, so a busy worker
 * sends one message per turn with all its hits (at most 1,000; more are split) and the supervisor
 * answers each message with one. Nothing is leased to workers, so the count is exact however a
 * client's requests are spread, and a client that only reaches one worker gets the whole limit.
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
 * Hits the table counted but answered late stay counted there, which errs towards refusing.
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
 * The worker builds `new NodeLimits(send)` and feeds every message to `onMessage` first, where
 * `send` returns false only when there is no channel: `process.send()` also returns false when
 * its write queue is merely long (over 128 KiB), yet still sends, so use
 * `(m) => { if (!process.connected) return false; process.send!(m); return true; }`.
 * The supervisor builds `new NodeLimitTable((id, m) => worker(id).send(m))`, hands it each
 * `outpost:limit-hits` (`NodeLimitMessage`) and calls `workerGone` on exit; the reply is
 * `outpost:limit-verdicts` (`NodeLimitReply`). `limitRule(config)` gives the rule's signature.
 *
 * Cost, measured on a 2-CPU VM, Node 20, JSON IPC over `child_process.fork`, workers flooding
 * 1,000 hits per turn: `handle()` decides about 0.7–1 M hits/s when every hit is a new count
 * (50,000 keys), 4–5 M/s when most keys are already held; end to end (JSON both ways, workers
 * and supervisor on the same two cores) 0.52–0.58 M hits/s for 1–4 workers with new counts,
 * 0.8–1.4 M/s with held keys. With 4 workers each pushing 300,000 hits at once the supervisor
 * fell more than 1 s behind and one worker decided part of its hits alone (the fallback, as meant).
 */
import { createHash } from 'node:crypto';
import type { RateLimitConfig } from '../config/security-schema.js';
import { RateLimiter } from './rate-limit.js';

/** One rate-limit rule as the counters see it. */
export interface LimitRule {
  /** Identifies the rule across reloads: a reload that keeps it keeps its counts. */
  signature: string;
  requests: number;
  periodMs: number;
  /** How long a key that went over stays mitigated. */
  timeoutMs: number;
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

/** Worker → supervisor: the hits a worker counted in one event-loop turn (at most 1,000). */
export interface NodeLimitMessage {
  type: 'outpost:limit-hits';
  id: number;
  /** The rules the hits refer to, each once. */
  rules: [signature: string, requests: number, periodMs: number, timeoutMs: number][];
  /** Per hit, as parallel arrays (smaller JSON): the index of its rule in `rules`, its key. */
  ruleIndex: number[];
  keys: string[];
}

/** One hit's decision, as a short tuple (1,000 of them per message). */
export type LimitVerdict = [allowed: 1, remaining: number, resetMs: number] | [allowed: 0, until: number, retryAfterMs: number, fresh: 0 | 1];

/** Supervisor → worker: the decisions for one `NodeLimitMessage`, in its order. */
export interface NodeLimitReply {
  type: 'outpost:limit-verdicts';
  id: number;
  verdicts: LimitVerdict[];
}

/** The signature the shield has always used: a reload that changes only timeout, action or status keeps the counts. */
export function limitRule(config: RateLimitConfig): LimitRule {
  const signature = JSON.stringify([config.match, config.methods, config.key, config.requests, config.period]);
  return { signature, requests: config.requests, periodMs: config.period, timeoutMs: config.timeout };
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
}

interface Queued {
  rule: LimitRule;
  key: string;
  now: number;
  resolve: (d: LimitDecision) => void;
}

/** A worker's side: hits go to the supervisor's table; mitigations it learned are answered here. */
export class NodeLimits implements Limits {
  /** The fallback counter, and the cache of mitigated keys (its holds). */
  private readonly local: LocalLimits;
  private queue: Queued[] = [];
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
  }

  hit(rule: LimitRule, key: string, now: number): LimitDecision | Promise<LimitDecision> {
    key = countedKey(key);
    const held = this.local.held(rule, key, now); // also refuses a bad rule here, not in the supervisor
    if (held !== undefined) return { allowed: false, until: held, retryAfterMs: held - now, fresh: false };
    if (this.degraded) {
      this.fallbacks++;
      return this.local.hit(rule, key, now);
    }
    return new Promise((resolve) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ rule, key, now, resolve });
    });
  }

  retain(signatures: Set<string>): void {
    this.local.retain(signatures);
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
      if (!d) return this.decideHere(q);
      if (!d.allowed) this.local.hold(q.rule, q.key, d.until, q.now);
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

  private flush(): void {
    const queue = this.queue;
    this.queue = [];
    for (let i = 0; i < queue.length; i += this.maxBatch) this.ask(queue.slice(i, i + this.maxBatch));
  }

  private ask(batch: Queued[]): void {
    if (this.degraded) return batch.forEach((q) => this.decideHere(q));
    const index = new Map<string, number>();
    const m: NodeLimitMessage = { type: 'outpost:limit-hits', id: ++this.seq, rules: [], ruleIndex: [], keys: [] };
    for (const { rule, key } of batch) {
      let i = index.get(rule.signature);
      if (i === undefined) {
        index.set(rule.signature, (i = m.rules.length));
        m.rules.push([rule.signature, rule.requests, rule.periodMs, rule.timeoutMs]);
      }
      m.ruleIndex.push(i);
      m.keys.push(key);
    }
    let sent: boolean;
    try {
      sent = this.send(m) !== false;
    } catch {
      sent = false;
    }
    if (!sent) {
      this.degrade();
      return batch.forEach((q) => this.decideHere(q));
    }
    this.batches++;
    const timer = setTimeout(() => {
      this.waiting.delete(m.id);
      this.degrade();
      batch.forEach((q) => this.decideHere(q));
    }, this.timeoutMs);
    timer.unref();
    this.waiting.set(m.id, { batch, timer });
  }

  private decideHere(q: Queued): void {
    this.fallbacks++;
    q.resolve(this.local.hit(q.rule, q.key, q.now));
  }

  private degrade(): void {
    if (this.degraded) return;
    this.degraded = true;
    setTimeout(() => { this.degraded = false; }, this.backoffMs).unref();
  }
}

function decode(v: LimitVerdict | undefined): LimitDecision | undefined {
  if (!Array.isArray(v)) return undefined;
  if (v[0] === 1 && v.length === 3) return { allowed: true, remaining: v[1], resetMs: v[2] };
  if (v[0] === 0 && v.length === 4) return { allowed: false, until: v[1], retryAfterMs: v[2], fresh: v[3] === 1 };
  return undefined;
}

function encode(d: LimitDecision): LimitVerdict {
  return d.allowed ? [1, d.remaining, d.resetMs] : [0, d.until, d.retryAfterMs, d.fresh ? 1 : 0];
}

/**
 * The supervisor's side: the node's only count, decided on the supervisor's clock. It keeps
 * nothing per worker (a hit, once counted, stays counted when its worker dies), so a message it
 * cannot read is dropped and its worker falls back after its timeout.
 */
export class NodeLimitTable {
  private readonly limits: LocalLimits;
  private readonly now: () => number;

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
    let verdicts: LimitVerdict[];
    try {
      verdicts = m.keys.map((key, i) => encode(this.limits.hit(rules[m.ruleIndex[i]], key, now)));
    } catch {
      return; // a rule RateLimiter refuses (the worker refuses it first; this is the backstop)
    }
    this.reply(workerId, { type: 'outpost:limit-verdicts', id: m.id, verdicts });
  }

  /** Nothing to release: counts belong to keys, not to workers. */
  workerGone(_workerId: number): void {}

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
}

function readable(m: NodeLimitMessage): boolean {
  if (m?.type !== 'outpost:limit-hits' || typeof m.id !== 'number') return false;
  if (!Array.isArray(m.rules) || !Array.isArray(m.ruleIndex) || !Array.isArray(m.keys) || m.ruleIndex.length !== m.keys.length) return false;
  const ruleOk = (r: unknown) => Array.isArray(r) && typeof r[0] === 'string' && typeof r[1] === 'number' && typeof r[2] === 'number' && typeof r[3] === 'number';
  return m.rules.every(ruleOk) && m.keys.every((k) => typeof k === 'string') && m.ruleIndex.every((i) => Number.isInteger(i) && i >= 0 && i < m.rules.length);
}
