/**
 * least_connections steers on the node's counts: `outpost start` with 2 workers and two WebSocket
 * origins. Four WebSockets held through one worker (on origin a, while b was disabled) make the
 * next ones through the other worker go to b, one after another: that worker holds nothing of its
 * own on a, so with counts per worker it would alternate (a tie, then whichever it has fewer on).
 * Which worker carried a WebSocket: the origin looks up the owner of its end of the connection.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { httpGet, startOutpost, type OutpostProcess } from './cli-process.js';
import { closedPort, ensureBuilt, startWsOrigin, waitFor, type WsOrigin } from './helpers.js';
import { socketOwner } from './socket-owner.js';

const TOKEN = 'health-node-load-token-0123456789';
/** Longer than the workers' publish period (100 ms) plus a hop. */
const settle = () => new Promise((r) => setTimeout(r, 300));

describe('least_connections across 2 workers steers by the node', () => {
  let proc: OutpostProcess;
  let dir: string;
  let httpPort: number;
  let adminPort: number;
  let pids: number[];
  const origins: Record<string, WsOrigin> = {};
  const open = new Set<WebSocket>();

  const admin = (path: string) => httpGet(adminPort, path, { authorization: `Bearer ${TOKEN}` });
  const post = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: adminPort, path, method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end();
    });

  /** A WebSocket through the edge: which origin took it, and which worker carried it. */
  const connect = async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`);
    open.add(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const name = await new Promise<string>((resolve) => {
      ws.once('message', (d) => resolve(d.toString()));
      ws.send('whoami');
    });
    const c = origins[name].connections.at(-1)!;
    const worker = socketOwner(c.socket.remotePort!, c.socket.localPort!, pids);
    return { ws, origin: name, worker };
  };
  const close = async (ws: WebSocket) => {
    open.delete(ws);
    await new Promise<void>((r) => {
      ws.once('close', () => r());
      ws.close();
    });
  };

  beforeAll(async () => {
    for (const name of ['a', 'b']) origins[name] = await startWsOrigin({ name });
    [httpPort, adminPort] = [await closedPort(), await closedPort()];
    dir = mkdtempSync(join(tmpdir(), 'outpost-health-node-load-'));
    const file = join(dir, 'outpost.yaml');
    writeFileSync(
      file,
      `# written by test/health-node-load.test.ts
pop: { id: node-load }
listen: { http: "127.0.0.1:${httpPort}", admin: "127.0.0.1:${adminPort}" }
workers: 2
log: { level: warn, access: false }
admin: { token: ${TOKEN} }
pools:
  main:
    originSteering: least_connections
    origins: [{ name: a, address: "${origins.a.url}" }, { name: b, address: "${origins.b.url}" }]
loadBalancers:
  - { hostname: "*", defaultPools: [main] }
`,
    );
    await ensureBuilt();
    proc = startOutpost(file, dir);
    await waitFor('/readyz 200', async () => (await admin('/readyz').catch(() => ({ status: 0 }))).status === 200, 20_000).catch((err: Error) => {
      throw new Error(`${err.message}\noutput:\n${proc.output()}`);
    });
    pids = (JSON.parse((await admin('/status')).body) as { workers: { pids: number[] } }).workers.pids;
  }, 40_000);

  afterAll(async () => {
    for (const ws of open) ws.terminate();
    await proc?.kill();
    await Promise.all(Object.values(origins).map((o) => o.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("WebSockets held through one worker send the other worker's new ones to the other origin", async () => {
    // Four tunnels on a, all through the same worker (b disabled meanwhile; others closed again).
    expect(await post('/api/pools/main/origins/b/disable')).toBe(200);
    await settle();
    let holder: number | undefined;
    const held = [];
    for (let i = 0; held.length < 4; i++) {
      if (i > 40) throw new Error('the connections never landed on one worker four times');
      const t = await connect();
      expect(t.origin).toBe('a');
      expect(t.worker).toBeDefined();
      holder ??= t.worker;
      if (t.worker === holder) held.push(t);
      else {
        await close(t.ws);
        await settle();
      }
    }
    expect(await post('/api/pools/main/origins/b/enable')).toBe(200);
    await settle();

    // The node holds 4 on a and none on b: the other worker's next three go to b, one after another.
    const other = [];
    for (let i = 0; other.length < 3; i++) {
      if (i > 40) throw new Error('no connection landed on the other worker');
      const t = await connect();
      if (t.worker === holder) {
        await close(t.ws);
        await settle();
        continue;
      }
      other.push(t.origin);
      await settle();
    }
    expect(other).toEqual(['b', 'b', 'b']);
    const pools = JSON.parse((await admin('/api/pools')).body) as { pools: { origins: { name: string; websockets: number }[] }[] };
    expect(Object.fromEntries(pools.pools[0].origins.map((o) => [o.name, o.websockets]))).toEqual({ a: 4, b: 3 });
  });
});
