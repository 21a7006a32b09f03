/**
 * Three PoPs (three `outpost start` processes, 2 workers each) sharing one real redis-server
 * (issue 15, "Done when"): the directory of PoPs, a purge at A gone at B and C within a second, a
 * PoP cut off from Redis during a purge applying it on return, a clearance from A accepted at B,
 * admin actions and under-attack mode at every PoP, a pushed config running at all three, and
 * Redis killed: every PoP keeps serving and says so; back, they catch up.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solve } from '../src/shield/challenge/solve.js';
import { runOutpost, startOutpost, type OutpostProcess } from './cli-process.js';
import { closedPort, ensureBuilt, startOrigin, waitFor, type TestServer } from './helpers.js';
import { cutter, hasRedisServer, startRedis, type Cutter, type TestRedis } from './support/redis-server.js';

const TOKEN = 'cluster-pops-admin-token-0123';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36';
const BROWSER = { 'user-agent': UA, accept: 'text/html', 'accept-language': 'en' };

interface Pop {
  id: string;
  file: string;
  http: number;
  admin: number;
  proc: OutpostProcess;
}

describe.skipIf(!hasRedisServer())('three PoPs on one Redis', () => {
  let redis: TestRedis;
  let hop: Cutter;
  let origin: TestServer;
  let dir: string;
  let originHits = 0;
  const pops: Record<'a' | 'b' | 'c', Pop> = {} as never;

  const configText = (id: string, http: number, admin: number, redisUrl: string, extra = '') =>
    [
      `pop: { id: ${id}, region: r-${id} }`,
      `listen: { http: 127.0.0.1:${http}, admin: 127.0.0.1:${admin} }`,
      'workers: 2',
      'log: { level: warn, access: false }',
      `admin: { token: ${TOKEN} }`,
      `cluster: { redis: "${redisUrl}", prefix: "pops-test:" }`,
      'limits: { clientConnections: 0, clientConnectionRate: 0 }',
      'monitors: { hc: { type: http, path: /healthz, interval: 1s, timeout: 3s, retries: 2, consecutiveDown: 5 } }',
      `pools: { p: { monitor: hc, origins: [{ name: o1, address: "${origin.url}" }, { name: o2, address: "${origin.url}" }] } }`,
      'loadBalancers: [{ hostname: "*", defaultPools: [p] }]',
      'rules: [{ match: "*", cache: everything, edgeTtl: 1h }]',
      extra || 'security: { rateLimits: [{ match: "*/limited*", key: "header:x-user", requests: 10, period: 10s, timeout: 10s, scope: global }] }',
      '',
    ].join('\n');

  const api = async (pop: Pop, path: string, method: 'GET' | 'POST' = 'GET', body?: unknown) => {
    const r = await request(`http://127.0.0.1:${pop.admin}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.statusCode, json: (await r.body.json()) as Record<string, unknown> };
  };
  const get = async (pop: Pop, path: string, headers: Record<string, string> = {}) => {
    const r = await request(`http://127.0.0.1:${pop.http}${path}`, { headers: { host: 'shop.example', ...headers } });
    return { status: r.statusCode, headers: r.headers as Record<string, string>, text: await r.body.text() };
  };
  const cacheStatus = async (pop: Pop, path: string) => String((await get(pop, path)).headers['cache-status'] ?? '');
  const popsSeen = async (pop: Pop) => ((await api(pop, '/status')).json.pops as { pop: string; state: string; config: { version: number; source: string } }[]) ?? [];

  beforeAll(async () => {
    await ensureBuilt();
    origin = await startOrigin((req, res) => {
      originHits++;
      res.setHeader('cache-control', 'max-age=3600');
      res.end(`origin ${req.url}`);
    });
    redis = await startRedis();
    hop = await cutter(redis.port); // PoP c reaches Redis through a hop the test can cut
    dir = mkdtempSync(join(tmpdir(), 'outpost-pops-'));
    for (const id of ['a', 'b', 'c'] as const) {
      const http = await closedPort();
      const admin = await closedPort();
      const file = join(dir, `${id}.yaml`);
      writeFileSync(file, configText(id, http, admin, id === 'c' ? hop.url : redis.url));
      pops[id] = { id, file, http, admin, proc: startOutpost(file) };
    }
    for (const p of Object.values(pops)) {
      await waitFor(
        `PoP ${p.id} ready`,
        async () =>
          (await request(`http://127.0.0.1:${p.admin}/readyz`).then(
            (r) => r.statusCode,
            () => 0,
          )) === 200,
        20_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${p.proc.output()}`);
      });
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(Object.values(pops).map((p) => p.proc?.kill()));
    await hop?.close();
    await redis?.stop();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('each PoP hears the three, itself included (outpost status)', async () => {
    for (const p of Object.values(pops)) {
      await waitFor(`three PoPs up at ${p.id}`, async () => (await popsSeen(p)).filter((v) => v.state === 'up').length === 3, 15_000);
    }
    const out = runOutpost(['status', '-c', pops.b.file]);
    expect(out.status, out.stderr).toBe(0);
    for (const id of ['a', 'b', 'c']) expect(out.stdout).toMatch(new RegExp(`^${id}\\s+r-${id}\\s+up\\s+own file`, 'm'));
    expect(out.stdout).toMatch(/shared state: redis/);
  });

  it("the admin API shows each origin's health as every PoP sees it", async () => {
    await waitFor(
      'o1 seen healthy by a, b and c',
      async () => {
        const pools = (await api(pops.b, '/api/pools')).json.pools as { origins: { name: string; seenBy: Record<string, { status: string }> }[] }[];
        const seen = pools[0].origins.find((o) => o.name === 'o1')!.seenBy;
        return ['a', 'b', 'c'].every((id) => seen[id]?.status === 'healthy');
      },
      15_000,
    );
  });

  it('a purge at A is gone at B and C within a second', async () => {
    for (const p of [pops.b, pops.c]) {
      await cacheStatus(p, '/purge-me');
      await waitFor(`a hit at ${p.id}`, async () => (await cacheStatus(p, '/purge-me')).includes('hit'));
    }
    const purged = await api(pops.a, '/api/cache/purge', 'POST', { urls: ['http://shop.example/purge-me'] });
    expect(purged.status).toBe(200);
    const t0 = Date.now();
    // Each PoP's first answer that is not a hit is when the purge reached it.
    const reached = async (p: Pop) => {
      while (Date.now() - t0 < 5000) {
        if (!(await cacheStatus(p, '/purge-me')).includes('hit')) return Date.now() - t0;
        await new Promise((r) => setTimeout(r, 20));
      }
      return Number.POSITIVE_INFINITY;
    };
    const [b, c] = await Promise.all([reached(pops.b), reached(pops.c)]);
    expect(b).toBeLessThan(1000);
    expect(c).toBeLessThan(1000);
  });

  it('a PoP cut off from Redis during a purge applies it when it comes back', async () => {
    await cacheStatus(pops.c, '/while-away');
    await waitFor('a hit at c', async () => (await cacheStatus(pops.c, '/while-away')).includes('hit'));
    hop.cut();
    await waitFor(
      'c says it lost Redis',
      async () => (await api(pops.c, '/status')).json.cluster && ((await api(pops.c, '/status')).json.cluster as { connected: boolean }).connected === false,
      10_000,
    );
    expect((await api(pops.a, '/api/cache/purge', 'POST', { urls: ['http://shop.example/while-away'] })).status).toBe(200);
    // Cut off, c still serves its copy: it has not heard of the purge.
    expect(await cacheStatus(pops.c, '/while-away')).toContain('hit');
    hop.mend();
    await waitFor('c applies the purge it missed', async () => !(await cacheStatus(pops.c, '/while-away')).includes('hit'), 15_000);
    await waitFor('c connected again', async () => ((await api(pops.c, '/status')).json.cluster as { connected: boolean }).connected, 10_000);
  });

  it('a clearance earned at A is accepted at B (one secret for the edge)', async () => {
    expect((await api(pops.a, '/api/security/under-attack', 'POST', { mode: 'on' })).status).toBe(200);
    // Under-attack mode set at A reaches B and C.
    for (const p of [pops.b, pops.c]) {
      await waitFor(`under attack at ${p.id}`, async () => (await get(p, '/page', BROWSER)).status === 503, 5000);
    }
    const page = await get(pops.a, '/page', BROWSER);
    expect(page.status).toBe(503);
    const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(page.text)?.[1];
    const input = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(page.text)?.[1];
    const answer = solve(attr('data-nonce')!, Number(attr('data-difficulty')))!;
    const form = new URLSearchParams({ token: input('token')!, answer, returnTo: '/page' }).toString();
    const solved = await request(`http://127.0.0.1:${pops.a.http}/.outpost/challenge`, {
      method: 'POST',
      headers: { host: 'shop.example', ...BROWSER, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    await solved.body.text();
    expect(solved.statusCode).toBe(303);
    const cookie = String(solved.headers['set-cookie']).split(';')[0];
    expect((await get(pops.b, '/page', { ...BROWSER, cookie })).status).toBe(200);
    expect((await api(pops.c, '/api/security/under-attack', 'POST', { mode: 'off' })).status).toBe(200);
    for (const p of [pops.a, pops.b]) {
      await waitFor(`no longer under attack at ${p.id}`, async () => (await get(p, '/page2', BROWSER)).status === 200, 5000);
    }
  });

  it('an origin disabled at A is disabled at B and C', async () => {
    expect((await api(pops.a, '/api/pools/p/origins/o2/disable', 'POST')).status).toBe(200);
    for (const p of [pops.b, pops.c]) {
      await waitFor(
        `o2 disabled at ${p.id}`,
        async () => {
          const pools = (await api(p, '/api/pools')).json.pools as { origins: { name: string; adminState: string }[] }[];
          return pools[0].origins.find((o) => o.name === 'o2')?.adminState === 'disabled';
        },
        5000,
      );
    }
    expect((await api(pops.b, '/api/pools/p/origins/o2/enable', 'POST')).status).toBe(200);
    await waitFor(
      'o2 enabled at a',
      async () => {
        const pools = (await api(pops.a, '/api/pools')).json.pools as { origins: { name: string; adminState: string }[] }[];
        return pools[0].origins.find((o) => o.name === 'o2')?.adminState === 'enabled';
      },
      5000,
    );
  });

  it('a global limit of 10 per 10 s across the three PoPs lets exactly 10 through', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const p = [pops.a, pops.b, pops.c][i % 3];
      statuses.push((await get(p, `/limited-${i}`, { 'x-user': 'global-1' })).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    // Another key has its own 10.
    expect((await get(pops.b, '/limited-x', { 'x-user': 'global-2' })).status).toBe(200);
  });

  it('a pushed config runs at all three; an invalid push is refused by the CLI', async () => {
    const pushedFile = join(dir, 'pushed.yaml');
    const text = configText(
      'a',
      pops.a.http,
      pops.a.admin,
      redis.url,
      'security: { level: low, rateLimits: [{ match: "*/limited*", key: "header:x-user", requests: 10, period: 10s, timeout: 10s, scope: global }] }',
    ).replace(
      'rules: [{ match: "*", cache: everything, edgeTtl: 1h }]',
      'rules: [{ match: "*/moved", forwardingUrl: { url: "https://new.example/", status: 302 } }, { match: "*", cache: everything, edgeTtl: 1h }]',
    );
    writeFileSync(pushedFile, text);
    const out = runOutpost(['push', '-c', pushedFile]);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/pushed as version \d+/);
    for (const p of Object.values(pops)) {
      await waitFor(`the pushed rule at ${p.id}`, async () => (await get(p, '/moved')).status === 302, 10_000);
    }
    await waitFor('every PoP reports the pushed version', async () => (await popsSeen(pops.b)).every((p) => p.config.source === 'pushed'), 10_000);
    writeFileSync(pushedFile, text.replace('defaultPools: [p]', 'defaultPools: [nope]'));
    expect(runOutpost(['push', '-c', pushedFile]).status).toBe(1);
  });

  it('Redis killed: every PoP keeps serving and says so; back, they catch up', async () => {
    await redis.kill();
    for (const p of Object.values(pops)) {
      expect((await get(p, '/still-serving')).status).toBe(200);
      await waitFor(`${p.id} says Redis is away`, async () => ((await api(p, '/status')).json.cluster as { connected: boolean }).connected === false, 10_000);
    }
    // ... in its metrics and its log too.
    expect(await (await request(`http://127.0.0.1:${pops.b.admin}/metrics`)).body.text()).toMatch(/^outpost_cluster_connected 0$/m);
    await waitFor('the log line', () => pops.b.proc.output().includes('the shared state is away'), 5000);
    // A purge while Redis is down: applied at A now, sent when Redis is back.
    await cacheStatus(pops.b, '/after-outage');
    await waitFor('a hit at b', async () => (await cacheStatus(pops.b, '/after-outage')).includes('hit'));
    expect((await api(pops.a, '/api/cache/purge', 'POST', { urls: ['http://shop.example/after-outage'] })).status).toBe(200);
    // The global limit while Redis is down: each PoP alone at ⌊10 ÷ 3⌋ = 3 (docs/cluster.md).
    const alone: Record<string, number> = {};
    for (const p of Object.values(pops)) {
      alone[p.id] = 0;
      for (let i = 0; i < 6; i++) if ((await get(p, `/limited-down-${i}`, { 'x-user': 'global-down' })).status === 200) alone[p.id]++;
    }
    expect(alone).toEqual({ a: 3, b: 3, c: 3 });
    await redis.restart();
    for (const p of Object.values(pops)) {
      await waitFor(`${p.id} reconnected`, async () => ((await api(p, '/status')).json.cluster as { connected: boolean }).connected, 15_000);
    }
    await waitFor('b applies the purge sent after the outage', async () => !(await cacheStatus(pops.b, '/after-outage')).includes('hit'), 15_000);
    expect(originHits).toBeGreaterThan(0);
  });
});
