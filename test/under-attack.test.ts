/**
 * The shield across a real node (`bin/outpost.js start`, two workers): under-attack mode by hand
 * (admin API and CLI, no reload) and automatic (a surge turns it on, calm turns it off, each change
 * an event with a webhook), rate-limit counts that hold across both workers, and challenge answers
 * that are single use across workers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, ensureBuilt, repoRoot, startOrigin, waitFor, type TestServer } from './helpers.js';
import { solve } from '../src/shield/challenge/solve.js';

const TOKEN = 'test-admin-token-123456';
const BROWSER = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0', accept: 'text/html', 'accept-language': 'en' };

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a new connection (cluster workers are picked per connection). */
function call(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false, localAddress: opts.from }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

let origin: TestServer;
let hooks: TestServer;
const webhookEvents: { active: boolean; cause: string }[] = [];
let proc: ChildProcess;
let exited: Promise<unknown>;
let output = '';
let dir: string;
let file: string;
let httpPort: number;
let adminPort: number;

const admin = (path: string, body?: unknown) =>
  call(adminPort, path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const security = async () => JSON.parse((await admin('/api/security')).body) as { underAttack: { mode: string; active: boolean; reason: string; events: { active: boolean; cause: string }[] } };

beforeAll(async () => {
  origin = await startOrigin((_req, res) => res.end('origin'));
  hooks = await startOrigin((req, res) => {
    let b = '';
    req.on('data', (c) => {
      b += c;
    });
    req.on('end', () => {
      webhookEvents.push(JSON.parse(b));
      res.end();
    });
  });
  [httpPort, adminPort] = [await closedPort(), await closedPort()];
  dir = mkdtempSync(join(tmpdir(), 'outpost-shield-'));
  file = join(dir, 'outpost.yaml');
  writeFileSync(
    file,
    `
pop: { id: lab, region: local }
workers: 2
listen: { http: "127.0.0.1:${httpPort}", admin: "127.0.0.1:${adminPort}" }
admin: { token: ${TOKEN} }
log: { level: info, access: false }
pools: { main: { origins: [{ name: o1, address: "${origin.url}" }] } }
loadBalancers: [{ hostname: "*", defaultPools: [main] }]
security:
  underAttack: auto
  auto: { factor: 3, window: 2s, minRate: 30, cooldown: 3s, webhooks: ["${hooks.url}/hook"] }
  challenge: { difficulty: 6 }
  rateLimits:
    - { match: "*/limited/*", requests: 10, period: 1m, timeout: 1m }
`,
  );
  await ensureBuilt();
  proc = spawn(process.execPath, [join(repoRoot, 'bin/outpost.js'), 'start', '-c', file], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  proc.stderr!.on('data', (c: Buffer) => {
    output += c.toString();
  });
  exited = new Promise((resolve) => proc.once('exit', resolve));
  await waitFor('/readyz 200', async () => (await call(adminPort, '/readyz').catch(() => ({ status: 0 }))).status === 200, 15_000).catch((err: Error) => {
    throw new Error(`${err.message}\noutput:\n${output}`);
  });
}, 60_000);

afterAll(async () => {
  if (proc?.pid && proc.exitCode === null && proc.signalCode === null) {
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await exited;
  }
  await origin?.close();
  await hooks?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a rate limit counts for the whole node', () => {
  it('lets exactly `requests` through across both workers, then 429 on either', async () => {
    const codes: number[] = [];
    // Each request on a new connection: the cluster spreads them over both workers.
    for (let i = 0; i < 14; i++) codes.push((await call(httpPort, '/limited/x', { from: '127.0.0.2' })).status);
    expect(codes.filter((c) => c === 200)).toHaveLength(10);
    expect(codes.slice(0, 10).every((c) => c === 200)).toBe(true);
    expect(codes.slice(10)).toEqual([429, 429, 429, 429]);
    // Another client has its own count.
    expect((await call(httpPort, '/limited/x', { from: '127.0.0.3' })).status).toBe(200);
  });
});

describe('under-attack mode by hand', () => {
  it('the admin API turns it on and off without a reload; the CLI does the same', async () => {
    expect((await security()).underAttack).toMatchObject({ mode: 'auto', active: false });
    expect((await call(httpPort, '/', { headers: BROWSER, from: '127.0.0.4' })).status).toBe(200);
    expect((await admin('/api/security/under-attack', { mode: 'on' })).status).toBe(200);
    // Every worker hears it: try several connections.
    await waitFor('the challenge on every worker', async () => {
      const r = await Promise.all([1, 2, 3, 4].map(() => call(httpPort, '/', { headers: BROWSER, from: '127.0.0.4' })));
      return r.every((x) => x.status === 503 && x.headers['x-outpost-mitigated'] === 'challenge');
    });
    const api = await call(httpPort, '/api/x', { headers: { accept: 'application/json' }, from: '127.0.0.4' });
    expect(api.status).toBe(403);
    expect(JSON.parse(api.body).error.code).toBe('challenge_required');
    expect((await admin('/api/security/under-attack', { mode: 'bogus' })).status).toBe(400);

    const cli = promisify(execFile);
    const off = await cli(process.execPath, [join(repoRoot, 'bin/outpost.js'), 'under-attack', 'off', '-c', file]);
    expect(off.stdout).toMatch(/under-attack mode: off \(mode off\)/);
    await waitFor('the challenge off on every worker', async () => {
      const r = await Promise.all([1, 2, 3, 4].map(() => call(httpPort, '/', { headers: BROWSER, from: '127.0.0.4' })));
      return r.every((x) => x.status === 200);
    });
    const s = await security();
    expect(s.underAttack.events.slice(0, 2).map((e) => [e.active, e.cause])).toEqual([
      [false, 'admin'],
      [true, 'admin'],
    ]);
    await cli(process.execPath, [join(repoRoot, 'bin/outpost.js'), 'under-attack', 'auto', '-c', file]);
    expect((await security()).underAttack.mode).toBe('auto');
  });

  it('a challenge answer is single use across workers', async () => {
    await admin('/api/security/under-attack', { mode: 'on' });
    await waitFor('challenge on', async () => (await call(httpPort, '/', { headers: BROWSER, from: '127.0.0.5' })).status === 503);
    const page = await call(httpPort, '/', { headers: BROWSER, from: '127.0.0.5' });
    const nonce = /data-nonce="([^"]+)"/.exec(page.body)![1];
    const difficulty = Number(/data-difficulty="(\d+)"/.exec(page.body)![1]);
    const token = /name="token" value="([^"]+)"/.exec(page.body)![1];
    const body = new URLSearchParams({ token, answer: solve(nonce, difficulty)!, returnTo: '/' }).toString();
    const submit = () => call(httpPort, '/.outpost/challenge', { method: 'POST', from: '127.0.0.5', headers: { ...BROWSER, 'content-type': 'application/x-www-form-urlencoded' }, body });
    const statuses = [await submit(), await submit(), await submit(), await submit()].map((r) => r.status);
    expect(statuses).toEqual([303, 403, 403, 403]);
    await admin('/api/security/under-attack', { mode: 'auto' });
  });
});

describe('automatic under-attack mode', () => {
  it('turns on under a surge, tells the webhook, and turns off once traffic is calm', async () => {
    await waitFor('mode off', async () => !(await security()).underAttack.active, 10_000);
    // Calm: ~10 requests/s for 3 s, the baseline.
    for (let i = 0; i < 30; i++) {
      await call(httpPort, '/calm', { from: '127.0.0.6' });
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await security()).underAttack.active).toBe(false);
    // Surge: as fast as 32 parallel clients go, until the mode turns on (window 2 s). On a machine
    // busy with the rest of the suite, 8 clients once stayed under the 30 requests/s the mode
    // needs, and 16 once did for 20 s.
    let on = false;
    const surge = async (n: number) => {
      while (!on) await call(httpPort, '/flood', { from: `127.0.1.${n}` }).catch(() => undefined);
    };
    const flooding = Promise.all(Array.from({ length: 32 }, (_, i) => surge(i + 1)));
    await waitFor('mode on', async () => (on = (await security()).underAttack.active), 30_000);
    await flooding;
    const s = await security();
    expect(s.underAttack.reason).toMatch(/./);
    expect(s.underAttack.events[0]).toMatchObject({ active: true, cause: 'auto' });
    // A navigation is challenged now.
    expect((await call(httpPort, '/', { headers: BROWSER, from: '127.0.0.7' })).status).toBe(503);
    // Calm again: off after the cooldown (3 s).
    await waitFor('mode off again', async () => !(await security()).underAttack.active, 20_000);
    expect((await security()).underAttack.events[0]).toMatchObject({ active: false, cause: 'auto' });
    expect((await call(httpPort, '/', { headers: BROWSER, from: '127.0.0.7' })).status).toBe(200);
    await waitFor('webhooks', () => webhookEvents.some((e) => e.active && e.cause === 'auto') && webhookEvents.some((e) => !e.active && e.cause === 'auto'), 5_000);
    expect(output).toMatch(/under-attack mode ON/);
  }, 90_000);
});
