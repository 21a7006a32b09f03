/**
 * The cache of a node in the default config (several workers, no cache.disk) acts as one cache:
 * real `outpost start` processes, a small origin whose answers carry a version, and keep-alive
 * connections each pinned to one worker. Which worker holds a connection is read from /proc (the
 * socket's inode in the worker's descriptors), so every assertion knows which worker answered.
 */
import http from 'node:http';
import { readdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, ensureBuilt, startOrigin, waitFor, type TestServer } from './helpers.js';
import { socketOwner } from './socket-owner.js';
import { startOutpost, type OutpostProcess } from './cli-process.js';

const TOKEN = 'coherence-test-token-0123456789';

interface Node {
  proc: OutpostProcess;
  http: number;
  admin: number;
  file: string;
  pids: number[];
}

interface Answer {
  status: number;
  body: string;
  hit: boolean;
  cacheStatus: string;
}

/** One keep-alive connection to the node: every request on it is served by the same worker. */
class Conn {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  localPort = 0;

  constructor(private readonly port: number) {}

  request(method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path, agent: this.agent, headers: { host: 'site.example', ...headers } }, (res) => {
        this.localPort = res.socket.localPort!;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => {
          const cacheStatus = String(res.headers['cache-status'] ?? '');
          resolve({ status: res.statusCode!, body, hit: cacheStatus.startsWith('outpost; hit'), cacheStatus });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

describe('the cache of a node with several workers and no cache.disk', () => {
  let origin: TestServer;
  let dir: string;
  const versions = new Map<string, number>();
  const fetched = new Map<string, number>();
  const nodes: Node[] = [];
  let two: Node;
  /** Two connections on the two-worker node, each on its own worker. */
  let a: Conn;
  let b: Conn;
  const conns: Conn[] = [];

  async function startNode(name: string, workers: number): Promise<Node> {
    const [httpPort, adminPort] = [await closedPort(), await closedPort()];
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      [
        `pop: { id: ${name} }`,
        `listen: { http: 127.0.0.1:${httpPort}, admin: 127.0.0.1:${adminPort} }`,
        `workers: ${workers}`,
        'log: { level: warn, access: false }',
        `admin: { token: ${TOKEN} }`,
        `pools: { p: { origins: [{ name: a, address: "${origin.url}" }] } }`,
        'loadBalancers: [{ hostname: "*", defaultPools: [p] }]',
        '',
      ].join('\n'),
    );
    const proc = startOutpost(file, dir);
    const status = await waitFor(
      `${name} ready`,
      async () => {
        const r = await admin(adminPort, 'GET', '/status').catch(() => undefined);
        const w = (r?.json as { workers?: { ready: number; pids: number[] } } | undefined)?.workers;
        return w && w.ready === workers ? w : undefined;
      },
      20_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.output()}`);
    });
    const node = { proc, http: httpPort, admin: adminPort, file, pids: status.pids };
    nodes.push(node);
    return node;
  }

  async function admin(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode!, json: JSON.parse(text) as Record<string, unknown> });
          } catch (err) {
            reject(err as Error);
          }
        });
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** Connections to `node` until one per worker: returns them in worker order. */
  async function onePerWorker(node: Node): Promise<Conn[]> {
    const byPid = new Map<number, Conn>();
    for (let i = 0; i < 20 && byPid.size < node.pids.length; i++) {
      const c = new Conn(node.http);
      conns.push(c);
      await c.request('GET', '/hello');
      const pid = socketOwner(node.http, c.localPort, node.pids);
      if (pid !== undefined && !byPid.has(pid)) byPid.set(pid, c);
    }
    expect(byPid.size).toBe(node.pids.length);
    return [...byPid.values()];
  }

  beforeAll(async () => {
    origin = await startOrigin((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      fetched.set(path, (fetched.get(path) ?? 0) + 1);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        // An unsafe request changes the resource: the next GET must see the new version.
        versions.set(path, (versions.get(path) ?? 1) + 1);
        req.resume();
        // `?location=/x`: the answer names another URL it changed (RFC 9111 §4.4: invalidated too).
        const location = new URL(req.url ?? '/', 'http://o').searchParams.get('location');
        if (location) versions.set(location, (versions.get(location) ?? 1) + 1);
        res.writeHead(200, { 'content-type': 'text/plain', ...(location ? { location } : {}) });
        res.end('changed');
        return;
      }
      const v = versions.get(path) ?? 1;
      const etag = `"v${v}"`;
      const headers: Record<string, string> = { 'content-type': 'text/plain', etag };
      if (path.includes('/nostore/')) headers['cache-control'] = 'no-store';
      else if (path.includes('/nocache/')) headers['cache-control'] = 'no-cache';
      else headers['cache-control'] = 'max-age=600';
      if (path.includes('/vary/')) headers.vary = 'Accept-Language';
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      const lang = path.includes('/vary/') ? ` ${req.headers['accept-language'] ?? '-'}` : '';
      res.writeHead(200, headers);
      // `/slow/`: the body comes 300 ms after the head (a HEAD's client is answered before the fill commits).
      if (path.includes('/slow/')) setTimeout(() => res.end(`${path} v${v}`), 300);
      else res.end(`${path} v${v}${lang}`);
    });
    dir = mkdtempSync(join(tmpdir(), 'outpost-coherence-'));
    await ensureBuilt();
    two = await startNode('two', 2);
    [a, b] = await onePerWorker(two);
  }, 60_000);

  afterAll(async () => {
    for (const c of conns) c.close();
    for (const n of nodes) await n.proc.kill();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a response stored through one worker is a hit through the other', async () => {
    for (let i = 0; i < 10; i++) {
      const [first, second] = i % 2 ? [a, b] : [b, a];
      const path = `/shared/${i}`;
      const one = await first.request('GET', path);
      expect(one.hit).toBe(false);
      // At once: the filling worker holds the node's lock for the key until its commit.
      const two_ = await second.request('GET', path);
      expect(two_.cacheStatus).toMatch(/^outpost; hit/);
      expect(two_.body).toBe(`${path} v1`);
      expect(fetched.get(path)).toBe(1);
    }
  });

  it('after a successful POST, PUT or DELETE through one worker, neither worker serves the old response (RFC 9111 §4.4)', async () => {
    const path = '/doc';
    const methods = ['POST', 'PUT', 'DELETE'];
    for (let round = 0; round < 30; round++) {
      const v = versions.get(path) ?? 1;
      // Both workers hold the current version in memory (the second read of each is a memory hit).
      for (const c of [a, b, a, b]) expect((await c.request('GET', path)).body).toBe(`${path} v${v}`);
      expect((await a.request('GET', path)).hit).toBe(true);
      expect((await b.request('GET', path)).hit).toBe(true);
      const writer = round % 2 ? a : b;
      const unsafe = await writer.request(methods[round % 3], path);
      expect(unsafe.status).toBe(200);
      // At once, through the other worker first every other round, then through the writer's.
      const order = round % 4 < 2 ? [a, b] : [b, a];
      for (const c of order) {
        const got = await c.request('GET', path);
        expect(got.body, `round ${round}`).toBe(`${path} v${v + 1}`);
      }
    }
  });

  it('a Location target whose fill is under way when a POST through either worker names it is not served afterwards (RFC 9111 §4.4)', async () => {
    for (let round = 0; round < 4; round++) {
      const target = `/slow/loc-${round}`;
      // The POST through the other worker, then through the filling worker itself.
      const [filler, writer] = [
        [a, b],
        [b, a],
        [a, a],
        [b, b],
      ][round];
      // A HEAD that misses fills with a GET; its client has the head while the body still comes.
      expect((await filler.request('HEAD', target)).status).toBe(200);
      expect((await writer.request('POST', `/form?location=${target}`)).status).toBe(200);
      for (const c of [filler, writer]) expect((await c.request('GET', target)).body, `round ${round}`).toBe(`${target} v2`);
    }
  });

  it('a purge through the admin API empties every worker and counts each entry once', async () => {
    for (const p of ['/p/1', '/p/2', '/p/3']) {
      await a.request('GET', p);
      expect((await b.request('GET', p)).hit).toBe(true);
      expect((await a.request('GET', p)).hit).toBe(true); // in both memory tiers now
    }
    const one = await admin(two.admin, 'POST', '/api/cache/purge', { urls: ['http://site.example/p/1'] });
    expect(one.json).toMatchObject({ purged: 1, workers: 2, errors: [] });
    versions.set('/p/1', 2); // the origin changed it meanwhile: a stale copy would show v1
    for (const c of [b, a]) expect((await c.request('GET', '/p/1')).body).toBe('/p/1 v2');
    expect(fetched.get('/p/1')).toBe(2);

    const all = await admin(two.admin, 'POST', '/api/cache/purge', { prefixes: ['site.example/p/'] });
    expect(all.json).toMatchObject({ purged: 3, workers: 2 });
    for (const c of [a, b]) {
      for (const p of ['/p/2', '/p/3']) {
        versions.set(p, 5);
        expect((await c.request('GET', p)).body).toBe(`${p} v5`);
      }
    }
    expect(fetched.get('/p/2')).toBe(2);

    // invalidate mode: stale everywhere, revalidated once (a 304), then a hit in both workers
    const inv = await admin(two.admin, 'POST', '/api/cache/purge', { urls: ['http://site.example/p/3'], mode: 'invalidate' });
    expect(inv.json).toMatchObject({ purged: 1, workers: 2 });
    const r1 = await b.request('GET', '/p/3');
    expect(r1.cacheStatus).toMatch(/fwd=stale; fwd-status=304/);
    expect((await a.request('GET', '/p/3')).hit).toBe(true);
  });

  it('the same request sequence gives the same hits with 1 and with 2 workers', async () => {
    const one = await startNode('one', 1);
    const [solo] = await onePerWorker(one);
    const solo2 = new Conn(one.http);
    conns.push(solo2);
    const steps: [number, string, string, Record<string, string>?][] = [
      [0, 'GET', '/seq/a'],
      [1, 'GET', '/seq/a'],
      [0, 'HEAD', '/seq/b'],
      [1, 'GET', '/seq/b'],
      [0, 'GET', '/vary/c', { 'accept-language': 'en' }],
      [1, 'GET', '/vary/c', { 'accept-language': 'fr' }],
      [1, 'GET', '/vary/c', { 'accept-language': 'en' }],
      [0, 'GET', '/vary/c', { 'accept-language': 'fr' }],
      [1, 'POST', '/seq/a'],
      [0, 'GET', '/seq/a'],
      [1, 'GET', '/seq/a'],
      [0, 'DELETE', '/vary/c'],
      [1, 'GET', '/vary/c', { 'accept-language': 'en' }],
      [0, 'GET', '/vary/c', { 'accept-language': 'en' }],
      [0, 'GET', '/nocache/d'],
      [1, 'GET', '/nocache/d'],
      [0, 'GET', '/nocache/d'],
      [1, 'GET', '/nostore/e'],
      [0, 'GET', '/nostore/e'],
      [1, 'PUT', '/seq/b'],
      [0, 'HEAD', '/seq/b'],
      [1, 'GET', '/seq/b'],
      [1, 'GET', '/nocache/f'],
      [0, 'GET', '/nocache/f'],
      [1, 'GET', '/nocache/f'],
    ];
    const run = async (c: [Conn, Conn], prefix: string) => {
      const out: string[] = [];
      for (const [i, method, path, headers] of steps) {
        const r = await c[i].request(method, `/${prefix}${path}`, headers);
        out.push(`${method} ${path} ${r.hit ? 'hit' : /fwd=stale; fwd-status=304/.test(r.cacheStatus) ? 'revalidated' : 'origin'}`);
      }
      return out;
    };
    // The origin keys versions by path: each node gets its own paths.
    const withOne = await run([solo, solo2], 'w1');
    const withTwo = await run([a, b], 'w2');
    expect(withTwo).toEqual(withOne);
    expect(withOne).toEqual([
      'GET /seq/a origin',
      'GET /seq/a hit',
      'HEAD /seq/b origin',
      'GET /seq/b hit',
      'GET /vary/c origin',
      'GET /vary/c origin',
      'GET /vary/c hit',
      'GET /vary/c hit',
      'POST /seq/a origin',
      'GET /seq/a origin',
      'GET /seq/a hit',
      'DELETE /vary/c origin',
      'GET /vary/c origin',
      'GET /vary/c hit',
      'GET /nocache/d origin',
      'GET /nocache/d revalidated',
      'GET /nocache/d revalidated',
      'GET /nostore/e origin',
      'GET /nostore/e origin',
      'PUT /seq/b origin',
      'HEAD /seq/b origin',
      'GET /seq/b hit',
      'GET /nocache/f origin',
      'GET /nocache/f revalidated',
      'GET /nocache/f revalidated',
    ]);
  }, 60_000);

  it('the shared tier is a private temporary directory, removed when the node stops', async () => {
    const supervisor = two.proc.proc.pid!;
    const mine = () => readdirSync(tmpdir()).filter((n) => n.startsWith(`outpost-node-cache-${supervisor}-`));
    expect(mine()).toHaveLength(1);
    for (const c of conns) c.close();
    two.proc.proc.kill('SIGTERM');
    await two.proc.exited;
    expect(mine()).toEqual([]);
  }, 40_000);
});
