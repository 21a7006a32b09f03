/**
 * What the shield keeps: the rules compiled from a config (ShieldRules, part of the snapshot and
 * never changed after it is built) and the state that outlives a snapshot (ShieldState, the
 * process's). Apart from the phase (shield-phase.ts) so that the snapshot can hold the rules
 * without importing the request path.
 */
import type { RateLimitConfig, SecurityConfig } from '../config/security-schema.js';
import { firstMatch, type UrlParts } from '../router/url-pattern.js';
import { compileIpRules, needsGeo, type IpRuleMatcher } from './ip-rules.js';
import type { LimitRule, Limits } from './limit-types.js';
import { limitRule, LocalLimits } from './node-limits.js';
import { LevelCounters } from './levels.js';
import { challengeKey, type ChallengeRuntime } from './challenge/runtime.js';
import { MemoryReplayGuard } from './challenge/token.js';

/** What the shield compiles from a config, part of the snapshot: read only, never assigned into. */
export interface ShieldRules {
  security: SecurityConfig;
  ipRules: IpRuleMatcher;
  ipRulesNeedGeo: boolean;
  rateLimits: { index: number; config: RateLimitConfig; rule: LimitRule; matches: (url: UrlParts) => boolean; methods: Set<string> | undefined }[];
}

/**
 * The shield's state that outlives a config snapshot: rate-limit counts by rule signature (a
 * reload that keeps a rule keeps its counts), level counters, the replay guard, under-attack
 * mode, and the traffic counts the supervisor's detector reads.
 */
export class ShieldState {
  /** Rate-limit counts: in this process, or (a worker under a supervisor) the node's (node-limits.ts). */
  limits: Limits = new LocalLimits();
  /** Counts of `scope: global` rules (global-limits.ts); unset: counted as the others are. */
  globalLimits: Limits | undefined;
  readonly levels = new LevelCounters();
  readonly guard = new MemoryReplayGuard();
  /** Under-attack mode, as the supervisor (admin API, CLI, automatic detector) last said. */
  underAttack = false;
  /** Requests seen and requests mitigated by rules since the last report (under-attack challenges not counted). */
  requests = 0;
  mitigated = 0;
  /** Single use of challenge answers across the node's workers, when a supervisor runs them. */
  claimNode: ((nonce: string, expiresAt: number) => Promise<boolean>) | undefined;
  /** The challenge's runtime per challenge config (a reload makes a new one), made on first use: it needs the node secret. */
  private readonly challenges = new WeakMap<SecurityConfig['challenge'], ChallengeRuntime>();

  challengeFor(config: SecurityConfig['challenge'], nodeSecret: string): ChallengeRuntime {
    let rt = this.challenges.get(config);
    if (!rt) {
      rt = {
        key: challengeKey(config, nodeSecret),
        config,
        guard: this.guard,
        claimNode: (nonce, expiresAt) => this.claimNode?.(nonce, expiresAt) ?? Promise.resolve(true),
      };
      this.challenges.set(config, rt);
    }
    return rt;
  }

  compile(security: SecurityConfig): ShieldRules {
    const rateLimits = security.rateLimits.map((config, index) => {
      const m = firstMatch([{ match: config.match }]);
      return { index, config, rule: limitRule(config), matches: (url: UrlParts) => m(url) !== undefined, methods: config.methods ? new Set(config.methods) : undefined };
    });
    this.limits.retain(new Set(rateLimits.map((r) => r.rule.signature)));
    this.globalLimits?.retain(new Set(rateLimits.filter((r) => r.rule.global).map((r) => r.rule.signature)));
    return { security, ipRules: compileIpRules(security.ipRules), ipRulesNeedGeo: needsGeo(security.ipRules), rateLimits };
  }

  /** Takes the counts since the last call (the worker reports them every second). */
  takeTraffic(): { requests: number; mitigated: number } {
    const t = { requests: this.requests, mitigated: this.mitigated };
    this.requests = this.mitigated = 0;
    return t;
  }
}
