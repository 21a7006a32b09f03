/**
 * Sign-in throttling: every login attempt takes a token from its account's bucket and from its
 * client address's bucket before the password is checked, so guesses are refused (429 with
 * Retry-After) before they cost a scrypt (passwords.ts). A successful login gives both tokens back
 * and refills its account: only failures count. Token buckets (token-bucket.ts) rather than a
 * lockout: an attacker cannot lock an operator out for longer than the refill allows, and a
 * person who mistypes a few times never notices. Pure: the caller passes the time.
 *
 * The client address (clientAddress) is the peer's, unless the peer is on a loopback or private
 * network (an edge or a regional node in front of Desk): then the X-Forwarded-For entry that
 * proxy appended, and so on through the deployment's own proxies.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { TokenBucket } from './token-bucket.js';

export interface LoginLimits {
  /** Failed attempts on one account at once, then one every `accountEveryMs`. */
  accountBurst: number;
  accountEveryMs: number;
  /** Failed attempts from one address at once, then one every `addressEveryMs`. */
  addressBurst: number;
  addressEveryMs: number;
}

export const defaultLoginLimits: LoginLimits = { accountBurst: 5, accountEveryMs: 30_000, addressBurst: 20, addressEveryMs: 3_000 };

/** Buckets remembered at most per kind; full ones are forgotten first, then the oldest. */
const MAX_BUCKETS = 50_000;

export class LoginThrottle {
  private readonly accounts = new Map<string, TokenBucket>();
  private readonly addresses = new Map<string, TokenBucket>();

  constructor(private readonly limits: LoginLimits = defaultLoginLimits) {}

  /**
   * Takes a token for `account` (an email, any case) and one for `address`; 0 when the attempt
   * may go on, else the milliseconds until it may (nothing is taken then).
   */
  attempt(account: string, address: string, now: number): number {
    const l = this.limits;
    const a = this.bucket(this.accounts, account.trim().toLowerCase(), l.accountBurst, l.accountEveryMs, now);
    const b = this.bucket(this.addresses, address, l.addressBurst, l.addressEveryMs, now);
    const wait = Math.max(a.wait(now), b.wait(now));
    if (wait > 0) return wait;
    a.take(now);
    b.take(now);
    return 0;
  }

  /** The attempt succeeded: it does not count, and the account starts afresh. */
  succeeded(account: string, address: string): void {
    this.accounts.delete(account.trim().toLowerCase());
    this.addresses.get(address)?.refund();
  }

  private bucket(map: Map<string, TokenBucket>, key: string, burst: number, everyMs: number, now: number): TokenBucket {
    let b = map.get(key);
    if (!b) {
      if (map.size >= MAX_BUCKETS) {
        for (const [k, v] of map) if (v.full(now)) map.delete(k);
        while (map.size >= MAX_BUCKETS) map.delete(map.keys().next().value!);
      }
      map.set(key, (b = new TokenBucket(1000 / everyMs, burst, now)));
    }
    return b;
  }
}

/** Loopback, RFC 1918, link-local and unique-local (RFC 4193) addresses: a proxy of this deployment. */
function privateAddress(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIP(v4) === 4) {
    const [a, b] = v4.split('.').map(Number) as [number, number];
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  const lower = ip.toLowerCase();
  return lower === '::1' || lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe80:');
}

/**
 * The client's address as far as this node can trust it: the peer, or while the hop is a proxy of
 * this deployment (private), the entry that proxy appended to X-Forwarded-For, walking right to
 * left (an edge, then a regional node, then this core node). Entries left of the first public one
 * are the client's to write and are never read.
 */
export function clientAddress(req: IncomingMessage): string {
  let hop = req.socket.remoteAddress ?? 'unknown';
  const xff = req.headers['x-forwarded-for'];
  const entries = (Array.isArray(xff) ? xff.join(',') : (xff ?? '')).split(',').map((e) => e.trim());
  while (privateAddress(hop) && entries.length) {
    const next = entries.pop()!;
    if (!isIP(next)) break;
    hop = next;
  }
  return hop;
}
