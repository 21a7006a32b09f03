/**
 * The "I'm Under Attack" challenge over real sockets: who gets the page and who gets 403 JSON,
 * solving it (with the Node solver) for a clearance cookie, the no-JS path, WebSocket upgrades,
 * and every bad answer: forged, tampered, replayed, expired-looking, malformed, oversized.
 * The same flow in a real browser is in challenge-browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import WebSocket from 'ws';
import { startEdge, type Edge } from '../src/server/edge.js';
import pino from 'pino';
import { solve, workBits } from '../src/shield/challenge/solve.js';
import { edgeConfig, edgeUrl, startWsOrigin, type WsOrigin, loopbackClients } from './helpers.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const BROWSER = { 'user-agent': UA, accept: 'text/html,application/xhtml+xml', 'accept-language': 'en' };

const clients = loopbackClients();
const from = clients.from;

let origin: WsOrigin;
let originHits = 0;
let edge: Edge;

async function get(path: string, opts: { from?: string; headers?: Record<string, string>; method?: string; body?: string } = {}) {
  const r = await request(`${edgeUrl(edge)}${path}`, {
    method: (opts.method ?? 'GET') as 'GET',
    body: opts.body,
    dispatcher: from(opts.from ?? '127.0.0.1'),
    headers: { host: 'site.example', ...opts.headers },
  });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers as Record<string, string | string[]>, text };
}

/** The hidden fields of a challenge page. */
function formOf(html: string) {
  const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(html)?.[1];
  const input = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  return {
    nonce: attr('data-nonce')!,
    difficulty: Number(attr('data-difficulty')),
    token: input('token')!,
    returnTo: input('returnTo')!.replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c))),
  };
}

/** Opens `path` as a browser from `address`, solves the page, returns the clearance cookie pair. */
async function pass(path: string, address: string, ua = UA): Promise<string> {
  const page = await get(path, { from: address, headers: { ...BROWSER, 'user-agent': ua } });
  expect(page.status).toBe(503);
  const f = formOf(page.text);
  const answer = solve(f.nonce, f.difficulty)!;
  const r = await post({ token: f.token, answer, returnTo: f.returnTo }, address, ua);
  expect(r.status).toBe(303);
  expect(r.headers.location).toBe(path);
  const cookie = String(r.headers['set-cookie']);
  expect(cookie).toMatch(/^__outpost_clearance=1\.\d+\.[\w-]+; Max-Age=1800; Path=\/; HttpOnly; SameSite=Lax$/);
  return cookie.split(';')[0];
}

function post(fields: Record<string, string>, address: string, ua = UA) {
  return get('/.outpost/challenge', {
    method: 'POST',
    from: address,
    headers: { ...BROWSER, 'user-agent': ua, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

beforeAll(async () => {
  origin = await startWsOrigin({
    onRequest: (_req, res) => {
      originHits++;
      res.end('origin');
    },
  });
  const config = edgeConfig([origin.url], {
    security: {
      level: 'under_attack',
      challenge: { difficulty: 8, noJsWait: '1s' },
      ipRules: [{ action: 'allow', ip: '127.0.0.50' }],
    },
    rules: [
      { match: '*/open/*', disableSecurity: true },
      { match: '*/calm/*', securityLevel: 'medium' },
    ],
  });
  edge = await startEdge(config, { log: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await edge.shutdown(1000);
  await origin.close();
  await clients.close();
});

describe('under attack: who is shown what', () => {
  it('gives a navigation the interstitial: 503, Retry-After, CSP, no-store, a signed form; the origin is not reached', async () => {
    const before = originHits;
    const r = await get('/page?x=1', { from: '127.0.0.2', headers: BROWSER });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('1');
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(String(r.headers['content-security-policy'])).toMatch(/default-src 'none'; script-src 'sha256-/);
    expect(r.headers['x-outpost-mitigated']).toBe('challenge');
    const f = formOf(r.text);
    expect(f.difficulty).toBe(8);
    expect(f.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(f.returnTo).toBe('/page?x=1');
    expect(r.text).toContain('action="/.outpost/challenge"');
    expect(originHits).toBe(before);
  });

  it('never shows HTML to API clients, fetch/XHR or POSTs: 403 JSON with x-outpost-mitigated: challenge', async () => {
    for (const headers of [
      { accept: 'application/json', 'user-agent': UA },
      { ...BROWSER, 'sec-fetch-mode': 'cors' },
      { ...BROWSER, 'x-requested-with': 'XMLHttpRequest' },
      { 'user-agent': 'curl/8.5.0', accept: '*/*' },
    ]) {
      const r = await get('/api/items', { from: '127.0.0.2', headers });
      expect(r.status).toBe(403);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-outpost-mitigated']).toBe('challenge');
      expect(JSON.parse(r.text)).toMatchObject({ error: { status: 403, code: 'challenge_required', rule: 'under-attack' } });
    }
    const p = await get('/form', { from: '127.0.0.2', method: 'POST', headers: { ...BROWSER, 'content-type': 'text/plain' }, body: 'x' });
    expect(p.status).toBe(403);
    expect(p.headers['content-type']).toBe('application/json');
  });

  it('lets verified paths, disableSecurity rules, allowed addresses and a page rule with its own level through', async () => {
    expect((await get('/robots.txt', { from: '127.0.0.2', headers: BROWSER })).status).toBe(200);
    expect((await get('/.well-known/acme-challenge/t', { from: '127.0.0.2' })).status).toBe(200);
    expect((await get('/open/x', { from: '127.0.0.2', headers: BROWSER })).status).toBe(200);
    expect((await get('/page', { from: '127.0.0.50', headers: BROWSER })).status).toBe(200);
    expect((await get('/calm/x', { from: '127.0.0.2', headers: BROWSER })).status).toBe(200);
  });
});

describe('passing the challenge', () => {
  it('turns a solved challenge into a clearance that lets navigations, XHRs and other paths through', async () => {
    const cookie = await pass('/page?x=1', '127.0.0.3');
    const before = originHits;
    expect((await get('/page?x=1', { from: '127.0.0.3', headers: { ...BROWSER, cookie } })).text).toBe('origin');
    expect((await get('/api/items', { from: '127.0.0.3', headers: { 'user-agent': UA, accept: 'application/json', cookie } })).status).toBe(200);
    expect(originHits).toBe(before + 2);
    const solved = (await edge.runtime.metrics.shieldActions.get()).values.filter((v) => v.labels.action === 'challenge_solved');
    expect(solved.reduce((a, v) => a + v.value, 0)).toBeGreaterThan(0);
  });

  it('binds the clearance to the client network (/24), user agent and site', async () => {
    const cookie = await pass('/', '127.0.0.4');
    // Another site of the same edge: a clearance earned on site.example does not open it.
    expect((await get('/', { from: '127.0.0.4', headers: { ...BROWSER, host: 'other.example', cookie } })).status).toBe(503);
    // Same /24, same UA: accepted (CGNAT pools, IPv6 privacy addresses).
    expect((await get('/', { from: '127.0.0.5', headers: { ...BROWSER, cookie } })).status).toBe(200);
    // Another /24, or another user agent: challenged again.
    expect((await get('/', { from: '127.0.1.4', headers: { ...BROWSER, cookie } })).status).toBe(503);
    expect((await get('/', { from: '127.0.0.4', headers: { ...BROWSER, 'user-agent': `${UA} Other`, cookie } })).status).toBe(503);
  });

  it('two tabs solving at once both get through, and a valid clearance is never replaced by a new page', async () => {
    const [a, b] = await Promise.all([pass('/tab-a', '127.0.0.6'), pass('/tab-b', '127.0.0.6')]);
    for (const cookie of [a, b]) {
      const r = await get('/tab-a', { from: '127.0.0.6', headers: { ...BROWSER, cookie } });
      expect(r.status).toBe(200);
      expect(r.headers['set-cookie']).toBeUndefined();
    }
  });

  it('lets a WebSocket upgrade with a clearance through, and refuses one without (403 on the raw socket)', async () => {
    const cookie = await pass('/', '127.0.0.7');
    const url = `ws://127.0.0.1:${edge.addresses.http!.port}/ws`;
    const ok = new WebSocket(url, { headers: { host: 'site.example', 'user-agent': UA, cookie }, localAddress: '127.0.0.7' });
    const reply = await new Promise<string>((resolve, reject) => {
      ok.once('open', () => ok.send('whoami'));
      ok.once('message', (d) => resolve(d.toString()));
      ok.once('error', reject);
    });
    expect(reply).toBe('ws-origin');
    ok.close();
    const refused = new WebSocket(url, { headers: { host: 'site.example', 'user-agent': UA }, localAddress: '127.0.0.7' });
    const status = await new Promise<number>((resolve) => {
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
      refused.once('error', () => {});
    });
    expect(status).toBe(403);
  });

  it('the no-JS path: too early waits again (503 + refresh), after the wait it grants the clearance', async () => {
    const page = await get('/nojs', { from: '127.0.0.8', headers: BROWSER });
    const link = /<noscript><meta http-equiv="refresh" content="1; url=([^"]+)">/.exec(page.text)![1].replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c)));
    expect(link).toMatch(/^\/\.outpost\/challenge\?nojs=[\w.-]+&returnTo=%2Fnojs$/);
    const early = await get(link, { from: '127.0.0.8', headers: BROWSER });
    expect(early.status).toBe(503);
    expect(early.text).toMatch(/http-equiv="refresh"/);
    await new Promise((r) => setTimeout(r, 1100));
    const done = await get(link, { from: '127.0.0.8', headers: BROWSER });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/nojs');
    const cookie = String(done.headers['set-cookie']).split(';')[0];
    expect((await get('/nojs', { from: '127.0.0.8', headers: { ...BROWSER, cookie } })).status).toBe(200);
    // The link is single use too.
    expect((await get(link, { from: '127.0.0.8', headers: BROWSER })).status).toBe(403);
  });
});

describe('bad answers are refused and logged, never crash', () => {
  it('replayed, wrong, forged, tampered and foreign answers get 403', async () => {
    const page = await get('/', { from: '127.0.0.9', headers: BROWSER });
    const f = formOf(page.text);
    const answer = solve(f.nonce, f.difficulty)!;
    expect((await post({ token: f.token, answer, returnTo: '/' }, '127.0.0.9')).status).toBe(303);
    const replay = await post({ token: f.token, answer, returnTo: '/' }, '127.0.0.9');
    expect(replay.status).toBe(403);
    expect(replay.text).toMatch(/replayed/);
    // A wrong answer uses up the challenge too (no server-side search for the answer).
    const p2 = formOf((await get('/', { from: '127.0.0.9', headers: BROWSER })).text);
    let wrong = 0;
    while (workBits(p2.nonce, String(wrong)) >= p2.difficulty) wrong++;
    // ... in every worker of the node: the nonce is claimed at the node too (worker.ts wires the
    // supervisor's claim here; this in-process edge records what it is asked).
    const state = edge.runtime.shield;
    const claimed: string[] = [];
    state.claimNode = async (nonce) => {
      claimed.push(nonce);
      return true;
    };
    try {
      expect((await post({ token: p2.token, answer: String(wrong), returnTo: '/' }, '127.0.0.9')).status).toBe(403);
    } finally {
      state.claimNode = undefined;
    }
    expect(claimed).toEqual([p2.nonce]);
    // Tampered payload, forged signature, another client's token.
    const p3 = formOf((await get('/', { from: '127.0.0.9', headers: BROWSER })).text);
    const [body, sig] = p3.token.split('.');
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
    const tampered = `${Buffer.from(JSON.stringify({ ...payload, d: 0 })).toString('base64url')}.${sig}`;
    expect((await post({ token: tampered, answer: '0', returnTo: '/' }, '127.0.0.9')).status).toBe(403);
    expect((await post({ token: `${body}.${'A'.repeat(43)}`, answer: '0', returnTo: '/' }, '127.0.0.9')).status).toBe(403);
    const foreign = await post({ token: p3.token, answer: solve(p3.nonce, p3.difficulty)!, returnTo: '/' }, '127.0.2.9');
    expect(foreign.status).toBe(403);
    expect(foreign.text).toMatch(/wrong.client/);
  });

  it('malformed or oversized submissions get 400; a forged clearance cookie is just challenged', async () => {
    expect((await post({ answer: '1' }, '127.0.0.10')).status).toBe(400);
    expect((await post({ token: 'not-a-token', answer: '1' }, '127.0.0.10')).status).toBe(400);
    expect((await post({ token: 'x.y', answer: '12ab' }, '127.0.0.10')).status).toBe(400);
    const big = await post({ token: 'x'.repeat(5000), answer: '1' }, '127.0.0.10');
    expect(big.status).toBe(400);
    const json = await get('/.outpost/challenge', { method: 'POST', from: '127.0.0.10', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(400);
    expect((await get('/.outpost/challenge', { method: 'PUT', from: '127.0.0.10' })).status).toBe(405);
    for (const cookie of ['__outpost_clearance=1.99999999999999.AAAA', `__outpost_clearance=1.${Date.now() + 60_000}.${'A'.repeat(43)}`, `__outpost_clearance=${'x'.repeat(500)}`]) {
      expect((await get('/', { from: '127.0.0.10', headers: { ...BROWSER, cookie } })).status).toBe(503);
    }
    // Still serving.
    expect((await get('/robots.txt', { from: '127.0.0.10' })).status).toBe(200);
  });

  it('returnTo cannot send the browser to another site', async () => {
    const f = formOf((await get('/', { from: '127.0.0.11', headers: BROWSER })).text);
    const r = await post({ token: f.token, answer: solve(f.nonce, f.difficulty)!, returnTo: '//evil.example/x' }, '127.0.0.11');
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/');
  });
});
