/**
 * Connection-level limits per client, checked when a TCP connection is accepted, before any
 * byte of it is read: how many connections a client holds open, and how fast it opens new ones.
 * A client is `clientKey(ip)`: an IPv4 address, an IPv6 /64 (one host can rotate through its
 * whole /64). Counts are per worker, like the rate limits.
 *
 * The new-connection rate is a GCRA (rate-limit.ts explains the scheme) kept as one number per
 * client, the theoretical arrival time (TAT), in ms: `clientConnectionRate` connections per
 * second, with a burst of as many again, so a full budget is two seconds' worth
 * (2 × rate connections at once, then rate per second). The TAT is plain clock time, not
 * units of one rate, so a reload that changes the rate applies to the next connection.
 *
 * Memory is bounded: a client with no open connection and a full budget (TAT in the past) has
 * nothing worth keeping and is dropped (on release, and by a sweep at most once a second);
 * past `maxKeys` the least recently admitted client goes. Dropping one that still holds
 * connections only forgets its count (its releases then find nothing or a fresh entry, and a
 * count never goes below 0); with the default 100,000 keys against the listener's
 * maxConnections (20,000) that takes a flood of idle-but-not-full clients.
 */
import { clientKey } from './rate-limit.js';

/** What `admit` decided: let the connection in, or why not. */
export type Admission = 'ok' | 'too-many-connections' | 'too-fast';

/** The limits the gate reads on every admission (config `limits`; 0 = no limit). */
export interface ConnectionLimits {
  /** Open connections per client. */
  clientConnections: number;
  /** New connections per second per client; bursts of as many again. */
  clientConnectionRate: number;
}

export interface ConnectionGateOptions {
  /** Bound on tracked clients. Default 100_000. */
  maxKeys?: number;
  /** Prefix length IPv6 clients are counted by. Default 64. */
  v6PrefixBits?: number;
}

interface ClientEntry {
  /** Connections admitted and not yet released. */
  open: number;
  /** Theoretical arrival time (ms, clock time): the budget is full when it is ≤ now. */
  tat: number;
}

/** The length of a full new-connection budget, in seconds of the rate (the burst is as many again). */
const BUDGET_SECONDS = 2;
/** Float slack when comparing TATs (rates that are not divisors of 1000 leave ms fractions). */
const EPSILON_MS = 1e-6;

export class ConnectionGate {
  private readonly clients = new Map<string, ClientEntry>();
  private readonly maxKeys: number;
  private readonly v6PrefixBits: number;
  private lastSweep = -Infinity;

  /** `limits` is read on every call, so a config reload applies to the next connection. */
  constructor(
    private readonly limits: () => ConnectionLimits,
    options: ConnectionGateOptions = {},
  ) {
    const { maxKeys = 100_000, v6PrefixBits = 64 } = options;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`);
    this.maxKeys = maxKeys;
    this.v6PrefixBits = v6PrefixBits;
  }

  /** Clients tracked (at most maxKeys). */
  get size(): number {
    return this.clients.size;
  }

  /**
   * A new connection from `ip` at `now` (ms). 'ok' counts it as open (call `release` when it
   * closes) and spends one unit of the client's budget; a refusal changes nothing but the
   * client's recency.
   */
  admit(ip: string, now = Date.now()): Admission {
    const key = clientKey(ip, this.v6PrefixBits);
    const { clientConnections, clientConnectionRate } = this.limits();
    this.sweep(now);
    const entry = this.clients.get(key) ?? { open: 0, tat: now };
    let verdict: Admission = 'ok';
    let tat = Math.max(entry.tat, now);
    if (clientConnections > 0 && entry.open >= clientConnections) verdict = 'too-many-connections';
    else if (clientConnectionRate > 0) {
      const step = 1000 / clientConnectionRate;
      // A TAT more than one budget ahead only happens after the rate went up; cap it.
      tat = Math.min(tat, now + BUDGET_SECONDS * 1000);
      if (tat + step - now > BUDGET_SECONDS * 1000 + EPSILON_MS) verdict = 'too-fast';
      else tat += step;
    }
    if (verdict === 'ok') {
      entry.open++;
      entry.tat = tat;
    }
    // Re-insert: the Map's order is recency of admission, oldest first.
    this.clients.delete(key);
    if (entry.open > 0 || entry.tat > now) {
      this.clients.set(key, entry);
      if (this.clients.size > this.maxKeys) this.clients.delete(this.clients.keys().next().value!);
    }
    return verdict;
  }

  /** A connection `admit` let in has closed. */
  release(ip: string, now = Date.now()): void {
    const key = clientKey(ip, this.v6PrefixBits);
    const entry = this.clients.get(key);
    if (!entry) return;
    if (entry.open > 0) entry.open--;
    if (entry.open === 0 && entry.tat <= now) this.clients.delete(key);
  }

  /**
   * True when the client is using more than half of its new-connection budget right now: it
   * opens connections faster than the steady rate and lives on its burst allowance (the shield's
   * "new-connection burst" signal for security levels). Always false without a rate limit.
   */
  burst(ip: string, now = Date.now()): boolean {
    if (this.limits().clientConnectionRate <= 0) return false;
    const entry = this.clients.get(clientKey(ip, this.v6PrefixBits));
    return entry !== undefined && entry.tat - now > (BUDGET_SECONDS * 1000) / 2;
  }

  /** Open connections the gate counts for `ip`'s client. */
  open(ip: string): number {
    return this.clients.get(clientKey(ip, this.v6PrefixBits))?.open ?? 0;
  }

  /** Drops clients with nothing to remember, at most once a second (O(clients) each time). */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000 && now >= this.lastSweep) return;
    this.lastSweep = now;
    for (const [key, entry] of this.clients) {
      if (entry.open === 0 && entry.tat <= now) this.clients.delete(key);
    }
  }
}

/**
 * Streams an HTTP/2 client cancels on one session (rapid reset, CVE-2023-44487): a token bucket
 * of `limit` per second with a burst of `limit`, read live. `reset` says whether this one went
 * over, after which the session should go (GOAWAY ENHANCE_YOUR_CALM).
 */
export class StreamResetBudget {
  private tokens: number | undefined;
  private last = 0;

  constructor(private readonly limit: () => number) {}

  /** Counts one cancelled stream at `now` (ms); true when the client is over its limit. */
  reset(now = Date.now()): boolean {
    const limit = this.limit();
    if (!(limit > 0)) return false;
    const tokens = this.tokens === undefined ? limit : Math.min(limit, this.tokens + (Math.max(0, now - this.last) * limit) / 1000);
    this.last = now;
    if (tokens < 1) {
      this.tokens = tokens;
      return true;
    }
    this.tokens = tokens - 1;
    return false;
  }
}
