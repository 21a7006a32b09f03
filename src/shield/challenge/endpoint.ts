/**
 * The challenge in the request path: who is shown what, and the edge's own endpoint that turns a
 * solved challenge into a clearance cookie.
 *
 *   a navigation without clearance → 503 + the interstitial page (a fresh signed challenge)
 *   anything else (fetch/XHR, WebSocket, JSON clients, non-GET) → 403 JSON, `x-outpost-mitigated: challenge`
 *   POST /.outpost/challenge  token, answer, returnTo (form) → 303 to returnTo + Set-Cookie clearance
 *   GET  /.outpost/challenge?nojs=<token>&returnTo=…       → the same after the no-JS wait
 *
 * A valid clearance is never replaced by a new challenge: the phase checks it before it issues
 * one, so two tabs, or a tab and its XHRs, never loop. Bad or replayed answers get 403 and a link
 * back (the page then asks for a new challenge); malformed or oversized submissions 400.
 */
import type { RequestContext } from '../../pipeline/context.js';
import { sendSimple } from '../../pipeline/error-page.js';
import { readCookie } from '../../balancer/affinity.js';
import { countAction } from '../actions.js';
import type { ChallengeRuntime } from './runtime.js';
import { CLEARANCE_COOKIE_NAME, clearanceCookie, clientPrefix, issueClearance, verifyClearance } from './clearance.js';
import { CHALLENGE_HEADERS, challengePage, escapeHtml, safeReturnTo } from './page.js';
import { issueChallenge, MAX_TOKEN_LENGTH, peekChallenge, verifySolution, verifyWait } from './token.js';

export const CHALLENGE_PATH = '/.outpost/challenge';
/** Largest form a challenge answer may come in (token ~220 B, answer, returnTo ≤ 2 KiB). */
const MAX_FORM = 4096;

/** What the endpoint needs besides the request: the key, the replay guards, and the counters. */

/** True when the request carries a valid clearance for this client. */
export function cleared(ctx: RequestContext, key: string): boolean {
  const value = readCookie(ctx.req.headers.cookie, CLEARANCE_COOKIE_NAME);
  if (value === undefined) return false;
  return verifyClearance(key, value, { clientPrefix: clientPrefix(ctx.clientIp), userAgent: userAgent(ctx), host: ctx.host, now: Date.now() });
}

/**
 * A top-level browser navigation, the only kind of request that is shown the page: GET or HEAD,
 * not an upgrade, `Sec-Fetch-Mode: navigate` when the browser sends Fetch Metadata, else an
 * Accept that asks for HTML and no X-Requested-With.
 */
export function isNavigation(ctx: RequestContext): boolean {
  if (ctx.socket || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return false;
  const h = ctx.req.headers;
  const mode = h['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate';
  if (h['x-requested-with'] !== undefined) return false;
  const accept = h.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

/** Answers a request that must pass the challenge: the page for a navigation, 403 JSON otherwise. */
export function sendChallenge(ctx: RequestContext, rt: ChallengeRuntime, rule: string): void {
  const headers: [string, string][] = [
    ['x-outpost-mitigated', 'challenge'],
    ['x-request-id', ctx.id],
  ];
  if (!isNavigation(ctx)) {
    countAction(ctx, rule, 'challenge');
    const body = `${JSON.stringify({ error: { status: 403, code: 'challenge_required', rule, message: 'This site asks browsers to pass a check first: open it in a browser, then retry with its cookie.', requestId: ctx.id } })}\n`;
    sendSimple(ctx, 403, [['content-type', 'application/json'], ['cache-control', 'no-store'], ...headers], body);
    return;
  }
  countAction(ctx, rule, 'challenge_issued');
  const c = rt.config;
  const issued = issueChallenge(rt.key, { clientPrefix: clientPrefix(ctx.clientIp), userAgent: userAgent(ctx), difficulty: c.difficulty, now: Date.now(), ttlMs: c.lifetime });
  const page = challengePage({
    token: issued.token,
    nonce: issued.nonce,
    difficulty: issued.difficulty,
    action: CHALLENGE_PATH,
    returnTo: safeReturnTo(ctx.path),
    noJsWaitSeconds: Math.ceil(c.noJsWait / 1000),
  });
  // 503 + Retry-After: crawlers come back later rather than index the interstitial.
  sendSimple(ctx, 503, [...Object.entries(CHALLENGE_HEADERS), ['retry-after', String(Math.max(1, Math.ceil(c.noJsWait / 1000)))], ...headers], page);
}

/** Serves /.outpost/challenge (POST answer, GET no-JS). Always answers. */
export async function answerChallenge(ctx: RequestContext, rt: ChallengeRuntime): Promise<true> {
  const url = new URL(ctx.path, 'http://x');
  if (ctx.method === 'POST' && url.pathname === CHALLENGE_PATH) {
    const form = await readForm(ctx);
    if (typeof form === 'string') return refuse(ctx, rt, 400, 'bad-request', form);
    const token = form.get('token');
    const answer = form.get('answer');
    if (!token || answer === null) return refuse(ctx, rt, 400, 'bad-request', 'the form needs token and answer');
    if (token.length > MAX_TOKEN_LENGTH) return refuse(ctx, rt, 400, 'bad-request', 'the token is too long');
    const result = verifySolution(rt.key, token, answer, clientOf(ctx), rt.guard);
    if (!result.ok) {
      // A wrong answer spends the nonce in every worker of the node, not only in this one's
      // guard: else a guesser gets one more try per worker.
      const spent = result.reason === 'wrong-answer' ? peekChallenge(token) : undefined;
      if (spent && rt.claimNode) await rt.claimNode(spent.nonce, spent.expiresAt);
      return refuse(ctx, rt, result.reason === 'malformed' ? 400 : 403, result.reason, undefined, form.get('returnTo'));
    }
    return grant(ctx, rt, token, form.get('returnTo'), 'challenge_solved');
  }
  if ((ctx.method === 'GET' || ctx.method === 'HEAD') && url.pathname === CHALLENGE_PATH && url.searchParams.has('nojs')) {
    const token = url.searchParams.get('nojs')!;
    const returnTo = url.searchParams.get('returnTo');
    const result = verifyWait(rt.key, token, rt.config.noJsWait, clientOf(ctx), rt.guard);
    if (result.ok) return grant(ctx, rt, token, returnTo, 'challenge_solved_nojs');
    if (result.reason === 'too-early') {
      // Clicked before the wait was over: the same link works a little later.
      const wait = Math.max(1, Math.ceil(rt.config.noJsWait / 1000));
      const here = escapeHtml(ctx.path);
      const body = `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="${wait}; url=${here}"><title>One moment</title><p>Almost there: this page continues by itself in ${wait} seconds, or <a href="${here}">follow this link</a> then.</p>\n`;
      sendSimple(
        ctx,
        503,
        [
          ['content-type', 'text/html; charset=utf-8'],
          ['cache-control', 'no-store'],
          ['retry-after', String(wait)],
          ['x-outpost-mitigated', 'challenge'],
        ],
        body,
      );
      return true;
    }
    return refuse(ctx, rt, result.reason === 'malformed' ? 400 : 403, result.reason, undefined, returnTo);
  }
  sendSimple(
    ctx,
    405,
    [
      ['content-type', 'application/json'],
      ['allow', 'GET, POST'],
      ['cache-control', 'no-store'],
    ],
    `${JSON.stringify({ error: { status: 405, code: 'method_not_allowed', message: 'POST the answer form, or GET with ?nojs=' } })}\n`,
  );
  return true;
}

async function grant(ctx: RequestContext, rt: ChallengeRuntime, token: string, returnTo: string | null, action: string): Promise<true> {
  const seen = peekChallenge(token)!;
  if (rt.claimNode && !(await rt.claimNode(seen.nonce, seen.expiresAt))) return refuse(ctx, rt, 403, 'replayed', undefined, returnTo);
  const c = rt.config;
  const value = issueClearance(rt.key, { clientPrefix: clientPrefix(ctx.clientIp), userAgent: userAgent(ctx), host: ctx.host, now: Date.now(), lifetimeMs: c.clearance });
  countAction(ctx, 'challenge', action);
  const to = safeReturnTo(returnTo);
  sendSimple(
    ctx,
    303,
    [
      ['location', to],
      ['set-cookie', clearanceCookie(value, { maxAgeSeconds: c.clearance / 1000, secure: ctx.scheme === 'https' })],
      ['cache-control', 'no-store'],
      ['content-type', 'text/plain; charset=utf-8'],
    ],
    `Passed: continue to ${to}\n`,
  );
  return true;
}

function refuse(ctx: RequestContext, _rt: ChallengeRuntime, status: 400 | 403, reason: string, message?: string, returnTo?: string | null): true {
  countAction(ctx, 'challenge', 'challenge_failed', reason);
  const to = safeReturnTo(returnTo);
  const text = message ?? (reason === 'expired' ? 'The check took too long.' : 'The check was not passed.');
  const accept = ctx.req.headers.accept ?? '';
  const headers: [string, string][] = [
    ['cache-control', 'no-store'],
    ['x-outpost-mitigated', 'challenge'],
    ['x-request-id', ctx.id],
  ];
  if (accept.includes('text/html')) {
    const body = `<!doctype html><meta charset="utf-8"><title>${status}</title><p>${escapeHtml(text)}</p><p><a href="${escapeHtml(to)}">Try again</a></p><p><small>request ${escapeHtml(ctx.id)} · ${escapeHtml(reason)}</small></p>\n`;
    sendSimple(ctx, status, [['content-type', 'text/html; charset=utf-8'], ...headers], body);
  } else {
    sendSimple(
      ctx,
      status,
      [['content-type', 'application/json'], ...headers],
      `${JSON.stringify({ error: { status, code: `challenge_${reason.replace(/-/g, '_')}`, message: text, requestId: ctx.id } })}\n`,
    );
  }
  return true;
}

/** The urlencoded form of a POST, or a string saying why it cannot be read. */
function readForm(ctx: RequestContext): Promise<URLSearchParams | string> {
  const req = ctx.req;
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return Promise.resolve('expected an application/x-www-form-urlencoded form');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_FORM) return Promise.resolve(`the form is larger than ${MAX_FORM} bytes`);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (v: URLSearchParams | string) => {
      if (done) return;
      done = true;
      resolve(v);
    };
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_FORM) {
        // Stop reading; the answer closes the connection (the rest of the body is not wanted).
        req.pause();
        if (ctx.proto !== 'h2') ctx.res?.setHeader('connection', 'close');
        finish(`the form is larger than ${MAX_FORM} bytes`);
      } else chunks.push(c);
    });
    req.on('end', () => finish(new URLSearchParams(Buffer.concat(chunks).toString('latin1'))));
    req.on('error', () => finish('the form could not be read'));
  });
}

function userAgent(ctx: RequestContext): string {
  const ua = ctx.req.headers['user-agent'];
  return typeof ua === 'string' ? ua : '';
}

function clientOf(ctx: RequestContext) {
  return { clientPrefix: clientPrefix(ctx.clientIp), userAgent: userAgent(ctx), now: Date.now() };
}
