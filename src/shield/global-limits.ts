/**
 * Rate-limit rules with `scope: global`: counted across every PoP (docs/cluster.md).
 *
 *   worker ── bus call `limits.global` ──▶ supervisor ── one Lua script (GCRA) ──▶ Redis
 *
 * The supervisor answers from RedisCounters (cluster/redis-counters.ts) when the node has
 * `cluster.redis`, else from one count for the whole node (a global rule is then as wide as the
 * edge is: this node). While Redis is slow or down the rule's `onRedisError` decides: `local`
 * counts at this PoP alone at limit ÷ the PoPs heard from, `allow` lets the request through.
 * A worker that cannot reach its supervisor within the deadline counts alone, at the full limit,
 * as pop-scoped rules do (node-limits.ts).
 *
 * Cost: one IPC round trip and one Redis command per counted hit on a global rule (a key known
 * held is answered by the supervisor without Redis): keep `scope: global` for the rules where a
 * count across PoPs matters (a login form, an expensive API), not for every request.
 */
import type { Hub, Spoke } from '../cluster/bus.js';
import type { RedisCluster } from '../cluster/redis.js';
import type { RedisCounters } from '../cluster/redis-counters.js';
import type { Cluster } from '../cluster/types.js';
import { LocalLimits, type LimitDecision, type LimitRule, type Limits } from './node-limits.js';

/** Longest a counted hit waits for the supervisor (which itself waits at most 250 ms for Redis). */
const CALL_MS = 400;

/** A worker's global counts: asked of the supervisor over the bus. */
export class BusLimits implements Limits {
  private readonly alone = new LocalLimits();

  constructor(private readonly spoke: Spoke) {}

  hit(rule: LimitRule, key: string, now: number): Promise<LimitDecision> {
    return this.spoke.call<LimitDecision>('limits.global', { rule, key }, CALL_MS).catch(() => this.alone.hit(rule, key, now));
  }

  retain(signatures: Set<string>): void {
    this.alone.retain(signatures);
  }
}

/** The supervisor's side: serves `limits.global` from Redis, or from the node's own count. */
export function serveGlobalLimits(hub: Hub, state: Cluster, pops: () => number): void {
  const redis = 'counters' in state ? (state as RedisCluster) : undefined;
  const byFallback = new Map<'local' | 'allow', RedisCounters>();
  const node = new LocalLimits();
  const countersFor = (onRedisError: 'local' | 'allow'): Limits => {
    if (!redis) return node;
    let c = byFallback.get(onRedisError);
    if (!c) byFallback.set(onRedisError, (c = redis.counters({ pops, onRedisError })));
    return c;
  };
  hub.serve('limits.global', (data) => {
    const { rule, key } = data as { rule: LimitRule; key: string };
    return countersFor(rule.global?.onRedisError ?? 'local').hit(rule, key, Date.now());
  });
}
