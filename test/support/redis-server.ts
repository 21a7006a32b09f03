/**
 * A real redis-server for the edge's tests (the approach of desk/test/support/redis.ts): on a free
 * loopback port, in its own temporary directory, killed after. A test takes Redis away from
 * running PoPs and gives it back: `kill()` (SIGKILL, a crash), `pause()`/`resume()` (SIGSTOP and
 * SIGCONT: the port stays open and nothing answers, the case a deadline is for), `restart()`
 * (same port; with `appendonly` the data survives a `stop()` + `restart()`, as a production
 * Redis with AOF would). `cutter()` puts a TCP hop in front of it that a test can cut, so one PoP
 * loses Redis while the others keep it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { RedisCluster } from '../../src/cluster/redis.js';
import { closedPort } from '../helpers.js';

export interface TestRedis {
  port: number;
  url: string;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Starts again on the same port (after kill or stop; kills first if running). */
  restart(): Promise<void>;
  /** SIGTERM (an AOF is flushed), then the directory is removed. */
  stop(): Promise<void>;
}

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

function launch(port: number, dir: string, appendonly: boolean, extra: string[] = []): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', appendonly ? 'yes' : 'no', '--loglevel', 'warning', ...extra];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const exited = (code: number | null) => reject(new Error(`redis-server exited (${code}): ${output}`));
    child.once('exit', exited);
    child.once('error', reject);
    const probe = () => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.write('PING\r\n');
        s.once('data', (d) => {
          s.destroy();
          if (String(d).startsWith('+PONG')) {
            child.off('exit', exited);
            resolve(child);
          } else retry(); // -LOADING while an AOF is read back
        });
      });
      s.once('error', () => {
        s.destroy();
        retry();
      });
    };
    const retry = () => {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        reject(new Error(`redis-server did not answer on ${port}: ${output}`));
      } else setTimeout(probe, 50);
    };
    probe();
  });
}

function exited(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => r());
    child.kill('SIGCONT'); // a paused server cannot act on SIGTERM
    child.kill(signal);
  });
}

export async function startRedis(options: { appendonly?: boolean } = {}): Promise<TestRedis> {
  const port = await closedPort();
  const dir = mkdtempSync(path.join(tmpdir(), 'outpost-redis-'));
  const appendonly = options.appendonly ?? false;
  let child: ChildProcess | undefined = await launch(port, dir, appendonly);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      await exited(child, 'SIGKILL');
      child = undefined;
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async restart() {
      await exited(child, 'SIGKILL');
      child = await launch(port, dir, appendonly);
    },
    async stop() {
      await exited(child, 'SIGTERM');
      child = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP hop to `port` that a test can cut (every connection dropped, new ones refused) and mend. */
export interface Cutter {
  url: string;
  cut(): void;
  mend(): void;
  close(): Promise<void>;
}

export async function cutter(port: number): Promise<Cutter> {
  let open = true;
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(port, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const own = (server.address() as net.AddressInfo).port;
  const hop: Cutter = {
    url: `redis://127.0.0.1:${own}`,
    cut() {
      open = false;
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    mend() {
      open = true;
    },
    close() {
      hop.cut();
      return new Promise((r) => server.close(() => r()));
    },
  };
  return hop;
}

/** A Redis Sentinel (redis-server --sentinel) watching the master on `masterPort` as `name`. */
export async function startSentinel(masterPort: number, name = 'mymaster'): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await closedPort();
  const dir = mkdtempSync(path.join(tmpdir(), 'outpost-sentinel-'));
  const conf = path.join(dir, 'sentinel.conf');
  writeFileSync(conf, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`, ''].join('\n'));
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  // Ready when it answers with the master's address.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let got = '';
      s.once('connect', () => s.write(`SENTINEL get-master-addr-by-name ${name}\r\n`));
      s.on('data', (d) => {
        got += d;
        if (got.includes(String(masterPort))) s.destroy();
      });
      s.once('close', () => resolve(got));
      s.once('error', () => resolve(''));
      setTimeout(() => s.destroy(), 500);
    });
    if (answer.includes(String(masterPort))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis sentinel did not answer on ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    stop: async () => {
      await exited(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A Redis Cluster of `n` masters (no replicas): n redis-servers with cluster mode on, joined and
 * given every slot by `redis-cli --cluster create`; ready when every node says cluster_state:ok.
 */
export async function startRedisCluster(n = 3): Promise<{ ports: number[]; url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'outpost-redis-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of children) await exited(c, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < n; i++) {
      const port = await closedPort();
      const own = path.join(dir, String(port));
      mkdirSync(own);
      children.push(await launch(port, own, false, ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(own, 'nodes.conf'), '--cluster-node-timeout', '2000']));
      ports.push(port);
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    const deadline = Date.now() + 20_000;
    for (const port of ports) {
      for (;;) {
        const info = spawnSync('redis-cli', ['-p', String(port), 'CLUSTER', 'INFO'], { encoding: 'utf8' }).stdout ?? '';
        if (info.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`redis cluster node ${port} not ok: ${info}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, stop };
}

/** Two PoPs on the Redis at `url`, with a prefix of their own so nothing leaks between tests. */
export async function twoPops(url: string): Promise<{ a: RedisCluster; b: RedisCluster; close(): Promise<void> }> {
  const prefix = `t${Math.random().toString(36).slice(2, 8)}:`;
  const a = new RedisCluster({ url, member: 'pop-a', prefix });
  const b = new RedisCluster({ url, member: 'pop-b', prefix });
  expect(await a.ready()).toBe(true);
  expect(await b.ready()).toBe(true);
  return {
    a,
    b,
    close: async () => {
      await a.close();
      await b.close();
    },
  };
}
