/**
 * Server-issued proof-of-work challenges: a random nonce and a difficulty, signed into a
 * stateless token bound to the client's network prefix (/24, /64) and user agent, short-lived
 * and single-use. The token travels in the challenge page and comes back with the answer.
 *
 * Token format: `base64url(JSON payload) '.' base64url(HMAC-SHA256)`, the MAC taken over
 * `outpost/challenge/v1\n<payload part>` (sign.ts). Payload (short keys, all required):
 *   v: 1               format version
 *   n: hex(16 bytes)   nonce, the proof-of-work input
 *   d: integer 0–64    difficulty in leading zero bits of SHA-256(n ':' answer)
 *   i: ms epoch        issued at (the no-JS path waits from here)
 *   e: ms epoch        expires at (exclusive)
 *   p: shortHash(prefix), u: shortHash(user agent)   the client binding
 * The MAC is checked before the payload is parsed, so unauthenticated JSON is never parsed.
 *
 * Check order, and so the reason reported: malformed → bad-signature → expired → wrong-client →
 * replayed → wrong-answer. A nonce admits ONE submission that passes the first four checks,
 * right or wrong: otherwise a client could send counter after counter and make the server do
 * its proof of work. A page that fails simply asks for a new challenge.
 */
import { randomBytes } from 'node:crypto';
import { assertSecret, BASE64URL, mac, MAC_LENGTH, macEquals, MIN_SECRET_LENGTH, PURPOSE_CHALLENGE, shortHash } from './sign.js';
import { workBits } from './solve.js';

/** Longest token accepted; a real one is about 220 characters. */
export const MAX_TOKEN_LENGTH = 2048;
/** Longest answer accepted (decimal digits only). */
export const MAX_ANSWER_LENGTH = 32;
/** Highest difficulty that can be issued; 2^64 hashes is far beyond any browser anyway. */
export const MAX_DIFFICULTY = 64;

export interface ChallengeInput {
  /** `clientPrefix(ip)` from clearance.ts. */
  clientPrefix: string;
  userAgent: string;
  /** Leading zero bits required (integer 0–64). */
  difficulty: number;
  /** Now, ms since the epoch. */
  now: number;
  /** How long the challenge may be answered, ms. */
  ttlMs: number;
}

export interface IssuedChallenge {
  token: string;
  nonce: string;
  difficulty: number;
  expiresAt: number;
}

export interface ClientContext {
  clientPrefix: string;
  userAgent: string;
  now: number;
}

export type ChallengeRejection = 'malformed' | 'bad-signature' | 'expired' | 'wrong-client' | 'replayed' | 'wrong-answer';
export type ChallengeResult = { ok: true } | { ok: false; reason: ChallengeRejection };
/** The no-JS path (`verifyWait`) adds one reason: the wait is not over yet. */
export type WaitResult = { ok: true } | { ok: false; reason: Exclude<ChallengeRejection, 'wrong-answer'> | 'too-early' };

/**
 * The used-nonce store: single use across every submission it sees. A seam, so a shared
 * backend can replace the in-memory one; it must be synchronous for now.
 */
export interface ReplayGuard {
  /**
   * Marks `nonce` used until `expiresAt` and returns true, or returns false if it was already
   * used and that use has not expired.
   */
  claim(nonce: string, expiresAt: number, now: number): boolean;
}

/**
 * A bounded in-memory ReplayGuard. Entries leave when their token expires (an expired token is
 * refused as 'expired' anyway, so it need not be remembered). When full of live entries the
 * oldest is evicted and counted in `evictions`: failing closed would let anyone who fetches
 * challenges lock everybody out, and a replayed token is still bound to the client that solved
 * it. Size it above (challenges answered per TTL) and watch `evictions`.
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly maxEntries: number;
  evictions = 0;
  // Insertion order ≈ expiry order (one TTL per config), so pruning from the front is cheap.
  private readonly used = new Map<string, number>();

  constructor(options: { maxEntries?: number } = {}) {
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries ?? 100_000));
  }

  get size(): number {
    return this.used.size;
  }

  claim(nonce: string, expiresAt: number, now: number): boolean {
    const until = this.used.get(nonce);
    if (until !== undefined && until > now) return false;
    this.used.delete(nonce);
    for (const [key, exp] of this.used) {
      if (exp > now && this.used.size < this.maxEntries) break;
      this.used.delete(key);
      if (exp > now) this.evictions++;
    }
    this.used.set(nonce, expiresAt);
    return true;
  }
}

interface Payload {
  v: 1;
  n: string;
  d: number;
  i: number;
  e: number;
  p: string;
  u: string;
}

/** Issues a challenge. Throws RangeError on a configuration error (short secret, bad difficulty or TTL). */
export function issueChallenge(secret: string, input: ChallengeInput): IssuedChallenge {
  assertSecret(secret);
  const { difficulty, now, ttlMs } = input;
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > MAX_DIFFICULTY) {
    throw new RangeError(`challenge difficulty must be an integer from 0 to ${MAX_DIFFICULTY}`);
  }
  if (!Number.isFinite(now) || !Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError('challenge now and ttlMs must be finite, ttlMs > 0');
  const nonce = randomBytes(16).toString('hex');
  const expiresAt = Math.floor(now + ttlMs);
  const payload: Payload = { v: 1, n: nonce, d: difficulty, i: Math.floor(now), e: expiresAt, p: shortHash(input.clientPrefix), u: shortHash(input.userAgent) };
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return { token: `${body}.${mac(secret, PURPOSE_CHALLENGE, body)}`, nonce, difficulty, expiresAt };
}

/**
 * Verifies an answer to a challenge (see the check order above). Never throws on client input.
 * `answer` is the decimal counter such that SHA-256(nonce ':' answer) has ≥ difficulty leading
 * zero bits.
 */
export function verifySolution(secret: string, token: string, answer: string, ctx: ClientContext, seen: ReplayGuard): ChallengeResult {
  if (typeof answer !== 'string' || answer.length === 0 || answer.length > MAX_ANSWER_LENGTH || !/^[0-9]+$/.test(answer)) {
    return { ok: false, reason: 'malformed' };
  }
  const checked = checkToken(secret, token, ctx);
  if (!checked.ok) return checked;
  const p = checked.payload;
  if (!seen.claim(p.n, p.e, ctx.now)) return { ok: false, reason: 'replayed' };
  if (workBits(p.n, answer) < p.d) return { ok: false, reason: 'wrong-answer' };
  return { ok: true };
}

/**
 * The no-JS path: the same token, answered by waiting instead of working. Passes once `waitMs`
 * has gone by since the challenge was issued (and the token is still valid and unused). A
 * too-early request does not use the nonce, so a visitor who clicks early can try again.
 */
export function verifyWait(secret: string, token: string, waitMs: number, ctx: ClientContext, seen: ReplayGuard): WaitResult {
  const checked = checkToken(secret, token, ctx);
  if (!checked.ok) return checked;
  const p = checked.payload;
  if (!(ctx.now >= p.i + waitMs)) return { ok: false, reason: 'too-early' };
  if (!seen.claim(p.n, p.e, ctx.now)) return { ok: false, reason: 'replayed' };
  return { ok: true };
}

/**
 * Reads the public part of a token (nonce, difficulty, expiry) WITHOUT verifying it, e.g. to
 * re-render a page for a token just issued. Never use it to make a decision.
 */
export function peekChallenge(token: string): { nonce: string; difficulty: number; expiresAt: number } | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
  const p = parsePayload(token.split('.')[0] ?? '');
  return p && { nonce: p.n, difficulty: p.d, expiresAt: p.e };
}

type Checked = { ok: true; payload: Payload } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'wrong-client' };

function checkToken(secret: string, token: string, ctx: ClientContext): Checked {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
  const body = token.slice(0, dot);
  const sig = token.slice(dot + 1);
  if (!BASE64URL.test(body) || sig.length !== MAC_LENGTH || !BASE64URL.test(sig)) return { ok: false, reason: 'malformed' };
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) return { ok: false, reason: 'bad-signature' };
  if (!macEquals(sig, mac(secret, PURPOSE_CHALLENGE, body))) return { ok: false, reason: 'bad-signature' };
  const payload = parsePayload(body);
  // Signed by us but unreadable: only a key shared with another format could do that.
  if (!payload) return { ok: false, reason: 'malformed' };
  if (!(ctx.now < payload.e)) return { ok: false, reason: 'expired' };
  if (payload.p !== shortHash(String(ctx.clientPrefix)) || payload.u !== shortHash(String(ctx.userAgent))) {
    return { ok: false, reason: 'wrong-client' };
  }
  return { ok: true, payload };
}

function parsePayload(body: string): Payload | undefined {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const int = (x: unknown): x is number => Number.isSafeInteger(x);
  if (o.v !== 1 || typeof o.n !== 'string' || !/^[0-9a-f]{32}$/.test(o.n)) return undefined;
  if (!int(o.d) || o.d < 0 || o.d > MAX_DIFFICULTY || !int(o.i) || !int(o.e)) return undefined;
  if (typeof o.p !== 'string' || typeof o.u !== 'string') return undefined;
  return { v: 1, n: o.n, d: o.d, i: o.i, e: o.e, p: o.p, u: o.u };
}
