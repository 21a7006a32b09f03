/**
 * `outpost purge --prefix` with a URL as the browser shows it, port included. Cache keys hold
 * the host without its port (src/cache/key.ts), so such a prefix once matched nothing and the
 * purge reported 0 silently. A real node, a real origin, the real command.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, ensureBuilt, startOrigin, waitFor, type TestServer } from './helpers.js';
import { httpGet, runOutpost, startOutpost, type OutpostProcess } from './cli-process.js';

describe('outpost purge --prefix with a port', () => {
  let dir: string;
  let file: string;
  let origin: TestServer;
  let node: OutpostProcess;
  let httpPort: number;
  let adminPort: number;
  let fetched = 0;

  beforeAll(async () => {
    origin = await startOrigin((req, res) => {
      fetched++;
      res.setHeader('cache-control', 'public, max-age=600');
      res.end(`asset ${req.url}`);
    });
    [httpPort, adminPort] = [await closedPort(), await closedPort()];
    dir = mkdtempSync(join(tmpdir(), 'outpost-purge-'));
    file = join(dir, 'outpost.yaml');
    writeFileSync(
      file,
      `pop: { id: purge-test }
listen: { http: "127.0.0.1:${httpPort}", admin: "127.0.0.1:${adminPort}" }
workers: 1
log: { level: warn, access: false }
admin: { token: "a-test-token-of-some-length" }
pools:
  main: { origins: [{ name: o1, address: "${origin.url}" }] }
loadBalancers: [{ hostname: "*", defaultPools: [main] }]
`,
    );
    await ensureBuilt();
    node = startOutpost(file, dir);
    await waitFor('/readyz 200', async () => (await httpGet(adminPort, '/readyz')).status === 200, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\noutput:\n${node.output()}`);
    });
  });

  afterAll(async () => {
    await node?.kill();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('purges what was cached under the prefix, and the next request goes to the origin', async () => {
    expect((await httpGet(httpPort, '/static/a.css')).body).toBe('asset /static/a.css');
    expect((await httpGet(httpPort, '/static/a.css')).body).toBe('asset /static/a.css');
    await httpGet(httpPort, '/other.css');
    expect(fetched).toBe(2); // a.css cached, other.css fetched once

    const r = runOutpost(['purge', '-c', file, '--prefix', `http://127.0.0.1:${httpPort}/static/`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('purged 1 entry on 1 worker(s)\n');
    expect(r.status).toBe(0);

    await httpGet(httpPort, '/static/a.css');
    expect(fetched).toBe(3);
    await httpGet(httpPort, '/other.css');
    expect(fetched).toBe(3); // outside the prefix: still cached
  });

  it('a host with its port (--host 127.0.0.1:PORT) purges that host', () => {
    const r = runOutpost(['purge', '-c', file, '--host', `127.0.0.1:${httpPort}`]);
    expect(r.stdout).toBe('purged 2 entries on 1 worker(s)\n');
  });
});
