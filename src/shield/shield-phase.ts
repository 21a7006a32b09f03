/**
 * The shield phase (after route): IP access rules, then rate-limit rules. An `allow` IP rule, a
 * page rule with `disableSecurity`, and the verified paths (`/.well-known/*`, `/robots.txt`) pass
 * untouched. A blocked request gets its status with a machine-readable body for API clients (HTML
 * for browsers) and `x-outpost-mitigated`; a rate-limited one also gets `Retry-After` and the IETF
 * `RateLimit` / `RateLimit-Policy` headers.
 *
 * Not yet here (the rest of the shield issue): the proof-of-work challenge (a `challenge` action
 * answers 403 with `x-outpost-mitigated: challenge` for now), security levels, automatic
 * under-attack mode, and counts shared by the node's workers (each worker counts on its own).
 */
import type { Phase, RequestContext } from '../pipeline/context.js';
import { sendSimple } from '../pipeline/error-page.js';
import type { RateLimitConfig } from '../config/security-schema.js';
import { firstMatch, portOf, type UrlParts } from '../router/url-pattern.js';
import { readCookie } from '../balancer/affinity.js';
import { compileIpRules, needsGeo, type IpRuleMatcher } from './ip-rules.js';
import { RateLimiter, clientKey, rateLimitHeaders } from './rate-limit.js';
import type { SecurityConfig } from '../config/security-schema.js';

/** What the shield keeps per config snapshot: compiled rules, and limiters kept across reloads. */
export interface ShieldRules {
  ipRules: IpRuleMatcher;
  ipRulesNeedGeo: boolean;
  rateLimits: { index: number; config: RateLimitConfig; matches: (url: UrlParts) => boolean; methods: Set<string> | undefined; limiter: RateLimiter }[];
}

/** Limiters by rule signature, so a reload that keeps a rule keeps its counts. */
export class ShieldState {
  private limiters = new Map<string, RateLimiter>();

  compile(security: SecurityConfig): ShieldRules {
    const next = new Map<string, RateLimiter>();
    const rateLimits = security.rateLimits.map((config, index) => {
      const signature = JSON.stringify([config.match, config.methods, config.key, config.requests, config.period]);
      const limiter = this.limiters.get(signature) ?? new RateLimiter({ requests: config.requests, periodMs: config.period });
      next.set(signature, limiter);
      const m = firstMatch([{ match: config.match }]);
      return { index, config, matches: (url: UrlParts) => m(url) !== undefined, methods: config.methods ? new Set(config.methods) : undefined, limiter };
    });
    this.limiters = next;
    return { ipRules: compileIpRules(security.ipRules), ipRulesNeedGeo: needsGeo(security.ipRules), rateLimits };
  }
}

const VERIFIED = /^\/(\.well-known\/|robots\.txt(?:$|\?))/;

export const shield: Phase = {
  name: 'shield',
  run(ctx) {
    if (ctx.rule?.disableSecurity || VERIFIED.test(ctx.path)) return false;
    const rules = ctx.snapshot.shield;
    const ip = ctx.clientIp;
    if (rules.ipRulesNeedGeo) ctx.client ??= ctx.edge.geo?.lookup(ip) ?? {};
    const m = rules.ipRules({ ip, country: ctx.client?.country, asn: ctx.client?.asn });
    if (m?.rule.action === 'allow') return false;
    if (m) {
      mitigate(ctx, m.rule.action === 'block' ? 'block' : 'challenge', 403, `ip-rule-${m.index}`, []);
      return true;
    }
    if (rules.rateLimits.length === 0) return false;
    const url = { scheme: ctx.scheme, host: ctx.host, port: portOf(ctx.authority, ctx.scheme), path: ctx.path };
    const now = Date.now();
    for (const r of rules.rateLimits) {
      if (r.methods && !r.methods.has(ctx.method)) continue;
      if (!r.matches(url)) continue;
      const key = keyOf(ctx, r.config.key);
      if (key === undefined) continue;
      const until = r.limiter.mitigated(key);
      const result = until === undefined ? r.limiter.hit(key) : undefined;
      if (result?.allowed) continue;
      if (until === undefined) r.limiter.mitigate(key, now + r.config.timeout);
      const retryMs = until !== undefined ? until - now : Math.max(result!.retryAfterMs, r.config.timeout);
      const label = `rate-limit-${r.index}`;
      if (r.config.action === 'log') {
        countAction(ctx, label, 'log');
        continue;
      }
      const headers: [string, string][] = [
        ['retry-after', String(Math.max(1, Math.ceil(retryMs / 1000)))],
        ...rateLimitHeaders(label, r.config.requests, r.config.period, { remaining: 0, resetMs: retryMs }),
      ];
      mitigate(ctx, r.config.action === 'challenge' ? 'challenge' : 'rate-limit', r.config.action === 'challenge' ? 403 : r.config.status, label, headers);
      return true;
    }
    return false;
  },
};

/** The counted key of a request, or undefined when the rule's header or cookie is absent. */
function keyOf(ctx: RequestContext, key: string): string | undefined {
  if (key === 'ip') return clientKey(ctx.clientIp);
  if (key.startsWith('header:')) {
    const v = ctx.req.headers[key.slice(7).toLowerCase()];
    return v === undefined ? undefined : Array.isArray(v) ? v.join(',') : v;
  }
  return readCookie(ctx.req.headers.cookie, key.slice(7));
}

function countAction(ctx: RequestContext, rule: string, action: string): void {
  ctx.edge.metrics.shieldActions.inc({ rule, action });
  const now = Date.now();
  // Sampled: one log line per rule and action per second at most.
  const k = `${rule}/${action}`;
  if ((lastLogged.get(k) ?? 0) + 1000 > now) return;
  lastLogged.set(k, now);
  ctx.edge.log.info({ type: 'shield', rule, action, client: ctx.clientIp, host: ctx.host, path: ctx.path, requestId: ctx.id }, `shield: ${action} by ${rule}`);
}

const lastLogged = new Map<string, number>();

/** Answers a mitigated request: JSON for API clients, a short HTML page for browsers. */
function mitigate(ctx: RequestContext, action: 'block' | 'challenge' | 'rate-limit', status: number, rule: string, extra: [string, string][]): void {
  countAction(ctx, rule, action);
  const accept = ctx.req.headers.accept ?? '';
  const message = action === 'rate-limit' ? 'Too many requests: slow down and retry later.' : 'This request was stopped by the site\'s security rules.';
  const html = accept.includes('text/html');
  const body = html
    ? `<!doctype html><meta charset="utf-8"><title>${status}</title><p>${message}</p><p><small>Outpost PoP ${ctx.snapshot.config.pop.id} · request ${ctx.id}</small></p>\n`
    : `${JSON.stringify({ error: { status, code: action === 'rate-limit' ? 'rate_limited' : action === 'block' ? 'blocked' : 'challenge_required', rule, message, requestId: ctx.id } })}\n`;
  const headers: [string, string][] = [
    ['content-type', html ? 'text/html; charset=utf-8' : 'application/json'],
    ['cache-control', 'no-store'],
    ['x-outpost-mitigated', action],
    ['x-request-id', ctx.id],
    ...extra,
  ];
  sendSimple(ctx, status, headers, body);
}
