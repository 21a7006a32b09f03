/**
 * The config keys of the shield (`security:`): security level, the proof-of-work challenge,
 * automatic "I'm Under Attack" mode, IP access rules, rate-limit rules.
 */
import { z } from 'zod';
import { parseCidr } from '../geo/ip-address.js';
import { COUNTRIES } from '../geo/countries.js';
import { compilePattern } from '../router/url-pattern.js';
import { SECURITY_LEVELS } from './cache-schema.js';
import { duration } from './units-schema.js';

/** One IP access rule: an action and exactly one target (Cloudflare's IP Access rules). */
export const ipRule = z
  .strictObject({
    action: z.enum(['allow', 'block', 'challenge']).describe('`allow` beats every other rule and the security level; `block` answers 403; `challenge` asks for the proof of work.'),
    ip: z
      .string()
      .refine((s) => !s.includes('/') && parseCidr(s) !== undefined, 'expected an IP address')
      .optional()
      .describe('One address (`203.0.113.7`, `2001:db8::7`).'),
    cidr: z
      .string()
      .refine((s) => parseCidr(s) !== undefined, 'expected a network such as 203.0.113.0/24')
      .optional()
      .describe('A network (`203.0.113.0/24`, `2001:db8::/32`).'),
    country: z
      .string()
      .refine((s) => Object.hasOwn(COUNTRIES, s), 'expected an ISO 3166-1 alpha-2 country code such as DE')
      .optional()
      .describe('ISO 3166-1 alpha-2 country of the client (geo database).'),
    asn: z.number().int().min(1).max(4_294_967_295).optional().describe('Autonomous system number of the client (ASN data: geo.asnDb, or the optional package @ip-location-db/asn).'),
    note: z.string().optional().describe('Why the rule exists (shown in logs and the admin API).'),
  })
  .refine((r) => [r.ip, r.cidr, r.country, r.asn].filter((v) => v !== undefined).length === 1, {
    message: 'an IP rule has exactly one target: ip, cidr, country or asn',
  });

export type IpRuleConfig = z.output<typeof ipRule>;

const RATE_KEY = /^(ip|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+|cookie:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$/;

/** One rate-limit rule: requests per period per key on the URLs it matches; each rule counts on its own. */
export const rateLimit = z.strictObject({
  // A URL pattern as page rules write them (`*/api/*`).
  match: z
    .string()
    .min(1)
    .superRefine((value, ctx) => {
      try {
        compilePattern(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `invalid URL pattern: ${(err as Error).message}` });
      }
    })
    .describe('URL pattern as page rules write them (*/api/*): the requests this rule counts.'),
  methods: z
    .array(z.string().regex(/^[A-Z]+$/, 'expected an HTTP method in capitals such as GET'))
    .optional()
    .describe('Methods counted (default: all).'),
  key: z.string().regex(RATE_KEY, 'expected ip, header:<name> or cookie:<name>').default('ip').describe('What is counted: `ip` (IPv6 by /64), `header:<name>` or `cookie:<name>`. Default: ip.'),
  requests: z.number().int().positive().describe('Requests allowed per period and key.'),
  period: duration.describe('The counting window (10s, 1m).'),
  action: z.enum(['block', 'challenge', 'log']).default('block').describe('`block` answers 429; `challenge` asks for the proof of work; `log` only counts and logs. Default: block.'),
  timeout: duration.prefault('60s').describe('How long a key that went over stays mitigated. Default: 60s.'),
  status: z.number().int().min(400).max(599).default(429).describe('Status of a blocked request. Default: 429.'),
  scope: z
    .enum(['pop', 'global'])
    .default('pop')
    .describe(
      'pop: counted by each PoP on its own, with no round trip (default). global: counted across every PoP in cluster.redis (one Lua script per counted hit; a node without cluster.redis counts it node-wide).',
    ),
  onRedisError: z
    .enum(['local', 'allow'])
    .default('local')
    .describe('A global rule while Redis is slow or down: local counts at this PoP alone at limit ÷ PoPs heard from (default); allow lets the request through.'),
});

export type RateLimitConfig = z.output<typeof rateLimit>;

/** The proof-of-work challenge and the clearance it earns. */
const challenge = z.strictObject({
  secret: z
    .string()
    .min(32, 'the challenge secret needs at least 32 characters')
    .optional()
    .describe('Key of challenge tokens and clearance cookies (at least 32 characters). Set it to share clearances between PoPs and across restarts; unset, each node draws one at start.'),
  difficulty: z.number().int().min(0).max(32).default(16).describe('Leading zero bits of SHA-256 the browser must find: 2^difficulty hashes on average. Default: 16.'),
  lifetime: duration.prefault('5m').describe('How long a challenge page may be answered. Default: 5m.'),
  clearance: duration.prefault('30m').describe("How long a clearance cookie lets a browser through (Cloudflare's challenge passage). Default: 30m."),
  noJsWait: duration.prefault('5s').describe('The no-JS path: how long a browser without JavaScript waits before it is let through. Default: 5s.'),
});

/** Automatic under-attack mode: thresholds over the node's request rate. */
const autoUnderAttack = z.strictObject({
  factor: z.number().min(1.5).default(4).describe('The mode turns on when the request rate exceeds its baseline by this factor for `window`. Default: 4.'),
  window: duration.prefault('10s').describe('How long the rate must stay over (or `mitigatedShare` of the requests fail limits) before the mode turns on. Default: 10s.'),
  minRate: z.number().positive().default(100).describe('Requests per second below which the mode never turns on (a quiet site doubling is no attack). Default: 100.'),
  mitigatedShare: z.number().min(0).max(1).default(0.5).describe('Share (0–1) of requests blocked or challenged by rules that also counts as an attack. Default: 0.5.'),
  cooldown: duration.prefault('5m').describe('Stays on at least this long, and goes off after the rate has been calm this long. Default: 5m.'),
  webhooks: z.array(z.string().url()).default([]).describe('URLs that receive each change as a JSON POST. Default: none.'),
});

export const security = z.strictObject({
  level: z.enum(SECURITY_LEVELS).default('medium').describe('Security level where no page rule sets one: off, low, medium, high or under_attack. Default: medium.'),
  underAttack: z.enum(['off', 'auto']).default('off').describe('`auto` turns under-attack mode on and off by itself (`auto:` thresholds); the admin API and CLI switch it by hand. Default: off.'),
  auto: autoUnderAttack.prefault({}).describe('Thresholds of automatic under-attack mode (security.underAttack: auto).'),
  challenge: challenge.prefault({}).describe('The proof-of-work challenge and its clearance cookie.'),
  ipRules: z.array(ipRule).default([]).describe('First match wins; `allow` beats everything else. Default: none.'),
  rateLimits: z.array(rateLimit).default([]).describe('Rate-limit rules; each counts on its own. Default: none.'),
});

export type SecurityConfig = z.output<typeof security>;
