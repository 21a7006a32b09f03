/**
 * Rate limiting with GCRA (the generic cell rate algorithm, ITU-T I.371; the scheme behind
 * Cloudflare's and redis-cell's limiters): per key one number, the theoretical arrival time
 * (TAT), so memory is O(1) per key and a hit is O(1). A limiter allows `requests` per
 * `periodMs`, and the whole period's allowance may be spent at once (burst = `requests`).
 *
 * Time is kept in units of 1/requests ms, counted from the limiter's first clock reading: one
 * request then costs exactly `periodMs` units and a full allowance is `periodMs × requests`,
 * all integers for integer clocks, so boundaries are exact (10 per 10 s lets the 10th hit
 * through and refuses the 11th, even for 3 per 1000 ms where ms fractions would drift).
 *
 * Both tables are bounded: past `maxKeys` the least recently used key goes (a Map keeps
 * insertion order, and every hit re-inserts its key). An evicted key only loses a partly spent
 * allowance, so the worst an attacker rotating keys gets is a fresh allowance per key, which
 * it would get anyway from distinct keys; a hot key is re-inserted on every hit and stays.
 */

export interface RateLimitOptions {
  /** Requests allowed per period, and the largest burst. */
  requests: number;
  periodMs: number;
  /** Bound on tracked keys (and, separately, on mitigated keys). Default 100_000. */
  maxKeys?: number;
  /** Clock in ms; tests pass a fake one. Default Date.now. */
  now?: () => number;
}

export interface LimitResult {
  allowed: boolean;
  /** Requests (of cost 1) still allowed right now, after this hit. */
  remaining: number;
  /** ms until the full allowance is back. */
  resetMs: number;
  /** 0 when allowed; else ms (≥ 1) until this hit, at the same cost, would be allowed. */
  retryAfterMs: number;
}

export class RateLimiter {
  readonly requests: number;
  readonly periodMs: number;
  private readonly maxKeys: number;
  private readonly clock: () => number;
  /** The clock reading that is unit 0; set on first use. */
  private origin: number | undefined;
  /** Units one request of cost 1 moves the TAT (= periodMs). */
  private readonly step: number;
  /** Units the TAT may run ahead of now: the whole allowance. */
  private readonly window: number;
  private readonly tats = new Map<string, number>();
  private readonly holds = new Map<string, number>();

  constructor(options: RateLimitOptions) {
    const { requests, periodMs, maxKeys = 100_000 } = options;
    if (!(requests > 0) || !Number.isFinite(requests)) throw new RangeError(`requests must be a positive number, got ${requests}`);
    if (!(periodMs > 0) || !Number.isFinite(periodMs)) throw new RangeError(`periodMs must be a positive number, got ${periodMs}`);
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`);
    this.requests = requests;
    this.periodMs = periodMs;
    this.maxKeys = maxKeys;
    this.clock = options.now ?? Date.now;
    this.step = periodMs;
    this.window = periodMs * requests;
  }

  /** Keys with rate state (at most maxKeys). */
  get size(): number {
    return this.tats.size;
  }

  /**
   * Counts one request of `cost` (default 1) for `key`. A refused hit costs nothing. Cost 0 reads
   * the state without spending; a cost above `requests` can never pass and is refused with
   * retryAfterMs = the time until the full allowance is back.
   */
  hit(key: string, cost = 1): LimitResult {
    if (!(cost >= 0) || !Number.isFinite(cost)) throw new RangeError(`cost must be a non-negative number, got ${cost}`);
    const now = this.units();
    const prev = this.tats.get(key);
    // A TAT in the past means a full allowance: the key restarts from now. One more than a
    // window ahead only happens when the clock stepped back; cap it rather than punish the key.
    const tat = prev === undefined || prev < now ? now : Math.min(prev, now + this.window);
    const next = tat + cost * this.step;
    if (next - now <= this.window) {
      if (cost > 0 || prev !== undefined) this.remember(key, next);
      return { allowed: true, remaining: this.remainingAt(next, now), resetMs: this.ms(next - now), retryAfterMs: 0 };
    }
    // Refused: the TAT stays, but the key still counts as recently used (it is hot).
    if (prev !== undefined) this.remember(key, prev);
    const retry = cost * this.step > this.window ? tat - now : next - this.window - now;
    return { allowed: false, remaining: this.remainingAt(tat, now), resetMs: this.ms(tat - now), retryAfterMs: Math.max(1, this.ms(retry)) };
  }

  /**
   * Gives back `count` requests a hit took and did not use (a lease's leftover, node-limits.ts):
   * the TAT moves back `count` steps, never below now. That is exactly the state the key would
   * be in had they never been taken, since a TAT in the past already means a full allowance.
   * A key no longer tracked (evicted, never seen) has a full allowance already.
   */
  refund(key: string, count: number): void {
    if (!(count >= 0) || !Number.isFinite(count)) throw new RangeError(`count must be a non-negative number, got ${count}`);
    const prev = this.tats.get(key);
    if (prev === undefined) return;
    const now = this.units();
    // Set in place: a refund is not a use, so the key keeps its place in the eviction order.
    this.tats.set(key, Math.max(now, Math.min(prev, now + this.window) - count * this.step));
  }

  /** Forgets `key`'s state: a full allowance again (e.g. after it passed a challenge). */
  reset(key: string): void {
    this.tats.delete(key);
  }

  /**
   * Holds `key` blocked until the clock reads `untilMs` (a rule's timeout after it went over).
   * Timeouts are usually now + one constant, so insertion order is expiry order and dropping the
   * oldest hold when full drops the one closest to its end.
   */
  mitigate(key: string, untilMs: number): void {
    this.holds.delete(key);
    if (untilMs <= this.clock()) return;
    this.holds.set(key, untilMs);
    if (this.holds.size > this.maxKeys) this.holds.delete(this.holds.keys().next().value!);
  }

  /** Until when `key` is held blocked (ms, clock time), or undefined when it is not. */
  mitigated(key: string): number | undefined {
    const until = this.holds.get(key);
    if (until === undefined) return undefined;
    if (until <= this.clock()) {
      this.holds.delete(key);
      return undefined;
    }
    return until;
  }

  /** Keys currently held (expired holds count until they are next looked at or pushed out). */
  get mitigatedSize(): number {
    return this.holds.size;
  }

  private units(): number {
    const t = this.clock();
    this.origin ??= t;
    return (t - this.origin) * this.requests;
  }

  private ms(units: number): number {
    return Math.max(0, Math.ceil(units / this.requests));
  }

  private remainingAt(tat: number, now: number): number {
    return Math.max(0, Math.floor((this.window - (tat - now)) / this.step));
  }

  private remember(key: string, tat: number): void {
    this.tats.delete(key);
    this.tats.set(key, tat);
    if (this.tats.size > this.maxKeys) this.evict();
  }

  /** Drops the least recently used key; the map is over its bound by exactly one. */
  private evict(): void {
    this.tats.delete(this.tats.keys().next().value!);
  }
}

/**
 * The counted identity of a client address: IPv4 as is; IPv4-mapped IPv6 (`::ffff:1.2.3.4`,
 * `::ffff:102:304`) as its IPv4; other IPv6 masked to `v6PrefixBits` (default /64, one
 * subscriber's network, since a single host can rotate through its whole /64) and written in
 * RFC 5952 form with the prefix length, e.g. `2001:db8::/64`. Zone ids (`%eth0`) and brackets
 * are dropped. A string that is not an address comes back unchanged (still a usable key).
 */
export function clientKey(ip: string, v6PrefixBits = 64): string {
  if (!ip.includes(':')) return ip;
  let s = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const groups = parseIpv6(s);
  if (!groups) return ip;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`;
  }
  const bits = Math.min(128, Math.max(0, Math.floor(v6PrefixBits)));
  const masked = groups.map((g, i) => {
    const keep = Math.min(16, Math.max(0, bits - i * 16));
    return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
  });
  return `${formatIpv6(masked)}/${bits}`;
}

/** The eight 16-bit groups of an IPv6 address (`::` and a dotted IPv4 tail allowed), or undefined. */
function parseIpv6(s: string): number[] | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parts = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = parts(halves[0]);
  const tail = halves.length === 2 ? parts(halves[1]) : [];
  const all = halves.length === 2 ? tail : head;
  const last = all[all.length - 1];
  const v4: number[] = [];
  if (last?.includes('.')) {
    const octets = last.split('.');
    if (octets.length !== 4 || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) return undefined;
    const [a, b, c, d] = octets.map(Number);
    v4.push((a << 8) | b, (c << 8) | d);
    all.pop();
  }
  const hex = (g: string): number | undefined => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : undefined);
  const left = head.map(hex);
  const right = [...(halves.length === 2 ? tail.map(hex) : []), ...v4];
  if (halves.length === 1) {
    const groups = [...left, ...v4];
    return groups.length === 8 && groups.every((g) => g !== undefined) ? (groups as number[]) : undefined;
  }
  const fill = 8 - left.length - right.length;
  if (fill < 1) return undefined;
  const groups = [...left, ...Array<number>(fill).fill(0), ...right];
  return groups.every((g) => g !== undefined) ? (groups as number[]) : undefined;
}

/** RFC 5952 §4: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
function formatIpv6(groups: number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/**
 * The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-11 §4, §5): `RateLimit-Policy`
 * gives the quota `q` per window `w` (seconds), `RateLimit` the remaining `r` and the seconds
 * `t` until it resets, both for the policy named (a Structured Fields string, RFC 9651 §3.3.3).
 * Seconds round up so a client never comes back early. Names are lowercase (field names are
 * case-insensitive; HTTP/2 requires lowercase). Send them on allowed responses and on 429s.
 */
export function rateLimitHeaders(policyName: string, limit: number, periodMs: number, r: { remaining: number; resetMs: number }): [string, string][] {
  const name = sfString(policyName);
  const q = Math.max(0, Math.floor(limit));
  const w = Math.max(1, Math.ceil(periodMs / 1000));
  const remaining = Math.max(0, Math.floor(r.remaining));
  const t = Math.max(0, Math.ceil(r.resetMs / 1000));
  return [
    ['ratelimit-policy', `${name};q=${q};w=${w}`],
    ['ratelimit', `${name};r=${remaining};t=${t}`],
  ];
}

/** An sf-string: printable ASCII only, with `"` and `\` escaped (RFC 9651 §4.1.6). */
function sfString(s: string): string {
  return `"${s.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, '\\$&')}"`;
}
