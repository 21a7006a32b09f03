/**
 * The parsed form of Cache-Control (RFC 9111 §5.2) and CDN-Cache-Control (RFC 9213), one shape for
 * both so every decision reads the same fields whichever header supplied them.
 */

/** Cache directives of a request or a response. Absent numeric directives are undefined. */
export interface Directives {
  /** max-age (§5.2.1.1, §5.2.2.1), seconds. 0 when its argument was malformed (then `invalid`). */
  maxAge?: number;
  /** s-maxage (§5.2.2.10), seconds. 0 when malformed. */
  sMaxage?: number;
  noStore: boolean;
  /** no-cache (§5.2.1.4, §5.2.2.4): true, or the lowercase field names of the qualified form. */
  noCache?: true | string[];
  /** private (§5.2.2.7): true, or the lowercase field names of the qualified form. */
  private?: true | string[];
  public: boolean;
  mustRevalidate: boolean;
  proxyRevalidate: boolean;
  mustUnderstand: boolean;
  noTransform: boolean;
  /** immutable (RFC 8246). */
  immutable: boolean;
  /** stale-while-revalidate (RFC 5861 §3), seconds. 0 when malformed. */
  staleWhileRevalidate?: number;
  /** stale-if-error (RFC 5861 §4), seconds. 0 when malformed. */
  staleIfError?: number;
  /** Request max-stale (§5.2.1.2): true without an argument (any staleness). */
  maxStale?: true | number;
  /** Request min-fresh (§5.2.1.3), seconds. */
  minFresh?: number;
  onlyIfCached: boolean;
  /**
   * Names of directives that appeared more than once with different arguments. The first value is
   * kept in the fields above; freshness treats a conflicting freshness directive as stale (§4.2.1).
   */
  conflicts: string[];
  /** A directive that takes a number had a malformed argument (missing, quoted garbage, negative, decimal). */
  invalid: boolean;
}

/** Directives with nothing set. */
export function emptyDirectives(): Directives {
  return {
    noStore: false,
    public: false,
    mustRevalidate: false,
    proxyRevalidate: false,
    mustUnderstand: false,
    noTransform: false,
    immutable: false,
    onlyIfCached: false,
    conflicts: [],
    invalid: false,
  };
}

/** The largest delta-seconds a cache needs to represent; larger values become this (RFC 9111 §1.2.2). */
export const DELTA_SECONDS_MAX = 2147483648;

/**
 * A delta-seconds value (RFC 9111 §1.2.2): a non-negative decimal integer, leading zeros allowed,
 * values past 2^31 clamped to 2147483648. Undefined for anything else ("", "-1", "1.5", "a1").
 */
export function parseDeltaSeconds(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const digits = text.replace(/^0+(?=\d)/, '');
  return digits.length > 10 ? DELTA_SECONDS_MAX : Math.min(Number(digits), DELTA_SECONDS_MAX);
}

/** Directive names whose argument is a delta-seconds. */
const NUMERIC: Record<string, 'maxAge' | 'sMaxage' | 'staleWhileRevalidate' | 'staleIfError' | 'minFresh'> = {
  'max-age': 'maxAge',
  's-maxage': 'sMaxage',
  'stale-while-revalidate': 'staleWhileRevalidate',
  'stale-if-error': 'staleIfError',
  'min-fresh': 'minFresh',
};

const FLAGS: Record<string, 'noStore' | 'public' | 'mustRevalidate' | 'proxyRevalidate' | 'mustUnderstand' | 'noTransform' | 'immutable' | 'onlyIfCached'> = {
  'no-store': 'noStore',
  public: 'public',
  'must-revalidate': 'mustRevalidate',
  'proxy-revalidate': 'proxyRevalidate',
  'must-understand': 'mustUnderstand',
  'no-transform': 'noTransform',
  immutable: 'immutable',
  'only-if-cached': 'onlyIfCached',
};

/**
 * One directive's argument as the parser of either header found it: `undefined` when the directive
 * came bare, a string for token / quoted-string / SF string / integer text, or `null` when the
 * argument was present but unusable (a malformed element, or a Structured Field of the wrong type).
 */
export type DirectiveArgument = string | undefined | null;

/**
 * Folds one directive into `d`. Numeric ones take a delta-seconds (RFC 9111 §1.2.2); a malformed
 * argument sets `invalid` and records 0, so freshness reads it as already stale (§4.2.1) and a
 * stale window as none. A repeated directive keeps its first value and, when the values differ, is
 * recorded in `conflicts`. Unknown directives are ignored (§5.2.3).
 */
export function applyDirective(d: Directives, name: string, arg: DirectiveArgument, seen: Map<string, DirectiveArgument>): void {
  const repeated = seen.has(name);
  if (repeated && seen.get(name) !== arg && !d.conflicts.includes(name)) d.conflicts.push(name);
  if (!repeated) seen.set(name, arg);
  const numeric = NUMERIC[name];
  if (numeric) {
    if (repeated) return;
    const value = typeof arg === 'string' ? parseDeltaSeconds(arg) : undefined;
    if (value === undefined) d.invalid = true;
    d[numeric] = value ?? 0;
    return;
  }
  const flag = FLAGS[name];
  if (flag) {
    d[flag] = true;
    return;
  }
  if (name === 'max-stale') {
    if (repeated) return;
    if (arg === undefined) d.maxStale = true;
    else {
      const value = arg === null ? undefined : parseDeltaSeconds(arg);
      if (value === undefined)
        d.invalid = true; // an unreadable max-stale grants nothing
      else d.maxStale = value;
    }
    return;
  }
  if (name === 'no-cache' || name === 'private') {
    const key = name === 'no-cache' ? 'noCache' : 'private';
    const fields =
      typeof arg === 'string'
        ? arg
            .split(',')
            .map((f) => f.trim().toLowerCase())
            .filter((f) => f !== '')
        : [];
    // The unqualified form (or a qualified one naming nothing) is the most restrictive and wins (§4.2.1).
    if (fields.length === 0 || d[key] === true) d[key] = true;
    else d[key] = [...new Set([...(d[key] ?? []), ...fields])];
  }
}
