/**
 * The config keys of the edge cache (`cache:`) and of page rules (`rules:`). Split from schema.ts
 * to keep files small; the keys and their meaning are documented in docs/rules.md.
 */
import { z } from 'zod';
import { compilePattern } from '../router/url-pattern.js';
import { duration, size } from './units-schema.js';

export const CACHE_LEVELS = ['bypass', 'standard', 'everything'] as const;
export const SECURITY_LEVELS = ['off', 'low', 'medium', 'high', 'under_attack'] as const;

const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a header name')
  .transform((s) => s.toLowerCase());
const cookieName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a cookie name');

const pattern = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    if (/\s/.test(value)) ctx.addIssue({ code: 'custom', message: 'a URL pattern has no spaces' });
    else if (/^[a-z]+:\/\//i.test(value) && !/^https?:\/\//i.test(value)) ctx.addIssue({ code: 'custom', message: 'the scheme of a URL pattern is http or https' });
    else {
      try {
        compilePattern(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `invalid URL pattern: ${(err as Error).message}` });
      }
    }
  });

const regex = z
  .string()
  .min(1)
  .max(150)
  .superRefine((value, ctx) => {
    try {
      new RegExp(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
    }
  });

/** One page rule: a URL pattern and the settings it gives the requests it matches. */
export const rule = z
  .strictObject({
    match: pattern.describe('`[scheme://]host[:port]/path[?query]` with `*` wildcards; the first rule that matches wins.'),
    cache: z.enum(CACHE_LEVELS).optional().describe('`bypass`: never cached; `standard`: cached when the origin allows; `everything`: also what the RFC leaves to us.'),
    edgeTtl: duration.optional().describe('How long the edge keeps a response: when the origin gives no freshness, or always with `originCacheControl: false`.'),
    browserTtl: duration.optional().describe("`Cache-Control: max-age` sent to browsers when the origin's is lower or absent."),
    bypassCacheOnCookie: regex.optional().describe("Skip the cache when a request cookie's name matches this regular expression (`session|wordpress_logged_in_.*`)."),
    cacheKey: z
      .strictObject({
        query: z.enum(['include', 'ignore', 'sort']).default('include').describe('`include` the query string as sent, `ignore` it, or `sort` its parameters. Default: include.'),
        headers: z.array(headerName).default([]).describe('Request headers whose values become part of the key. Default: none.'),
        cookies: z.array(cookieName).default([]).describe('Cookies whose values become part of the key. Default: none.'),
      })
      .optional()
      .describe('What the cache key is made of: query handling, request headers and cookies.'),
    serveStale: z.boolean().optional().describe('Always online: serve a stale copy when the origin fails or cannot be reached, whatever its headers say.'),
    originCacheControl: z
      .boolean()
      .optional()
      .describe("true: the origin's Cache-Control is obeyed strictly; false: `edgeTtl` overrides it (and may cache private or Set-Cookie answers, cookie stripped)."),
    securityLevel: z.enum(SECURITY_LEVELS).optional().describe("The shield's security level for these URLs (the shield reads it)."),
    alwaysUseHttps: z.boolean().optional().describe('Plain-HTTP requests are redirected (301) to HTTPS.'),
    forwardingUrl: z
      .strictObject({
        url: z
          .string()
          .regex(/^https?:\/\/[^\s]+$/, 'expected an absolute http(s) URL')
          .describe("Where to redirect; $1… are the pattern's * captures."),
        status: z
          .union([z.literal(301), z.literal(302)])
          .default(301)
          .describe('Redirect status, 301 or 302. Default: 301.'),
      })
      .optional()
      .describe("Redirect to this URL (`$1`… are the pattern's `*` captures); nothing else of the rule applies."),
    hostHeader: z.string().min(1).optional().describe('Host header sent to the origin for these URLs.'),
    disableSecurity: z.boolean().optional().describe('The shield lets these URLs through (no challenge, no security level).'),
  })
  .superRefine((r, ctx) => {
    if (!r.forwardingUrl) return;
    const others = Object.keys(r).filter((k) => k !== 'match' && k !== 'forwardingUrl' && r[k as keyof typeof r] !== undefined);
    if (others.length) ctx.addIssue({ code: 'custom', path: ['forwardingUrl'], message: `a forwarding rule redirects and applies no other setting (remove ${others.join(', ')})` });
  });

export type RuleConfig = z.output<typeof rule>;

/** Cloudflare's edge TTLs for answers that carry no freshness of their own. */
const DEFAULT_TTL = { '200': '2h', '203': '2h', '204': '2h', '206': '2h', '300': '2h', '301': '2h', '302': '20m', '303': '20m', '404': '3m', '410': '3m' };

export const cache = z.strictObject({
  level: z.enum(CACHE_LEVELS).default('standard').describe('Cache level where no rule sets one. Default: standard.'),
  memory: z
    .strictObject({
      maxSize: size.prefault('256MiB').describe('Memory tier size per worker; least recently used entries go first. Default: 256MiB.'),
      maxObjectSize: size.prefault('16MiB').describe('Larger responses stream through and are not stored. Default: 16MiB.'),
    })
    .prefault({})
    .describe('The memory tier, per worker.'),
  disk: z
    .strictObject({
      path: z.string().min(1).describe('Directory of the disk tier (relative to the config file); made if missing.'),
      maxSize: size.prefault('10GiB').describe('Disk tier size; least recently used entries go first. Default: 10GiB.'),
    })
    .optional()
    .describe("A directory shared by the node's workers (and surviving restarts), under the memory tier; none = memory only."),
  defaultTtl: z
    .record(z.string().regex(/^[1-5]\d\d$/, 'expected a status code such as 200'), duration)
    .prefault(DEFAULT_TTL)
    .describe('Edge TTL by status code when the origin sends no freshness and the level is `everything`. Default: 2h for 200, 203, 204, 206, 300, 301; 20m for 302, 303; 3m for 404, 410.'),
  heuristicFraction: z.number().min(0).max(1).default(0.1).describe('Heuristic freshness: this share of the time since Last-Modified (RFC 9111 §4.2.2). Default: 0.1.'),
  coalescing: z
    .strictObject({
      maxWaiters: z.number().int().nonnegative().default(1000).describe("Requests that may wait for one key's fill; more go to the origin uncached. Default: 1000."),
      waitTimeout: duration.prefault('5s').describe('A waiter gives up after this long and goes to the origin uncached. Default: 5s.'),
      hitForMiss: duration.prefault('10s').describe('An uncacheable answer is remembered this long, so the next burst does not queue. Default: 10s.'),
    })
    .prefault({})
    .describe('Request coalescing: concurrent misses of one key wait for one fill.'),
});

export type CacheConfig = z.output<typeof cache>;
