/**
 * Access logs of a quiet node. Lines are batched in 4 KiB writes (the hot path), and with no
 * timer one request's line waited until 4 KiB more arrived: a node with little traffic showed
 * nothing. Now a partial batch is written at least every second; a real node, one request, and
 * its line must appear on stdout (polled for, with a generous bound: this is not a speed test).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, ensureBuilt, startOrigin, waitFor, type TestServer } from './helpers.js';
import { httpGet, startOutpost, type OutpostProcess } from './cli-process.js';

describe('access log of a quiet node', () => {
  let dir: string;
  let origin: TestServer;
  let node: OutpostProcess;
  let httpPort: number;
  let adminPort: number;

  beforeAll(async () => {
    origin = await startOrigin((_req, res) => res.end('hello'));
    [httpPort, adminPort] = [await closedPort(), await closedPort()];
    dir = mkdtempSync(join(tmpdir(), 'outpost-access-'));
    const file = join(dir, 'outpost.yaml');
    writeFileSync(
      file,
      `pop: { id: access-test }
listen: { http: "127.0.0.1:${httpPort}", admin: "127.0.0.1:${adminPort}" }
workers: 1
log: { level: info, access: true }
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

  it("one request's access line reaches stdout without more traffic", async () => {
    expect(await httpGet(httpPort, '/one-request?x=1')).toEqual({ status: 200, body: 'hello' });
    const line = await waitFor(
      'the access log line on stdout',
      () =>
        node
          .stdout()
          .split('\n')
          .find((l) => l.includes('"type":"access"') && l.includes('/one-request')),
      5_000,
    );
    expect(JSON.parse(line)).toMatchObject({ type: 'access', pop: 'access-test', method: 'GET', path: '/one-request?x=1', status: 200, origin: 'main/o1', msg: 'access' });
    expect(node.proc.exitCode).toBe(null);
  });
});
