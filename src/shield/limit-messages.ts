/**
 * The IPC protocol of the node's rate-limit counts (node-limits.ts): the messages between a
 * worker's `NodeLimits` and the supervisor's `NodeLimitTable`, as short JSON (parallel arrays and
 * tuples: a busy worker sends up to 1,000 hits a message), and their checks.
 */
import type { LimitDecision, LimitRule } from './limit-types.js';
import { leaseSize } from './limit-leases.js';

/**
 * Worker → supervisor: the hits a worker counted in one event-loop turn (at most 1,000), and the
 * unspent tokens of leases that ended. A message with no hits (only tokens back) gets no reply.
 */
export interface NodeLimitMessage {
  type: 'outpost:limit-hits';
  id: number;
  /** The rules the hits and returns refer to, each once. */
  rules: [signature: string, requests: number, periodMs: number, timeoutMs: number][];
  /** Per hit, as parallel arrays (smaller JSON): the index of its rule in `rules`, its key. */
  ruleIndex: number[];
  keys: string[];
  /**
   * The hits (positions in `keys`) that ask for a lease, each with the tokens its worker holds of
   * the key's current lease (0 for none): the table takes them back only if it grants a new one.
   */
  leases?: [hit: number, held: number][];
  /** Unspent lease tokens given back, at most 1,000 per message. */
  returned?: [ruleIndex: number, key: string, tokens: number][];
}

/** One hit's decision, as a short tuple (1,000 of them per message); `lease`: tokens leased with it. */
export type LimitVerdict =
  | [allowed: 1, remaining: number, resetMs: number]
  | [allowed: 1, remaining: number, resetMs: number, lease: number]
  | [allowed: 0, until: number, retryAfterMs: number, fresh: 0 | 1];

/** Supervisor → worker: the decisions for one `NodeLimitMessage`, in its order. */
export interface NodeLimitReply {
  type: 'outpost:limit-verdicts';
  id: number;
  verdicts: LimitVerdict[];
}

/** A verdict as the worker reads it; undefined when it cannot. */
export function decode(v: LimitVerdict | undefined): LimitDecision | undefined {
  if (!Array.isArray(v)) return undefined;
  if (v[0] === 1 && (v.length === 3 || v.length === 4)) return { allowed: true, remaining: v[1], resetMs: v[2] };
  if (v[0] === 0 && v.length === 4) return { allowed: false, until: v[1], retryAfterMs: v[2], fresh: v[3] === 1 };
  return undefined;
}

/** The tokens leased with an allowed verdict: a whole number up to the rule's lease size, else none. */
export function leaseOf(v: LimitVerdict, rule: LimitRule): number {
  const n = v.length === 4 && v[0] === 1 ? v[3] : 0;
  return Number.isInteger(n) && n > 0 && n <= leaseSize(rule) ? n : 0;
}

/** A decision as the supervisor sends it (a lease is added by the table). */
export function encode(d: LimitDecision): LimitVerdict {
  return d.allowed ? [1, d.remaining, d.resetMs] : [0, d.until, d.retryAfterMs, d.fresh ? 1 : 0];
}

/** Whether a message from a worker has the shape `handle()` relies on (workers are trusted, but a bad message must not throw). */
export function readable(m: NodeLimitMessage): boolean {
  if (m?.type !== 'outpost:limit-hits' || typeof m.id !== 'number') return false;
  if (!Array.isArray(m.rules) || !Array.isArray(m.ruleIndex) || !Array.isArray(m.keys) || m.ruleIndex.length !== m.keys.length) return false;
  const ruleOk = (r: unknown) => Array.isArray(r) && typeof r[0] === 'string' && typeof r[1] === 'number' && typeof r[2] === 'number' && typeof r[3] === 'number';
  const rule = (i: unknown) => Number.isInteger(i) && (i as number) >= 0 && (i as number) < m.rules.length;
  const ask = (a: unknown) => Array.isArray(a) && Number.isInteger(a[0]) && a[0] >= 0 && a[0] < m.keys.length && Number.isInteger(a[1]) && a[1] >= 0;
  const back = (r: unknown) => Array.isArray(r) && rule(r[0]) && typeof r[1] === 'string' && Number.isInteger(r[2]) && r[2] > 0;
  if (m.leases !== undefined && !(Array.isArray(m.leases) && m.leases.every(ask))) return false;
  if (m.returned !== undefined && !(Array.isArray(m.returned) && m.returned.every(back))) return false;
  return m.rules.every(ruleOk) && m.keys.every((k) => typeof k === 'string') && m.ruleIndex.every(rule);
}
