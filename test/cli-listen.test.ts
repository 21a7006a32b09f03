/**
 * A node whose listeners cannot bind. Before, a port in use made the workers die and restart
 * forever while the supervisor never exited; now `outpost start` exits 1 with one line naming
 * the listener, and `outpost validate` (and start) refuse two listeners on one address.
 * Real processes, real ports on 127.0.0.1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, ensureBuilt, startOrigin, waitFor, type TestServer } from './helpers.js';
import { httpGet, runOutpost, startOutpost, type OutpostProcess } from './cli-process.js';

let dir: string;
let origin: TestServer;
const running: OutpostProcess[] = [];
const blockers: net.Server[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-listen-'));
  origin = await startOrigin((_req, res) => res.end('ok'));
  await ensureBuilt();
});

afterAll(async () => {
  for (const p of running) await p.kill();
  for (const b of blockers) b.close();
  await origin?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function config(name: string, listen: string, workers = 2): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `pop: { id: listen-test }
listen: ${listen}
workers: ${workers}
log: { level: warn, access: false }
pools:
  main: { origins: [{ name: o1, address: "${origin.url}" }] }
loadBalancers: [{ hostname: "*", defaultPools: [main] }]
`,
  );
  return path;
}

/** A plain TCP server holding 127.0.0.1:port, as another program would. */
async function holdPort(): Promise<number> {
  const port = await closedPort();
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  blockers.push(s);
  return port;
}

/** `outpost start`, expected to stop by itself: its exit and stderr. */
async function startAndExit(file: string): Promise<{ code: number | null; stderr: string; output: string }> {
  const p = startOutpost(file, dir);
  running.push(p);
  const timer = setTimeout(() => void p.kill(), 20_000); // a node that loops is killed, and the test fails on its signal
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, stderr: p.stderr(), output: p.output() };
}

describe('outpost start with a port in use', () => {
  it('the http port taken by another program: exit 1, one line naming listen.http', async () => {
    const port = await holdPort();
    const admin = await closedPort();
    const r = await startAndExit(config('http-taken', `{ http: "127.0.0.1:${port}", admin: "127.0.0.1:${admin}" }`));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`outpost: listen.http 127.0.0.1:${port}: address already in use`);
  });

  it('the admin port taken: exit 1, one line naming listen.admin', async () => {
    const port = await holdPort();
    const http = await closedPort();
    const r = await startAndExit(config('admin-taken', `{ http: "127.0.0.1:${http}", admin: "127.0.0.1:${port}" }`));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`outpost: listen.admin 127.0.0.1:${port}: address already in use`);
  });

  it("a second node on the first one's port exits 1; the first keeps serving", async () => {
    const [http, admin1, admin2] = [await closedPort(), await closedPort(), await closedPort()];
    const first = startOutpost(config('first', `{ http: "127.0.0.1:${http}", admin: "127.0.0.1:${admin1}" }`, 1), dir);
    running.push(first);
    await waitFor('the first node to be ready', async () => (await httpGet(admin1, '/readyz')).status === 200, 15_000);
    const r = await startAndExit(config('second', `{ http: "127.0.0.1:${http}", admin: "127.0.0.1:${admin2}" }`));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`outpost: listen.http 127.0.0.1:${http}: address already in use`);
    expect(await httpGet(http, '/')).toEqual({ status: 200, body: 'ok' });
  });
});

describe('two listeners on one address in the config', () => {
  it('`outpost validate` reports the clash on the second key, exit 1', () => {
    const file = config('clash', '{ http: "127.0.0.1:18181", admin: "127.0.0.1:18181" }');
    const r = runOutpost(['validate', '-c', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:2:43 listen.admin: listen.admin 127.0.0.1:18181 takes the same port as listen.http 127.0.0.1:18181: two listeners cannot bind one address`);
  });

  it('a wildcard address clashes with every address on its port; the default admin address counts', () => {
    const wildcard = config('wildcard', '{ http: "0.0.0.0:18182", admin: "127.0.0.1:18182" }');
    expect(runOutpost(['validate', '-c', wildcard]).stderr).toContain('listen.admin 127.0.0.1:18182 takes the same port as listen.http 0.0.0.0:18182');
    const defaults = config('default-admin', '{ http: "127.0.0.1:9090" }');
    expect(runOutpost(['validate', '-c', defaults]).stderr).toContain('listen.admin 127.0.0.1:9090 (the default admin address) takes the same port as listen.http 127.0.0.1:9090');
    // Different ports, or different specific addresses, are fine.
    expect(runOutpost(['validate', '-c', config('apart', '{ http: "127.0.0.1:18183", admin: "127.0.0.2:18183" }')]).status).toBe(0);
  });

  it('`outpost start` refuses it before binding anything: exit 1', async () => {
    const r = await startAndExit(config('clash-start', '{ http: "127.0.0.1:18184", admin: "127.0.0.1:18184" }'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('listen.admin 127.0.0.1:18184 takes the same port as listen.http 127.0.0.1:18184');
    expect(r.stderr).toContain('1 error(s): not started');
  });
});
