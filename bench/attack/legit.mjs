#!/usr/bin/env node
// The legitimate clients of the attack bench (forked by run.mjs, driven over IPC): a few
// browser-like clients, one per source address (--addrs), each with its own keep-alive pool,
// sending GET --path at a fixed total --rate, open loop: request i is due at start + i / rate
// and goes to client i mod N, whatever happened to the earlier ones; latency is measured from
// the due time, so queueing anywhere (edge, origin, this process) shows.
//
// Under-attack mode (`challenge` command) they behave like a browser meeting the interstitial:
// GET / with Accept: text/html → 503 and the challenge page (form #oc-form with data-nonce,
// data-difficulty and hidden token, answer, returnTo) → solve(nonce, difficulty) → POST
// token, answer, returnTo form-urlencoded to the form's action (/.outpost/challenge) → 303 with
// Set-Cookie: __outpost_clearance → GET / with the cookie (expects 200). Every later request of
// that client carries the cookie and the same User-Agent.
//
// Messages: in {cmd: 'challenge'}, {cmd: 'start', startAt, durationMs}; out {type: 'ready'},
// {type: 'challenged', clients: [...]}, {type: 'done', result} (parallel arrays per request:
// due (epoch ms), latency (ms), status (0: error), err, client index).
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    addrs: { type: 'string' },
    rate: { type: 'string', default: '200' },
    conns: { type: 'string', default: '8' },
    timeout: { type: 'string', default: '10000' },
    path: { type: 'string', default: '/api/legit' },
    solver: { type: 'string' }, // dist/shield/challenge/solve.js
  },
});

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const COOKIE = '__outpost_clearance';
const now = () => performance.timeOrigin + performance.now();
const timeout = Number(opt.timeout);
const rate = Number(opt.rate);

const clients = opt.addrs
  .split(',')
  .filter(Boolean)
  .map((addr) => ({
    addr,
    cookie: '',
    pool: new Pool(opt.url, {
      connections: Number(opt.conns),
      pipelining: 1,
      keepAliveTimeout: 60_000,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connect: { timeout },
      localAddress: addr,
    }),
  }));

function headers(c, accept) {
  const h = { host: 'bench.local', 'user-agent': UA, accept, 'accept-language': 'en-GB,en;q=0.8' };
  if (c.cookie) h.cookie = c.cookie;
  return h;
}

const unescapeHtml = (s) =>
  s
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The challenge form's fields, or undefined when the page has no #oc-form. */
export function parseChallenge(html) {
  const form = /<form\b[^>]*\bid="oc-form"[^>]*>/.exec(html)?.[0];
  if (!form) return undefined;
  const attr = (tag, name) => {
    const m = new RegExp(`\\b${name}="([^"]*)"`).exec(tag);
    return m ? unescapeHtml(m[1]) : undefined;
  };
  const input = (name) => {
    const tag = new RegExp(`<input\\b[^>]*\\bname="${name}"[^>]*>`).exec(html)?.[0];
    return tag ? attr(tag, 'value') : undefined;
  };
  return {
    action: attr(form, 'action') ?? '/.outpost/challenge',
    nonce: attr(form, 'data-nonce'),
    difficulty: Number(attr(form, 'data-difficulty')),
    token: input('token'),
    returnTo: input('returnTo') ?? '/',
  };
}

/** One client through the interstitial; what happened at each step. */
async function passChallenge(c, solve) {
  const out = { addr: c.addr, page: 0, difficulty: null, solveMs: null, post: 0, cookie: false, verify: 0, ms: 0, error: '' };
  const t0 = now();
  try {
    const page = await c.pool.request({ path: '/', method: 'GET', headers: headers(c, 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8') });
    const html = await page.body.text();
    out.page = page.statusCode;
    const form = parseChallenge(html);
    if (!form) {
      out.error = page.statusCode === 200 ? 'no challenge (the page was served)' : `no challenge form in the ${page.statusCode} answer`;
      return out;
    }
    if (!form.nonce || !form.token || !Number.isInteger(form.difficulty)) {
      out.error = 'the challenge form lacks data-nonce, data-difficulty or token';
      return out;
    }
    out.difficulty = form.difficulty;
    const s0 = now();
    const answer = solve(form.nonce, form.difficulty);
    out.solveMs = now() - s0;
    if (answer === undefined) {
      out.error = 'no solution found';
      return out;
    }
    const body = new URLSearchParams({ token: form.token, answer, returnTo: form.returnTo }).toString();
    const post = await c.pool.request({
      path: form.action,
      method: 'POST',
      headers: { ...headers(c, 'text/html,*/*;q=0.8'), 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) },
      body,
    });
    await post.body.text();
    out.post = post.statusCode;
    const setCookie = [post.headers['set-cookie'] ?? []].flat();
    const value = setCookie.map((h) => new RegExp(`^\\s*${COOKIE}=([^;]*)`).exec(h)?.[1]).find((v) => v !== undefined);
    if (value === undefined) {
      out.error = `the answer got ${post.statusCode} without a ${COOKIE} cookie`;
      return out;
    }
    c.cookie = `${COOKIE}=${value}`;
    out.cookie = true;
    const verify = await c.pool.request({ path: '/', method: 'GET', headers: headers(c, 'text/html,*/*;q=0.8') });
    await verify.body.text();
    out.verify = verify.statusCode;
    if (verify.statusCode !== 200) out.error = `with the clearance, / answered ${verify.statusCode}`;
  } catch (e) {
    out.error = e.code || e.message;
  } finally {
    out.ms = now() - t0;
  }
  return out;
}

async function run(startAt, durationMs) {
  const n = Math.floor((rate * durationMs) / 1000);
  const due = new Array(n);
  const latency = new Array(n);
  const status = new Array(n).fill(0);
  const err = new Array(n).fill('');
  const client = new Array(n);
  const pending = [];
  let next = 0;

  const fire = (i) => {
    const t = startAt + (i * 1000) / rate;
    const ci = i % clients.length;
    const c = clients[ci];
    due[i] = t;
    client[i] = ci;
    return (
      c.pool
        // The whole request, the wait for a free connection included, within --timeout.
        .request({ path: `${opt.path}/${i}`, method: 'GET', headers: headers(c, 'application/json'), signal: AbortSignal.timeout(timeout) })
        .then(async (res) => {
          const text = await res.body.text();
          status[i] = res.statusCode;
          if (res.statusCode >= 300) {
            // An edge refusal names itself ({"error": {"code": "rate_limited"}}); the origin's 503 is plain text.
            try {
              err[i] = String(JSON.parse(text)?.error?.code ?? '');
            } catch {
              err[i] = text.slice(0, 40).trim();
            }
          }
        })
        .catch((e) => {
          status[i] = 0;
          err[i] = e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError' ? 'timeout' : e.code || e.name || 'error';
        })
        .finally(() => {
          latency[i] = now() - t;
        })
    );
  };

  await new Promise((resolve) => {
    const tick = () => {
      const target = Math.min(n, Math.floor(((now() - startAt) * rate) / 1000) + 1);
      while (next < target) pending.push(fire(next++));
      if (next >= n) {
        clearInterval(timer);
        resolve();
      }
    };
    let timer;
    setTimeout(
      () => {
        timer = setInterval(tick, 1);
        tick();
      },
      Math.max(0, startAt - now()),
    );
  });
  await Promise.all(pending);
  return { due, latency, status, err, client, addrs: clients.map((c) => c.addr), cookies: clients.map((c) => !!c.cookie) };
}

process.on('message', async (m) => {
  if (m?.cmd === 'challenge') {
    const { solve } = await import(pathToFileURL(opt.solver).href);
    // One after the other (solving is synchronous), so each client's time is its own.
    const results = [];
    for (const c of clients) results.push(await passChallenge(c, solve));
    process.send({ type: 'challenged', clients: results });
  } else if (m?.cmd === 'start') {
    const result = await run(m.startAt, m.durationMs);
    await Promise.all(clients.map((c) => c.pool.close().catch(() => {})));
    process.send({ type: 'done', result }, () => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
