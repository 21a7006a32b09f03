/**
 * The admin API of a real node (supervisor + 2 workers): token, the runtime view with health from
 * the supervisor's monitors and counts from the workers, and run-time disable/enable/drain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { closedPort, ensureBuilt, repoRoot, sendRaw, startOrigin, waitFor, type TestServer } from './helpers.js';

const TOKEN = 'test-admin-token-0123456789';

describe('admin API', () => {
  let proc: ChildProcess;
  let dir: string;
  let httpPort: number;
  let adminPort: number;
  let output = '';
  let a: TestServer;
  let b: TestServer;
  let bHealthy = true;

  beforeAll(async () => {
    a = await startOrigin((req, res) => {
      res.end(req.url === '/healthz' ? 'ok' : 'a');
    });
    b = await startOrigin((req, res) => {
      if (req.url === '/healthz') {
        res.statusCode = bHealthy ? 200 : 503;
        res.end();
        return;
      }
      res.end('b');
    });
    [httpPort, adminPort] = [await closedPort(), await closedPort()];
    dir = mkdtempSync(join(tmpdir(), 'outpost-admin-'));
    const file = join(dir, 'outpost.yaml');
    writeFileSync(
      file,
      [
        'pop: { id: adm }',
        `listen: { http: 127.0.0.1:${httpPort}, admin: 127.0.0.1:${adminPort} }`,
        'workers: 2',
        'log: { level: warn, access: false }',
        `admin: { token: ${TOKEN} }`,
        'monitors: { hc: { type: http, path: /healthz, interval: 200ms, timeout: 200ms, retries: 0 } }',
        `pools: { p: { monitor: hc, originSteering: round_robin, origins: [{ name: a, address: "${a.url}" }, { name: b, address: "${b.url}" }] } }`,
        'loadBalancers: [{ hostname: "*", defaultPools: [p], sessionAffinity: { type: cookie, drainDuration: 1m } }]',
        '',
      ].join('\n'),
    );
    await ensureBuilt();
    proc = spawn(process.execPath, [join(repoRoot, 'bin/outpost.js'), 'start', '-c', file], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    proc.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    await waitFor('/readyz', async () => (await api('/readyz', { auth: false })).status === 200, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });
  });
  afterAll(async () => {
    if (proc?.pid && proc.exitCode === null) {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await a?.close();
    await b?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function api(path: string, opts: { method?: 'GET' | 'POST'; auth?: boolean | string } = {}) {
    const headers: Record<string, string> = {};
    if (opts.auth !== false) headers.authorization = `Bearer ${typeof opts.auth === 'string' ? opts.auth : TOKEN}`;
    const r = await request(`http://127.0.0.1:${adminPort}${path}`, { method: opts.method ?? 'GET', headers });
    const text = await r.body.text();
    return { status: r.statusCode, json: text.startsWith('{') ? JSON.parse(text) : undefined, text };
  }
  const who = async () => (await request(`http://127.0.0.1:${httpPort}/`)).body.text();
  type OriginView = { name: string; health: string; adminState: string; enabled: boolean; lastError?: string; rttMs?: number };
  const origins = async (): Promise<Record<string, OriginView>> => {
    const r = await api('/api/pools');
    return Object.fromEntries(r.json.pools[0].origins.map((o: OriginView) => [o.name, o]));
  };

  it('refuses requests without the right token', async () => {
    expect((await api('/api/pools', { auth: false })).status).toBe(401);
    expect((await api('/api/pools', { auth: 'wrong-token-wrong-token-00' })).status).toBe(401);
    expect((await api('/api/loadbalancers')).json.loadBalancers[0]).toMatchObject({ hostname: '*', steering: 'off', defaultPools: ['p'], sessionAffinity: 'cookie' });
  });

  it('stays up on targets that are not paths, with or without the token (a throw here stopped the node)', async () => {
    for (const [target, auth] of [
      ['http://[', ''],
      ['*', ''],
      ['/api/%E0%A4%A', TOKEN],
      ['/api/%E0%A4', TOKEN],
      ['/api/pools/%FF/origins/a/disable', TOKEN],
      ['http://[', TOKEN],
    ]) {
      const r = await sendRaw(adminPort, `GET ${target} HTTP/1.1\r\nHost: x\r\n${auth ? `Authorization: Bearer ${auth}\r\n` : ''}Connection: close\r\n\r\n`);
      expect(r.text, target).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect((await sendRaw(adminPort, 'GET /\x01 HTTP/1.1\r\n\r\n')).text).toMatch(/^HTTP\/1\.1 400 /);
    // The node (supervisor, admin listener, workers) is still there.
    expect(proc.exitCode).toBeNull();
    expect((await api('/healthz', { auth: false })).status).toBe(200);
    expect((await api('/api/loadbalancers')).status).toBe(200);
    expect(await who()).toMatch(/^[ab]$/);
  });

  it('shows health from the monitors, and a failing origin with its last error', async () => {
    await waitFor('both healthy', async () => {
      const o = await origins();
      return o.a.health === 'healthy' && o.b.health === 'healthy';
    });
    expect((await origins()).a.rttMs).toBeGreaterThan(0);
    bHealthy = false;
    await waitFor('b unhealthy', async () => (await origins()).b.health === 'unhealthy');
    expect((await origins()).b.lastError).toBe('status 503');
    await waitFor('workers to stop sending to b', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add(await who());
      return seen.size === 1 && seen.has('a');
    });
    const events = (await api('/api/events')).json.events;
    expect(events[0]).toMatchObject({ pool: 'p', origin: 'b', from: 'healthy', to: 'unhealthy', reason: 'status 503' });
    const metrics = (await api('/metrics', { auth: false })).text;
    expect(metrics).toMatch(/outpost_origin_healthy\{origin="p\/b"\} 0/);
    bHealthy = true;
    await waitFor('b healthy again', async () => (await origins()).b.health === 'healthy');
  });

  it('disables, drains and enables an origin at run time, without a reload', async () => {
    expect((await api('/api/pools/p/origins/b/disable', { method: 'POST' })).status).toBe(200);
    expect((await origins()).b).toMatchObject({ enabled: false, adminState: 'disabled' });
    await waitFor('no traffic to b', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add(await who());
      return !seen.has('b');
    });
    expect((await api('/api/pools/p/origins/b/drain', { method: 'POST' })).json).toEqual({ pool: 'p', origin: 'b', action: 'drain' });
    expect((await origins()).b.adminState).toBe('draining');
    expect((await api('/api/pools/p/origins/b/enable', { method: 'POST' })).status).toBe(200);
    await waitFor('b back in rotation', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add(await who());
      return seen.has('b');
    });
    expect((await api('/api/pools/p/origins/nope/disable', { method: 'POST' })).status).toBe(404);
    expect((await api('/api/pools/p/origins/b/explode', { method: 'POST' })).status).toBe(404);
  });
});
