import { describe, expect, it } from 'vitest';
import { issueChallenge, MemoryReplayGuard, peekChallenge, verifySolution, verifyWait } from './token.js';
import { solve, workBits } from './solve.js';

const SECRET = 'a-secret-shared-by-every-worker';
const NOW = 1_750_000_000_000;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0';
const client = { clientPrefix: '203.0.113.0/24', userAgent: UA };

function issue(difficulty = 8, ttlMs = 60_000) {
  return issueChallenge(SECRET, { ...client, difficulty, now: NOW, ttlMs });
}
const at = (now = NOW + 1000) => ({ ...client, now });

describe('issueChallenge / verifySolution', () => {
  it('round trips: a solved challenge passes once', () => {
    const c = issue(12);
    expect(c.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(c).toMatchObject({ difficulty: 12, expiresAt: NOW + 60_000 });
    expect(c.token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(c.token.length).toBeLessThan(300);
    expect(peekChallenge(c.token)).toEqual({ nonce: c.nonce, difficulty: 12, expiresAt: c.expiresAt });
    const answer = solve(c.nonce, 12)!;
    expect(verifySolution(SECRET, c.token, answer, at(), new MemoryReplayGuard())).toEqual({ ok: true });
  });

  it('issues a fresh nonce every time', () => {
    expect(issue().nonce).not.toBe(issue().nonce);
  });

  it('refuses configuration errors when issuing', () => {
    expect(() => issueChallenge('short', { ...client, difficulty: 8, now: NOW, ttlMs: 1 })).toThrow(RangeError);
    expect(() => issue(-1)).toThrow(RangeError);
    expect(() => issue(65)).toThrow(RangeError);
    expect(() => issue(1.5)).toThrow(RangeError);
    expect(() => issue(8, 0)).toThrow(RangeError);
  });

  it('rejects a tampered payload or MAC as bad-signature', () => {
    const c = issue();
    const answer = solve(c.nonce, 8)!;
    const [body, mac] = c.token.split('.');
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
    const easier = Buffer.from(JSON.stringify({ ...payload, d: 0 })).toString('base64url');
    expect(verifySolution(SECRET, `${easier}.${mac}`, '1', at(), new MemoryReplayGuard())).toEqual({ ok: false, reason: 'bad-signature' });
    const flipped = (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1);
    expect(verifySolution(SECRET, `${body}.${flipped}`, answer, at(), new MemoryReplayGuard())).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifySolution('another-secret-of-enough-length', c.token, answer, at(), new MemoryReplayGuard())).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('rejects at and after expiry', () => {
    const c = issue(0, 30_000);
    expect(verifySolution(SECRET, c.token, '0', at(NOW + 30_000), new MemoryReplayGuard())).toEqual({ ok: false, reason: 'expired' });
    expect(verifySolution(SECRET, c.token, '0', at(NOW + 29_999), new MemoryReplayGuard())).toEqual({ ok: true });
  });

  it('rejects another /24 or another user agent as wrong-client', () => {
    const c = issue(0);
    const guard = new MemoryReplayGuard();
    expect(verifySolution(SECRET, c.token, '0', { ...at(), clientPrefix: '203.0.114.0/24' }, guard)).toEqual({ ok: false, reason: 'wrong-client' });
    expect(verifySolution(SECRET, c.token, '0', { ...at(), userAgent: `${UA} ` }, guard)).toEqual({ ok: false, reason: 'wrong-client' });
    // Neither attempt used the nonce: the right client still passes.
    expect(verifySolution(SECRET, c.token, '0', at(), guard)).toEqual({ ok: true });
  });

  it('is single use: a replay is refused, also across answers', () => {
    const c = issue(8);
    const answer = solve(c.nonce, 8)!;
    const guard = new MemoryReplayGuard();
    expect(verifySolution(SECRET, c.token, answer, at(), guard).ok).toBe(true);
    expect(verifySolution(SECRET, c.token, answer, at(), guard)).toEqual({ ok: false, reason: 'replayed' });
    expect(verifySolution(SECRET, c.token, `0${answer}`, at(), guard)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('rejects a wrong answer, and that uses the nonce (the server is no solving oracle)', () => {
    const c = issue(16);
    let wrong = 0;
    while (workBits(c.nonce, String(wrong)) >= 16) wrong++;
    const guard = new MemoryReplayGuard();
    expect(verifySolution(SECRET, c.token, String(wrong), at(), guard)).toEqual({ ok: false, reason: 'wrong-answer' });
    expect(verifySolution(SECRET, c.token, solve(c.nonce, 16)!, at(), guard)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('difficulty counts leading zero bits: 0 takes any answer, 8 needs a zero byte', () => {
    const zero = issue(0);
    expect(verifySolution(SECRET, zero.token, '123456789', at(), new MemoryReplayGuard())).toEqual({ ok: true });
    const eight = issue(8);
    let exact = 0; // a counter with exactly 8 bits passes 8, one with 7 does not
    while (workBits(eight.nonce, String(exact)) !== 8) exact++;
    let seven = 0;
    while (workBits(eight.nonce, String(seven)) !== 7) seven++;
    expect(verifySolution(SECRET, eight.token, String(seven), at(), new MemoryReplayGuard())).toEqual({ ok: false, reason: 'wrong-answer' });
    expect(verifySolution(SECRET, eight.token, String(exact), at(), new MemoryReplayGuard())).toEqual({ ok: true });
    const nine = issueChallenge(SECRET, { ...client, difficulty: 9, now: NOW, ttlMs: 60_000 });
    let eightBits = 0;
    while (workBits(nine.nonce, String(eightBits)) !== 8) eightBits++;
    expect(verifySolution(SECRET, nine.token, String(eightBits), at(), new MemoryReplayGuard())).toEqual({ ok: false, reason: 'wrong-answer' });
  });

  it('rejects garbage and oversize input as malformed, without throwing', () => {
    const c = issue(0);
    const guard = new MemoryReplayGuard();
    const bad = (token: unknown, ...answer: unknown[]) => verifySolution(SECRET, token as string, (answer.length ? answer[0] : '0') as string, at(), guard);
    for (const token of [
      '',
      '.',
      'abc',
      'a.b.c',
      `.${c.token}`,
      `${c.token}.`,
      c.token.replace('.', '.!'),
      `${c.token.split('.')[0]}.short`,
      'x'.repeat(2049),
      `${'A'.repeat(2000)}.${c.token.split('.')[1]}x`,
      undefined,
      null,
      42,
      {},
    ]) {
      expect(bad(token)).toEqual({ ok: false, reason: 'malformed' });
    }
    for (const answer of ['', '1'.repeat(33), '-1', '1e3', ' 1', '0x10', '１', undefined, 7]) {
      expect([answer, bad(c.token, answer)]).toEqual([answer, { ok: false, reason: 'malformed' }]);
    }
    expect(bad(c.token, '1'.repeat(32))).toEqual({ ok: true });
  });

  it('rejects a payload we signed but cannot read as malformed', async () => {
    const { mac } = await import('./sign.js');
    const body = Buffer.from('{"v":2}').toString('base64url');
    expect(verifySolution(SECRET, `${body}.${mac(SECRET, 'outpost/challenge/v1', body)}`, '0', at(), new MemoryReplayGuard())).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('verifyWait (no-JS path)', () => {
  it('passes once the wait is over, once', () => {
    const c = issue(20);
    const guard = new MemoryReplayGuard();
    expect(verifyWait(SECRET, c.token, 5000, at(NOW + 4999), guard)).toEqual({ ok: false, reason: 'too-early' });
    expect(verifyWait(SECRET, c.token, 5000, at(NOW + 5000), guard)).toEqual({ ok: true });
    expect(verifyWait(SECRET, c.token, 5000, at(NOW + 5001), guard)).toEqual({ ok: false, reason: 'replayed' });
    expect(verifySolution(SECRET, c.token, solve(c.nonce, 0)!, at(), guard)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('checks signature, expiry and client like verifySolution', () => {
    const c = issue(8, 10_000);
    const guard = new MemoryReplayGuard();
    expect(verifyWait(SECRET, `${c.token}x`, 0, at(), guard)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyWait(SECRET, c.token, 0, at(NOW + 10_000), guard)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyWait(SECRET, c.token, 0, { ...at(), userAgent: 'curl/8' }, guard)).toEqual({ ok: false, reason: 'wrong-client' });
  });
});

describe('MemoryReplayGuard', () => {
  it('forgets a nonce once its token expires', () => {
    const g = new MemoryReplayGuard();
    expect(g.claim('n', 100, 0)).toBe(true);
    expect(g.claim('n', 100, 99)).toBe(false);
    expect(g.claim('n', 200, 100)).toBe(true);
  });

  it('stays bounded: prunes expired entries first, then evicts the oldest and counts it', () => {
    const g = new MemoryReplayGuard({ maxEntries: 3 });
    g.claim('a', 10, 0);
    g.claim('b', 1000, 0);
    g.claim('c', 1000, 0);
    expect(g.claim('d', 1000, 20)).toBe(true); // 'a' expired: pruned, no eviction
    expect([g.size, g.evictions]).toEqual([3, 0]);
    expect(g.claim('e', 1000, 20)).toBe(true); // full of live entries: 'b' goes
    expect([g.size, g.evictions]).toEqual([3, 1]);
    expect(g.claim('c', 1000, 20)).toBe(false);
    expect(g.claim('b', 1000, 20)).toBe(true);
  });
});
