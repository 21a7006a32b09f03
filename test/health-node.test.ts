/**
 * Passive ejection counts the node's traffic, whichever workers carried it: `outpost start` with
 * 2 and then 4 workers, an origin answering 502 (and one refusing connections) beside a good one.
 * The test knows which worker sent each failing request (the origin looks the connection's owner
 * up in /proc, as test/cluster.test.ts does), so it shows the failures were spread over workers
 * and the origin was ejected after exactly `consecutiveFailures` of them, not that many per worker.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutpost, httpGet } from './cli-process.js';
import { closedPort, ensureBuilt, waitFor } from './helpers.js';
import { socketOwner } from './socket-owner.js';

const TOKEN = 'health-node-test-token-0123456789';

interface CountingOrigin {
  url: string;
  /** Requests answered, and the worker each came from. */
  hits: (number | undefined)[];
  close(): Promise<void>;
}

async function countingOrigin(status: number, pids: () => number[]): Promise<CountingOrigin> {
  const hits: (number | undefined)[] = [];
  const server = http.createServer((req, res) => {
    // The monitor's probe: healthy, and not counted as traffic.
    if (req.url === '/healthz') return void res.end('ok');
    hits.push(socketOwner(req.socket.remotePort!, req.socket.localPort!, pids()));
    res.statusCode = status;
    res.end(status === 200 ? 'good' : 'bad');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A node of `workers` workers in front of a pool [bad, good] (`monitored`: checked on /healthz every 300 ms). */
async function startNode(workers: number, consecutiveFailures: number, bad: string, good: string, monitored = false) {
  const [httpPort, adminPort] = [await closedPort(), await closedPort()];
  const dir = mkdtempSync(join(tmpdir(), 'outpost-health-node-'));
  const file = join(dir, 'outpost.yaml');
  writeFileSync(
    file,
    `# written by test/health-node.test.ts
pop: { id: health-node }
listen: { http: "127.0.0.1:${httpPort}", admin: "127.0.0.1:${adminPort}" }
workers: ${workers}
log: { level: warn, access: false }
admin: { token: ${TOKEN} }
health:
  passive: { consecutiveFailures: ${consecutiveFailures}, baseEjectionTime: ${monitored ? '1s' : '120s'} }
monitors:
  probe: { path: /healthz, interval: 300ms, timeout: 1s }
pools:
  main:
    originSteering: round_robin${monitored ? '\n    monitor: probe' : ''}
    origins: [{ name: bad, address: "${bad}" }, { name: good, address: "${good}" }]
loadBalancers:
  - { hostname: "*", defaultPools: [main] }
`,
  );
  await ensureBuilt();
  const proc = startOutpost(file, dir);
  const admin = (path: string) => httpGet(adminPort, path, { authorization: `Bearer ${TOKEN}` });
  await waitFor('/readyz 200', async () => (await admin('/readyz').catch(() => ({ status: 0 }))).status === 200, 20_000).catch((err: Error) => {
    throw new Error(`${err.message}\noutput:\n${proc.output()}`);
  });
  const pids = (JSON.parse((await admin('/status')).body) as { workers: { pids: number[] } }).workers.pids;
  const ejected = async () => {
    const pools = JSON.parse((await admin('/api/pools')).body) as { pools: { origins: { name: string; ejected: boolean }[] }[] };
    return pools.pools[0].origins.find((o) => o.name === 'bad')!.ejected;
  };
  return {
    proc,
    pids,
    ejected,
    get: () => httpGet(httpPort, '/'),
    metrics: async () => (await admin('/metrics')).body,
    async stop() {
      await proc.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits longer than the workers' flush period plus a hop, so a count that would eject has. */
const settle = () => new Promise((r) => setTimeout(r, 300));

describe.each([2, 4])('passive ejection with %i workers counts the node', (workers) => {
  let node: Awaited<ReturnType<typeof startNode>>;
  let bad: CountingOrigin;
  let good: CountingOrigin;
  // Twice the workers: with a detector per worker, no worker would see that many.
  const threshold = 2 * workers;

  beforeAll(async () => {
    let pids: number[] = [];
    bad = await countingOrigin(502, () => pids);
    good = await countingOrigin(200, () => pids);
    node = await startNode(workers, threshold, bad.url, good.url);
    pids = node.pids;
  }, 40_000);

  afterAll(async () => {
    await node?.stop();
    await Promise.all([bad?.close(), good?.close()]);
  });

  it(`ejects the origin answering 502 after exactly ${2 * workers} failures, spread over the workers`, async () => {
    // Sequential requests, each on a new connection: the supervisor deals connections to workers in turn.
    const failUntil = async (n: number) => {
      for (let i = 0; bad.hits.length < n; i++) {
        if (i > 20 * n) throw new Error(`only ${bad.hits.length} of ${n} requests reached the bad origin`);
        const r = await node.get();
        expect([200, 502]).toContain(r.status);
      }
    };
    await failUntil(threshold - 1);
    await settle();
    expect(await node.ejected()).toBe(false);
    const senders = new Set(bad.hits);
    expect(senders.has(undefined)).toBe(false);
    // Every worker carried some of the failures: none saw `threshold` of them on its own.
    expect(senders.size).toBe(workers);

    await failUntil(threshold);
    const t0 = performance.now();
    await waitFor('bad ejected', () => node.ejected(), 3_000);
    console.log(`${workers} workers: ejected ${Math.round(performance.now() - t0)} ms after the ${threshold}th failure (as seen by the admin API)`);
    expect(bad.hits).toHaveLength(threshold);

    // The next requests, on every worker, go to the good origin.
    await settle();
    const before = good.hits.length;
    for (let i = 0; i < 4 * workers; i++) expect((await node.get()).status).toBe(200);
    expect(bad.hits).toHaveLength(threshold);
    expect(new Set(good.hits.slice(before)).size).toBe(workers);
  });
});

describe('passive ejection of an origin refusing connections (2 workers)', () => {
  let node: Awaited<ReturnType<typeof startNode>>;
  let good: CountingOrigin;
  const refusedCount = async () => {
    let n = 0;
    for (const line of (await node.metrics()).split('\n')) {
      const m = /^outpost_upstream_errors_total\{([^}]*)\} (\S+)$/.exec(line);
      if (m?.[1].includes('origin="main/bad"')) n += Number(m[2]);
    }
    return n;
  };

  beforeAll(async () => {
    let pids: number[] = [];
    good = await countingOrigin(200, () => pids);
    node = await startNode(2, 4, `http://127.0.0.1:${await closedPort()}`, good.url);
    pids = node.pids;
  }, 40_000);

  afterAll(async () => {
    await node?.stop();
    await good?.close();
  });

  it('is ejected after 4 refused connections of the node; clients never see them (retried on the good origin)', async () => {
    for (let i = 0; (await refusedCount()) < 3; i++) {
      if (i > 40) throw new Error('the refused origin was not tried');
      expect((await node.get()).status).toBe(200);
    }
    expect(await refusedCount()).toBe(3);
    await settle();
    expect(await node.ejected()).toBe(false);
    for (let i = 0; (await refusedCount()) < 4; i++) {
      if (i > 40) throw new Error('the refused origin was not tried');
      expect((await node.get()).status).toBe(200);
    }
    await waitFor('bad ejected', () => node.ejected(), 3_000);
    await settle();
    for (let i = 0; i < 8; i++) expect((await node.get()).status).toBe(200);
    expect(await refusedCount()).toBe(4);
  });
});

describe('an ejected origin its monitor finds healthy comes back to every worker (2 workers)', () => {
  let node: Awaited<ReturnType<typeof startNode>>;
  let bad: CountingOrigin;
  let good: CountingOrigin;

  beforeAll(async () => {
    let pids: number[] = [];
    bad = await countingOrigin(502, () => pids);
    good = await countingOrigin(200, () => pids);
    node = await startNode(2, 2, bad.url, good.url, true);
    pids = node.pids;
  }, 40_000);

  afterAll(async () => {
    await node?.stop();
    await Promise.all([bad?.close(), good?.close()]);
  });

  it('is back after its ejection time and a healthy check, in the admin view and in traffic', async () => {
    for (let i = 0; bad.hits.length < 2; i++) {
      if (i > 40) throw new Error('the bad origin was not tried');
      await node.get();
    }
    await waitFor('bad ejected', () => node.ejected(), 3_000);
    const ejectedAt = performance.now();
    await waitFor('bad back', async () => !(await node.ejected()), 5_000);
    // baseEjectionTime 1 s, then the next healthy check (every 300 ms).
    expect(performance.now() - ejectedAt).toBeGreaterThan(800);
    await settle();
    const before = bad.hits.length;
    const workers = new Set<number | undefined>();
    for (let i = 0; i < 12; i++) await node.get();
    for (const w of bad.hits.slice(before)) workers.add(w);
    expect(workers.size).toBe(2);
  });
});
