/**
 * The fill decision (RFC 9111 §3): whether a response may be stored, and the numbers a hit needs
 * later (lifetime, stale windows, revalidation flags), computed once so a hit never parses headers.
 * Edge settings join the origin's word: a page rule's edge TTL, the rule's "origin cache control"
 * switch, the cache level, default TTLs by status (Cloudflare's semantics).
 */
import { parseCacheControl, type Directives } from './cache-control.js';
import { parseCdnCacheControl } from './cdn-cache-control.js';
import { splitList, type RequestHeaders } from './field-list.js';
import { HEURISTIC_STATUSES, freshnessLifetime, heuristicLifetime, initialAge } from './freshness.js';
import { storedHeaders } from './stored-headers.js';

export interface FillInput {
  method: string;
  requestHeaders: RequestHeaders;
  status: number;
  /** Lowercase names, repeated fields joined with ", ". */
  responseHeaders: Record<string, string>;
  /** ms since epoch. */
  requestTime: number;
  /** ms since epoch. */
  responseTime: number;
  /** 'standard': the origin's freshness or a heuristic; 'everything': edge TTLs fill the gaps. */
  level: 'standard' | 'everything';
  /** A page rule's edge TTL, seconds. */
  edgeTtl?: number;
  /** false with an edgeTtl: the rule overrides the origin's caching headers. */
  originCacheControl: boolean;
  /** The edge's default TTL for a status when the origin gives no freshness, seconds. */
  defaultTtl: (status: number) => number | undefined;
  heuristicFraction: number;
}

export type FillDecision =
  | { store: false; reason: string }
  | {
      store: true;
      lifetime: number;
      staleWhileRevalidate: number;
      staleIfError: number;
      mustRevalidate: boolean;
      noCache: boolean;
      vary: string[];
      tags: string[];
      headers: Record<string, string>;
      initialAge: number;
    };

/** Only GET responses are stored; HEAD is answered from a stored GET (RFC 9110 §9.3.2, RFC 9111 §3). */
export function isStorableMethod(method: string): boolean {
  return method === 'GET';
}

/**
 * A final status (RFC 9110 §15) other than 206 and 304: this cache stores whole responses only
 * (partial content, RFC 9111 §3.3, is not combined; a 304 only updates, §4.3.4).
 */
export function isStorableStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 200 && status <= 599 && status !== 206 && status !== 304;
}

/**
 * Status codes whose caching requirements this cache knows and meets (RFC 9111 §5.2.2.3,
 * must-understand): those of RFC 9110 §15 except 206 (not stored here), plus 429 and 451.
 */
const UNDERSTOOD = new Set([
  200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 304, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426, 429, 451, 500, 501, 502,
  503, 504, 505,
]);

/** Whether the cache understands a status code for must-understand (RFC 9111 §5.2.2.3). */
export function isUnderstoodStatus(status: number): boolean {
  return UNDERSTOOD.has(status);
}

/**
 * The directive that forbids storing, if any: `no-store` (§5.2.2.5) unless `must-understand` is
 * present and the status is understood (§5.2.2.3: it then replaces no-store), `must-understand`
 * with a status we do not understand, unqualified `private` (§5.2.2.7, shared cache).
 */
export function forbidsStorage(d: Directives, status: number): 'no-store' | 'must-understand' | 'private' | undefined {
  if (d.mustUnderstand) {
    if (!isUnderstoodStatus(status)) return 'must-understand';
  } else if (d.noStore) return 'no-store';
  if (d.private === true) return 'private';
  return undefined;
}

/**
 * A response to a request with Authorization may be stored by a shared cache only when it says so
 * with `public`, `must-revalidate` or `s-maxage` (RFC 9111 §3.5).
 */
export function authorizationAllows(requestHeaders: RequestHeaders, d: Directives): boolean {
  if (requestHeaders.authorization === undefined) return true;
  return d.public || d.mustRevalidate || d.sMaxage !== undefined;
}

/**
 * The directives that govern this cache: CDN-Cache-Control when present and valid, which then
 * replaces Cache-Control entirely (RFC 9213 §2.1), else Cache-Control.
 */
export function governingDirectives(headers: Record<string, string>): Directives {
  return parseCdnCacheControl(headers['cdn-cache-control']) ?? parseCacheControl(headers['cache-control']);
}

/** Vary field names: lowercase, trimmed, sorted, deduplicated, across all Vary lines (RFC 9111 §4.1). */
export function varyNames(headers: Record<string, string>): string[] {
  const vary = headers.vary;
  return vary === undefined ? [] : [...new Set(splitList(vary).map((n) => n.toLowerCase()))].sort();
}

/** Purge tags from Cache-Tag: comma-separated, trimmed, lowercase, empty ones dropped, deduplicated. */
export function cacheTags(headers: Record<string, string>): string[] {
  const value = headers['cache-tag'];
  if (value === undefined) return [];
  return [
    ...new Set(
      value
        .split(',')
        .map((t) => t.trim().toLowerCase())
        .filter((t) => t !== ''),
    ),
  ];
}

/** Whether the response carries a validator (ETag or Last-Modified, RFC 9110 §8.8) to revalidate with. */
export function hasValidator(headers: Record<string, string>): boolean {
  return headers.etag !== undefined || headers['last-modified'] !== undefined;
}

/**
 * Whether a page rule's edge TTL applies to a status: to those cacheable by default (RFC 9110
 * §15.1). A rule meant for pages must not pin a 500 or a 302 for the page's TTL; other statuses
 * keep the origin's word and the edge's default TTL by status.
 */
export function edgeTtlApplies(status: number): boolean {
  return HEURISTIC_STATUSES.has(status);
}

/**
 * Whether a page rule's edge TTL overrides the origin (originCacheControl off, an edge TTL set, a
 * status it applies to): then no-store, private, no-cache and Set-Cookie from the origin do not
 * prevent storing, and the edge TTL replaces the origin's freshness.
 */
export function edgeTtlOverrides(input: Pick<FillInput, 'originCacheControl' | 'edgeTtl' | 'status'>): boolean {
  return !input.originCacheControl && input.edgeTtl !== undefined && edgeTtlApplies(input.status);
}

/**
 * The lifetime to store, or the reason there is none: explicit freshness (§4.2.1) first, unless a
 * page rule overrides it; then the rule's edge TTL; then, at level 'everything', the default TTL
 * of the status; then a heuristic (§4.2.2).
 */
export function fillLifetime(input: FillInput, d: Directives, override: boolean): number | undefined {
  if (override) return input.edgeTtl;
  const explicit = freshnessLifetime(input.responseHeaders, d, input.responseTime);
  if (explicit !== undefined) return explicit;
  if (input.edgeTtl !== undefined && edgeTtlApplies(input.status)) return input.edgeTtl;
  if (input.level === 'everything') {
    const byStatus = input.defaultTtl(input.status);
    if (byStatus !== undefined) return byStatus;
  }
  return heuristicLifetime(input.status, input.responseHeaders, input.responseTime, input.heuristicFraction, 86400, d);
}

/** The fill decision: whether to store this response, and how (RFC 9111 §3 with the edge's rules). */
export function decideFill(input: FillInput): FillDecision {
  const headers = input.responseHeaders;
  if (!isStorableMethod(input.method)) return { store: false, reason: 'method' };
  if (!isStorableStatus(input.status)) return { store: false, reason: 'status' };
  const d = governingDirectives(headers);
  const override = edgeTtlOverrides(input);
  const vary = varyNames(headers);
  // Vary: * never matches a later request (§4.1); storing it would only waste space.
  if (vary.includes('*')) return { store: false, reason: 'vary' };
  if (!override) {
    const forbidden = forbidsStorage(d, input.status);
    if (forbidden) return { store: false, reason: forbidden };
    // The request's no-store forbids storing its response (§5.2.1.5).
    if (parseCacheControl(input.requestHeaders['cache-control']).noStore) return { store: false, reason: 'request-no-store' };
    if (headers['set-cookie'] !== undefined || headers['set-cookie2'] !== undefined) return { store: false, reason: 'set-cookie' };
  }
  // Even a page rule does not share one user's authorized answer with everyone (§3.5).
  if (!authorizationAllows(input.requestHeaders, d)) return { store: false, reason: 'authorization' };

  const validator = hasValidator(headers);
  // no-cache with a validator is stored to be revalidated on every use (§5.2.2.4): its
  // freshness never matters, so a missing one is no reason to refuse it.
  const lifetime = fillLifetime(input, d, override) ?? (!override && d.noCache === true && validator ? 0 : undefined);
  if (lifetime === undefined) return { store: false, reason: 'no-freshness' };
  // Stale on arrival is worth keeping only if it can be revalidated (§4.3).
  if (lifetime <= 0 && !validator) return { store: false, reason: 'zero-lifetime' };
  const noCache = !override && d.noCache === true;
  if (noCache && !validator) return { store: false, reason: 'no-cache' };

  // s-maxage implies proxy-revalidate (§5.2.2.10); all three forbid serving stale (§4.2.4).
  const mustRevalidate = d.mustRevalidate || d.proxyRevalidate || d.sMaxage !== undefined;
  return {
    store: true,
    lifetime: Math.max(0, lifetime),
    staleWhileRevalidate: mustRevalidate ? 0 : (d.staleWhileRevalidate ?? 0),
    staleIfError: mustRevalidate ? 0 : (d.staleIfError ?? 0),
    mustRevalidate,
    noCache,
    vary,
    tags: cacheTags(headers),
    headers: storedHeaders(headers),
    initialAge: initialAge(headers, input.requestTime, input.responseTime),
  };
}
