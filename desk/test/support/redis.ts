/**
 * A real redis-server for tests: on a free loopback port, no persistence, killed after. `kill()`
 * and `restart()` (same port) let a test take Redis away from running nodes and give it back.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { closedPort } from '../../../test/helpers.js';

export interface TestRedis {
  port: number;
  url: string;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

function launch(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
          } else retry();
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
    child.kill(signal);
  });
}

export async function startRedis(): Promise<TestRedis> {
  const port = await closedPort();
  let child: ChildProcess | undefined = await launch(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      await exited(child, 'SIGKILL');
      child = undefined;
    },
    async restart() {
      await exited(child, 'SIGKILL');
      child = await launch(port);
    },
    async stop() {
      await exited(child, 'SIGTERM');
      child = undefined;
    },
  };
}
