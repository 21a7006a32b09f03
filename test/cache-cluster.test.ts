/**
 * The cache of a real node (supervisor + 2 workers) with a disk tier: hits shared by the workers,
 * the admin API's cache view and purge, the `outpost purge` CLI, and entries kept across a restart.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, request } from 'undici';
import { closedPort, ensureBuilt, repoRoot, startOrigin, waitFor, type TestServer } from './helpers.js';

const TOKEN = 'test-cache-token-0123456789';

describe('cache on a node with workers', () => {
  let proc: ChildProcess | undefined;
  let dir: string;
  let file: string;
  let httpPort: number;
  let adminPort: number;
  let output = '';
  let origin: TestServer;
  const counts = new Map<string, number>();

  async function start(): Promise<void> {
    output = '';
    proc = spawn(process.execPath, [join(repoRoot, 'bin/outpost.js'), 'start', '-c', file], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    proc.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    await waitFor('/readyz', async () => (await request(`http://127.0.0.1:${adminPort}/readyz`)).statusCode === 200, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });
  }

  async function stop(): Promise<void> {
    const p = proc!;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
    proc = undefined;
  }

  beforeAll(async () => {
    origin = await startOrigin((req, res) => {
      const path = req.url ?? '/';
      counts.set(path, (counts.get(path) ?? 0) + 1);
      if (path.startsWith('/slow')) {
        const maxAge = path.includes('expiring') ? 1 : 600;
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': `max-age=${maxAge}` });
          res.end('slow');
        }, 300);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(path.length + 5), 'cache-control': 'max-age=600', 'cache-tag': 'all' });
      res.end(`page ${path}`);
    });
    [httpPort, adminPort] = [await closedPort(), await closedPort()];
    dir = mkdtempSync(join(tmpdir(), 'outpost-cache-node-'));
    file = join(dir, 'outpost.yaml');
    writeFileSync(
      file,
      [
        'pop: { id: cch }',
        `listen: { http: 127.0.0.1:${httpPort}, admin: 127.0.0.1:${adminPort} }`,
        'workers: 2',
        'log: { level: warn, access: false }',
        `admin: { token: ${TOKEN} }`,
        'cache: { disk: { path: cache, maxSize: 64MiB } }',
        `pools: { p: { origins: [{ name: a, address: "${origin.url}" }] } }`,
        'loadBalancers: [{ hostname: "*", defaultPools: [p] }]',
        '',
      ].join('\n'),
    );
    await ensureBuilt();
    await start();
  });
  afterAll(async () => {
    if (proc?.pid && proc.exitCode === null) {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One request on a new connection, so the cluster hands it to either worker. */
  async function fresh(path: string): Promise<{ body: string; cacheStatus: string }> {
    const client = new Client(`http://127.0.0.1:${httpPort}`);
    try {
      const r = await client.request({ path, method: 'GET', headers: { host: 'site.example' } });
      return { body: await r.body.text(), cacheStatus: String(r.headers['cache-status']) };
    } finally {
      await client.close();
    }
  }

  async function api(path: string, method: 'GET' | 'POST' = 'GET', body?: unknown) {
    const r = await request(`http://127.0.0.1:${adminPort}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: r.statusCode, json: (await r.body.json()) as Record<string, unknown> };
  }

  function cli(...args: string[]) {
    return spawnSync(process.execPath, [join(repoRoot, 'bin/outpost.js'), 'purge', '-c', file, ...args], { encoding: 'utf8' });
  }

  /** The client has its answer before the entry is committed to disk: wait for the commit. */
  async function stored(path: string): Promise<void> {
    await fresh(path);
    await waitFor(`${path} stored`, async () => (await fresh(path)).cacheStatus.startsWith('outpost; hit'));
  }

  it('a response one worker stored is a hit in the other (shared disk tier)', async () => {
    await fresh('/shared');
    await waitFor('committed', async () => ((await api('/api/cache')).json.entries as number) > 0);
    for (let i = 0; i < 8; i++) expect((await fresh('/shared')).cacheStatus).toMatch(/^outpost; hit/);
    expect(counts.get('/shared')).toBe(1);
    const view = (await api('/api/cache')).json;
    expect(view.workers).toBe(2);
    expect(view.entries as number).toBeGreaterThan(0);
    expect(view.failures).toEqual([]);
  });

  it('a burst of concurrent misses over both workers makes one origin request', async () => {
    const bodies = await Promise.all(Array.from({ length: 100 }, () => fresh('/slow/burst')));
    expect(bodies.every((b) => b.body === 'slow')).toBe(true);
    expect(counts.get('/slow/burst')).toBe(1);
  });

  it('an expired object that both workers hold in memory is refreshed once for the node', async () => {
    await stored('/slow/expiring');
    // Both workers read it (and keep it in their memory tiers).
    for (let i = 0; i < 6; i++) await fresh('/slow/expiring');
    const before = counts.get('/slow/expiring')!;
    await new Promise((r) => setTimeout(r, 1300));
    const bodies = await Promise.all(Array.from({ length: 100 }, () => fresh('/slow/expiring')));
    expect(bodies.every((b) => b.body === 'slow')).toBe(true);
    expect(counts.get('/slow/expiring')).toBe(before + 1);
  });

  it('`outpost purge` purges every worker; the next request goes to the origin', async () => {
    await stored('/to-purge');
    const before = counts.get('/to-purge')!;
    const r = cli('--url', 'http://site.example/to-purge');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^purged [1-9]\d* entr(y|ies) on 2 worker\(s\)/);
    expect((await fresh('/to-purge')).cacheStatus).not.toMatch(/^outpost; hit/);
    expect(counts.get('/to-purge')).toBe(before + 1);
  });

  it('the CLI and the API refuse a purge that names nothing, or a bad body', async () => {
    expect(cli().status).toBe(2);
    expect((await api('/api/cache/purge', 'POST', {})).status).toBe(400);
    expect((await api('/api/cache/purge', 'POST', '{not json')).status).toBe(400);
    expect((await api('/api/cache/purge', 'POST', { urls: ['x'], mode: 'shred' })).status).toBe(400);
  });

  it('purges by tag through the API', async () => {
    await stored('/tagged');
    const before = counts.get('/tagged')!;
    const r = await api('/api/cache/purge', 'POST', { tags: ['all'] });
    expect(r.status).toBe(200);
    expect(r.json.purged as number).toBeGreaterThan(0);
    await fresh('/tagged');
    expect(counts.get('/tagged')).toBe(before + 1);
  });

  it('keeps entries on disk across a restart of the node', async () => {
    await stored('/kept');
    const before = counts.get('/kept')!;
    await stop();
    await start();
    expect((await fresh('/kept')).cacheStatus).toMatch(/^outpost; hit/);
    expect(counts.get('/kept')).toBe(before);
  });
});
