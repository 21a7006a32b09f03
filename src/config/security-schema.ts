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
    /** `allow` beats every other rule and the security level; `block` answers 403; `challenge` asks for the proof of work. */
    action: z.enum(['allow', 'block', 'challenge']),
    /** One address (`203.0.113.7`, `2001:db8::7`). */
    ip: z.string().refine((s) => !s.includes('/') && parseCidr(s) !== undefined, 'expected an IP address').optional(),
    /** A network (`203.0.113.0/24`, `2001:db8::/32`). */
    cidr: z.string().refine((s) => parseCidr(s) !== undefined, 'expected a network such as 203.0.113.0/24').optional(),
    /** ISO 3166-1 alpha-2 country of the client (geo database). */
    country: z.string().refine((s) => Object.hasOwn(COUNTRIES, s), 'expected an ISO 3166-1 alpha-2 country code such as DE').optional(),
    /** Autonomous system number of the client (needs geo.asnDb). */
    asn: z.number().int().min(1).max(4_294_967_295).optional(),
    /** Why the rule exists (shown in logs and the admin API). */
    note: z.string().optional(),
  })
  .refine((r) => [r.ip, r.cidr, r.country, r.asn].filter((v) => v !== undefined).length === 1, {
    message: 'an IP rule has exactly one target: ip, cidr, country or asn',
  });

export type IpRuleConfig = z.output<typeof ipRule>;

const RATE_KEY = /^(ip|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+|cookie:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$/;

/** One rate-limit rule: requests per period per key on the URLs it matches; each rule counts on its own. */
export const rateLimit = z.strictObject({
  // A URL pattern as page rules write them (`*/api/*`).
  match: z.string().min(1).superRefine((value, ctx) => {
    try {
      compilePattern(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid URL pattern: ${(err as Error).message}` });
    }
  }),
  /** Methods counted (default: all). */
  methods: z.array(z.string().regex(/^[A-Z]+$/, 'expected an HTTP method in capitals such as GET')).optional(),
  /** What is counted: `ip` (IPv6 by /64), `header:<name>` or `cookie:<name>`. */
  key: z.string().regex(RATE_KEY, 'expected ip, header:<name> or cookie:<name>').default('ip'),
  requests: z.number().int().positive(),
  period: duration,
  /** `block` answers 429; `challenge` asks for the proof of work; `log` only counts and logs. */
  action: z.enum(['block', 'challenge', 'log']).default('block'),
  /** How long a key that went over stays mitigated. */
  timeout: duration.prefault('60s'),
  /** Status of a blocked request. */
  status: z.number().int().min(400).max(599).default(429),
});

export type RateLimitConfig = z.output<typeof rateLimit>;

/** The proof-of-work challenge and the clearance it earns. */
const challenge = z.strictObject({
  /**
   * Key of challenge tokens and clearance cookies (at least 32 characters). Set it to share
   * clearances between PoPs and across restarts; unset, each node draws one at start.
   */
  secret: z.string().min(32, 'the challenge secret needs at least 32 characters').optional(),
  /** Leading zero bits of SHA-256 the browser must find: 2^difficulty hashes on average. */
  difficulty: z.number().int().min(0).max(32).default(16),
  /** How long a challenge page may be answered. */
  lifetime: duration.prefault('5m'),
  /** How long a clearance cookie lets a browser through (Cloudflare's challenge passage). */
  clearance: duration.prefault('30m'),
  /** The no-JS path: how long a browser without JavaScript waits before it is let through. */
  noJsWait: duration.prefault('5s'),
});

/** Automatic under-attack mode: thresholds over the node's request rate. */
const autoUnderAttack = z.strictObject({
  /** On when the rate exceeds the baseline by this factor… */
  factor: z.number().min(1.5).default(4),
  /** …for this long (or when `mitigatedShare` of the requests fail limits for this long). */
  window: duration.prefault('10s'),
  /** Requests per second below which the mode never turns on (a quiet site doubling is no attack). */
  minRate: z.number().positive().default(100),
  /** Share (0–1) of requests blocked or challenged by rules that also counts as an attack. */
  mitigatedShare: z.number().min(0).max(1).default(0.5),
  /** Stays on at least this long, and goes off after the rate has been calm this long. */
  cooldown: duration.prefault('5m'),
  /** URLs that receive each change as a JSON POST. */
  webhooks: z.array(z.string().url()).default([]),
});

export const security = z.strictObject({
  /** Default security level (page rules may set another per URL). */
  level: z.enum(SECURITY_LEVELS).default('medium'),
  /** `auto` turns under-attack mode on and off by itself (`auto:` thresholds); the admin API and CLI switch it by hand. */
  underAttack: z.enum(['off', 'auto']).default('off'),
  auto: autoUnderAttack.prefault({}),
  challenge: challenge.prefault({}),
  /** First match wins; `allow` beats everything else. */
  ipRules: z.array(ipRule).default([]),
  rateLimits: z.array(rateLimit).default([]),
});

export type SecurityConfig = z.output<typeof security>;
