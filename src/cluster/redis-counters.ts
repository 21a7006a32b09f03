/**
 * Global rate-limit counting across PoPs (`scope: global`, issue 15 item 4): one atomic Lua script
 * per counted hit does GCRA (rate-limit.ts explains the algorithm) on Redis' own clock, so every
 * PoP counts against one theoretical arrival time (TAT) per key whatever its own clock says.
 *
 * One hash per rule and key, `<prefix>rl:<rule>:<key>` { s: stamp ms, a: units ahead, h: held
 * until ms }, expiring (PX) when its TAT and its hold are both past, so an idle key costs nothing.
 * Time is counted in units of 1/requests ms, as RateLimiter does, and relative to the stamp, so
 * every number stays an exact integer in Lua's doubles and 10 per 10 s lets exactly 10 through.
 * The hit that puts a key over sets the hold (now + the rule's timeout) in the same script: only
 * that hit is `fresh`, across all PoPs.
 *
 * Cost: one EVALSHA per counted hit (the first after a Redis restart also an EVAL); a key this PoP
 * knows is held is answered here until its hold ends, with no command, so an attack on one key
 * costs Redis one command per PoP, not one per request. Commands of one event-loop turn leave in
 * one write (auto-pipelining).
 *
 * While Redis is slow or down (a missed 250 ms deadline, or the breaker open), `onRedisError`
 * decides: 'local' (default) counts in this PoP alone at ⌊limit ÷ pops⌋ (at least 1) per period,
 * so all PoPs together stay near the limit; 'allow' lets the hit through. Counted in `fallbacks`.
 */
import { createHash } from 'node:crypto';
import { countedKey, LocalLimits, type LimitDecision, type LimitRule, type Limits } from '../shield/node-limits.js';
import type { RedisLink } from './redis-link.js';

/**
 * KEYS[1] the key's hash; ARGV periodMs, requests (positive integers), timeoutMs (0: no hold).
 * Returns {1, remaining, resetMs, 0} when allowed; {0, heldMs, retryAfterMs, fresh} when not.
 */
const GCRA = `
if redis.replicate_commands then redis.replicate_commands() end -- TIME before writes (Redis < 5)
local period = tonumber(ARGV[1])
local requests = tonumber(ARGV[2])
local timeout = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local st = redis.call('HMGET', KEYS[1], 's', 'a', 'h')
local held = tonumber(st[3])
if held and held > now then
  return {0, held - now, held - now, 0}
end
local window = period * requests
local ahead = 0
if st[1] then
  ahead = tonumber(st[2]) - (now - tonumber(st[1])) * requests
  if ahead < 0 then ahead = 0 end
  if ahead > window then ahead = window end
end
local nxt = ahead + period
if nxt <= window then
  redis.call('HSET', KEYS[1], 's', now, 'a', nxt)
  redis.call('HDEL', KEYS[1], 'h')
  redis.call('PEXPIRE', KEYS[1], math.ceil(nxt / requests) + 1)
  return {1, math.floor((window - nxt) / period), math.ceil(nxt / requests), 0}
end
redis.call('HSET', KEYS[1], 's', now, 'a', ahead, 'h', now + timeout)
redis.call('PEXPIRE', KEYS[1], math.max(timeout, math.ceil(ahead / requests)) + 1)
local retry = math.ceil((nxt - window) / requests)
if retry < 1 then retry = 1 end
return {0, timeout, retry, 1}`;

export interface RedisCountersOptions {
  /** The connection (RedisCluster's `link`, or a RedisLink of its own). */
  link: RedisLink;
  /** Default `outpost:`. */
  prefix?: string;
  /** PoPs sharing the limit (or how many are heard from now): the local fallback allows ⌊limit ÷ pops⌋. */
  pops: number | (() => number);
  /** What a hit gets while Redis does not answer. Default 'local'. */
  onRedisError?: 'local' | 'allow';
  /** Bound on keys per rule in the local tables. Default 100,000. */
  maxKeys?: number;
}

export class RedisCounters implements Limits {
  private readonly link: RedisLink;
  private readonly prefix: string;
  private readonly popsNow: () => number;
  private readonly onRedisError: 'local' | 'allow';
  /** Keys this PoP learned are held (answered here until the hold ends). */
  private readonly holds: LocalLimits;
  /** The fallback count, per rule at limit ÷ pops. */
  private readonly local: LocalLimits;
  private readonly ruleIds = new Map<string, string>();
  /** Hits answered without Redis because it failed or the breaker was open. */
  fallbacks = 0;
  /** Hits sent to Redis. */
  counted = 0;

  constructor(options: RedisCountersOptions) {
    const pops = options.pops;
    if (typeof pops === 'number' && (!Number.isInteger(pops) || pops < 1)) throw new RangeError(`pops must be a positive integer, got ${pops}`);
    this.link = options.link;
    this.prefix = options.prefix ?? 'outpost:';
    this.popsNow = typeof pops === 'number' ? () => pops : () => Math.max(1, Math.floor(pops()));
    this.onRedisError = options.onRedisError ?? 'local';
    this.holds = new LocalLimits(options.maxKeys);
    this.local = new LocalLimits(options.maxKeys);
  }

  hit(rule: LimitRule, key: string, now: number): LimitDecision | Promise<LimitDecision> {
    if (![rule.requests, rule.periodMs].every((n) => Number.isInteger(n) && n >= 1) || !Number.isInteger(rule.timeoutMs) || rule.timeoutMs < 0) {
      throw new RangeError(`a global rate limit counts whole requests and ms: got ${rule.requests} per ${rule.periodMs} ms, timeout ${rule.timeoutMs} ms`);
    }
    key = countedKey(key);
    const held = this.holds.held(rule, key, now);
    if (held !== undefined) return { allowed: false, until: held, retryAfterMs: held - now, fresh: false };
    this.counted++;
    const redisKey = `${this.prefix}rl:${this.ruleId(rule)}:${key}`;
    return this.link
      .script<number[] | null>(GCRA, [redisKey], [rule.periodMs, rule.requests, rule.timeoutMs], () => null)
      .then((r) => (r ? this.decided(rule, key, now, r) : this.fallback(rule, key, now)));
  }

  retain(signatures: Set<string>): void {
    this.holds.retain(signatures);
    this.local.retain(new Set([...signatures].map((s) => this.scaled(s))));
    for (const s of this.ruleIds.keys()) if (!signatures.has(s)) this.ruleIds.delete(s);
  }

  private decided(rule: LimitRule, key: string, now: number, [allowed, a, b, fresh]: number[]): LimitDecision {
    if (allowed === 1) return { allowed: true, remaining: a, resetMs: b };
    const until = now + a;
    this.holds.hold(rule, key, until, now);
    return fresh === 1 ? { allowed: false, until, retryAfterMs: Math.max(b, rule.timeoutMs), fresh: true } : { allowed: false, until, retryAfterMs: a, fresh: false };
  }

  private fallback(rule: LimitRule, key: string, now: number): LimitDecision {
    this.counted--;
    this.fallbacks++;
    if (this.onRedisError === 'allow') return { allowed: true, remaining: rule.requests, resetMs: 0 };
    const pops = this.popsNow();
    const share = { ...rule, signature: this.scaled(rule.signature, pops), requests: Math.max(1, Math.floor(rule.requests / pops)) };
    return this.local.hit(share, key, now);
  }

  private scaled(signature: string, pops = this.popsNow()): string {
    return `${signature}\u0000/${pops}`;
  }

  /** A short stable id for a rule's signature (it may be long JSON): the same on every PoP. */
  private ruleId(rule: LimitRule): string {
    let id = this.ruleIds.get(rule.signature);
    if (!id) this.ruleIds.set(rule.signature, (id = createHash('sha256').update(rule.signature).digest('hex').slice(0, 16)));
    return id;
  }
}
