/**
 * The shield phase (after route). In order:
 *   1. the edge's challenge endpoint (/.outpost/challenge) answers solved challenges;
 *   2. verified paths (`/.well-known/*`, `/robots.txt`) and rules with `disableSecurity` pass;
 *   3. IP access rules: `allow` passes everything below, `block` 403, `challenge`;
 *   4. rate-limit rules, each counting on its own: `block` 429, `challenge`, `log`;
 *   5. the security level (under-attack mode when it is on and no page rule sets a level).
 * A challenge passes when the request carries a valid clearance; otherwise navigations get the
 * interstitial and everything else 403 JSON (challenge/endpoint.ts). Refusals carry
 * `x-outpost-mitigated`; rate-limited ones `Retry-After` and the IETF `RateLimit` headers.
 */
import type { Phase, RequestContext } from '../pipeline/context.js';
import { sendSimple } from '../pipeline/error-page.js';
import { portOf } from '../router/url-pattern.js';
import { readCookie } from '../balancer/affinity.js';
import { clientKey, rateLimitHeaders } from './rate-limit.js';
import type { LimitDecision } from './limit-types.js';
import { countAction } from './actions.js';
import type { ChallengeRuntime } from './challenge/runtime.js';
import { answerChallenge, CHALLENGE_PATH, cleared, isNavigation, sendChallenge } from './challenge/endpoint.js';
import type { ShieldRules } from './shield-state.js';

export { ShieldState, type ShieldRules } from './shield-state.js';

const VERIFIED = /^\/(\.well-known\/|robots\.txt(?:$|\?))/;

export const shield: Phase = {
  name: 'shield',
  run(ctx) {
    const rules = ctx.snapshot.shield;
    const state = ctx.edge.shield;
    state.requests++;
    if (ctx.path.startsWith(CHALLENGE_PATH) && (ctx.path.length === CHALLENGE_PATH.length || ctx.path[CHALLENGE_PATH.length] === '?')) {
      return answerChallenge(ctx, challengeOf(ctx));
    }
    if (ctx.rule?.disableSecurity || VERIFIED.test(ctx.path)) return false;
    const ip = ctx.clientIp;
    if (rules.ipRulesNeedGeo) ctx.client ??= ctx.edge.geo?.lookup(ip) ?? {};
    const m = rules.ipRules({ ip, country: ctx.client?.country, asn: ctx.client?.asn });
    if (m?.rule.action === 'allow') return false;
    if (m?.rule.action === 'block') {
      mitigate(ctx, 'block', 403, `ip-rule-${m.index}`, []);
      return true;
    }
    if (m) return challenge(ctx, `ip-rule-${m.index}`, true);
    if (rules.rateLimits.length > 0) {
      const limited = rateLimited(ctx, rules, 0);
      if (limited === true) return true;
      if (limited !== false) return limited.then((answered) => answered || byLevel(ctx));
    }
    return byLevel(ctx);
  },
};

/** The security level's verdict (under-attack mode when it is on); true when it answered. */
function byLevel(ctx: RequestContext): boolean {
  const rules = ctx.snapshot.shield;
  const state = ctx.edge.shield;
  const ip = ctx.clientIp;
  const level = ctx.rule?.securityLevel ?? (state.underAttack ? 'under_attack' : rules.security.level);
  if (level === 'off') return false;
  const h = ctx.req.headers;
  const reason = state.levels.verdict(level, {
    client: clientKey(ip),
    navigation: isNavigation(ctx),
    userAgent: h['user-agent'],
    accept: h.accept,
    acceptLanguage: h['accept-language'] as string | undefined,
    // The connection gate counts peers (sockets), not addresses from trusted-proxy headers.
    connectionBurst: ctx.edge.connections.burst(((ctx.socket ?? ctx.req.socket) as { remoteAddress?: string } | undefined)?.remoteAddress ?? ip),
  });
  if (reason === undefined) return false;
  return challenge(ctx, reason === 'under-attack' ? 'under-attack' : `security-level-${level}:${reason}`, reason !== 'under-attack');
}

/** Lets a cleared request through, else answers it with the challenge. */
function challenge(ctx: RequestContext, rule: string, countsAsMitigated: boolean): boolean {
  const rt = challengeOf(ctx);
  if (cleared(ctx, rt.key)) return false;
  if (countsAsMitigated) ctx.edge.shield.mitigated++;
  sendChallenge(ctx, rt, rule);
  return true;
}

function challengeOf(ctx: RequestContext): ChallengeRuntime {
  const rules = ctx.snapshot.shield;
  return ctx.edge.shield.challengeFor(rules.security.challenge, ctx.edge.secret);
}

/**
 * Runs the rate-limit rules from the `from`th, in order; true when one answered the request. A
 * promise when a count had to be asked of the supervisor (node-limits.ts), so that the rules
 * after a refusing one are never counted.
 */
function rateLimited(ctx: RequestContext, rules: ShieldRules, from: number): boolean | Promise<boolean> {
  const url = { scheme: ctx.scheme, host: ctx.host, port: portOf(ctx.authority, ctx.scheme), path: ctx.path };
  for (let i = from; i < rules.rateLimits.length; i++) {
    const r = rules.rateLimits[i];
    if (r.methods && !r.methods.has(ctx.method)) continue;
    if (!r.matches(url)) continue;
    const key = keyOf(ctx, r.config.key);
    if (key === undefined) continue;
    const state = ctx.edge.shield;
    const limits = r.rule.global && state.globalLimits ? state.globalLimits : state.limits;
    const d = limits.hit(r.rule, key, Date.now());
    if (d instanceof Promise) return d.then((decision) => decide(ctx, r, decision) || rateLimited(ctx, rules, i + 1));
    if (decide(ctx, r, d)) return true;
  }
  return false;
}

/** Acts on one rule's count: true when the request was answered (blocked or challenged). */
function decide(ctx: RequestContext, r: ShieldRules['rateLimits'][number], d: LimitDecision): boolean {
  if (d.allowed) return false;
  const label = `rate-limit-${r.index}`;
  if (r.config.action === 'log') {
    countAction(ctx, label, 'log');
    return false;
  }
  if (r.config.action === 'challenge') return challenge(ctx, label, true);
  const headers: [string, string][] = [
    ['retry-after', String(Math.max(1, Math.ceil(d.retryAfterMs / 1000)))],
    ...rateLimitHeaders(label, r.config.requests, r.config.period, { remaining: 0, resetMs: d.retryAfterMs }),
  ];
  mitigate(ctx, 'rate-limit', r.config.status, label, headers);
  return true;
}

/** The counted key of a request, or undefined when the rule's header or cookie is absent. */
function keyOf(ctx: RequestContext, key: string): string | undefined {
  if (key === 'ip') return clientKey(ctx.clientIp);
  if (key.startsWith('header:')) {
    const v = ctx.req.headers[key.slice(7).toLowerCase()];
    return v === undefined ? undefined : Array.isArray(v) ? v.join(',') : v;
  }
  return readCookie(ctx.req.headers.cookie, key.slice(7));
}

/** Answers a mitigated request: JSON for API clients, a short HTML page for browsers. */
function mitigate(ctx: RequestContext, action: 'block' | 'rate-limit', status: number, rule: string, extra: [string, string][]): void {
  countAction(ctx, rule, action);
  ctx.edge.shield.mitigated++;
  const accept = ctx.req.headers.accept ?? '';
  const message = action === 'rate-limit' ? 'Too many requests: slow down and retry later.' : "This request was stopped by the site's security rules.";
  const html = accept.includes('text/html');
  const body = html
    ? `<!doctype html><meta charset="utf-8"><title>${status}</title><p>${message}</p><p><small>Outpost PoP ${ctx.snapshot.config.pop.id} · request ${ctx.id}</small></p>\n`
    : `${JSON.stringify({ error: { status, code: action === 'rate-limit' ? 'rate_limited' : 'blocked', rule, message, requestId: ctx.id } })}\n`;
  const headers: [string, string][] = [
    ['content-type', html ? 'text/html; charset=utf-8' : 'application/json'],
    ['cache-control', 'no-store'],
    ['x-outpost-mitigated', action],
    ['x-request-id', ctx.id],
    ...extra,
  ];
  sendSimple(ctx, status, headers, body);
}
