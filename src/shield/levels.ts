/**
 * Security levels: what `security.level` (or a page rule's `securityLevel`) does with the signals
 * an edge sees without a reputation database: the client's request rate, its new-connection
 * bursts, and missing or odd browser headers. A level never blocks: it challenges, and a valid
 * clearance passes every level. Explicit IP rules and rate limits apply at every level, `off`
 * included.
 *
 * | level          | challenged (without a clearance)                                                   |
 * | -------------- | ---------------------------------------------------------------------------------- |
 * | `off`          | nothing                                                                            |
 * | `low`          | no User-Agent during a new-connection burst                                        |
 * | `medium`       | that, and navigations from a browser User-Agent without Accept or Accept-Language  |
 * |                | (every real browser sends both; scripts that pose as one often do not)             |
 * | `high`         | no User-Agent; a browser User-Agent without Accept or Accept-Language; any         |
 * |                | new-connection burst; over 300 requests in 10 s from one client                    |
 * | `under_attack` | every request: navigations get the interstitial, the rest 403 JSON                 |
 *
 * Rate enters only at `high`: at the default level a busy API client or an office behind one
 * NAT address must never meet a challenge it cannot solve. A client is an IPv4 address or an
 * IPv6 /64; the `high` count is kept per worker (a heuristic, unlike rate-limit rules, whose
 * counts hold across the node), GCRA with the whole 10 s as burst.
 */
import type { SECURITY_LEVELS } from '../config/cache-schema.js';
import { RateLimiter } from './rate-limit.js';

export type SecurityLevel = (typeof SECURITY_LEVELS)[number];

/** Requests per 10 s per client above which `high` challenges. */
export const HIGH_RATE = 300;

export interface LevelSignals {
  /** clientKey(ip) */
  client: string;
  /** A top-level browser navigation (challenge/endpoint.ts `isNavigation`). */
  navigation: boolean;
  userAgent: string | undefined;
  accept: string | undefined;
  acceptLanguage: string | undefined;
  /** The client opens connections faster than half its allowed rate (connection-gate.ts). */
  connectionBurst: boolean;
}

export class LevelCounters {
  private readonly high = new RateLimiter({ requests: HIGH_RATE, periodMs: 10_000 });

  /**
   * Why `level` challenges this request (`under-attack`, `rate`, `no-user-agent`, `odd-browser`,
   * `connection-burst`), or undefined when it passes.
   */
  verdict(level: SecurityLevel, s: LevelSignals): string | undefined {
    if (level === 'off') return undefined;
    if (level === 'under_attack') return 'under-attack';
    const noUa = !s.userAgent;
    if (noUa && s.connectionBurst) return 'no-user-agent';
    if (level === 'low') return undefined;
    const odd = !noUa && /^Mozilla\/5\.0 /.test(s.userAgent!) && (!s.accept || !s.acceptLanguage);
    if (level === 'medium') return odd && s.navigation ? 'odd-browser' : undefined;
    if (!this.high.hit(s.client).allowed) return 'rate';
    if (noUa) return 'no-user-agent';
    if (odd) return 'odd-browser';
    if (s.connectionBurst) return 'connection-burst';
    return undefined;
  }
}
