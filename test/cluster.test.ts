/**
 * The real thing: `node bin/outpost.js start -c FILE` with two workers, origins in this process,
 * everything over 127.0.0.1. Readiness, both workers serving, /metrics summed over workers,
 * a worker killed and replaced, reloads by SIGHUP and by saving the file, a bad edit refused
 * (logged with line and column, counted), a WebSocket living through a reload, and SIGTERM:
 * an in-flight request completes, new connections are refused, WebSockets get Close 1001, exit 0.
 *
 * Which worker served a request: the origin looks up, in /proc, which worker process owns the
 * other end of the connection the request came on (Linux only, like the production target).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { closedPort, ensureBuilt, repoRoot, startWsOrigin, waitFor, type WsOrigin } from './helpers.js';
import { socketOwner } from './socket-owner.js';

interface LogLine {
  msg?: string;
  errors?: { path: string; line: number; column: number }[];
}

interface Reply {
  status: number;
  body: string;
}

/** A GET on a new connection (cluster workers are picked per connection). */
function get(port: number, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Whether a TCP connection to `port` is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Sums the samples of a metric in Prometheus text (optionally only those whose labels include `labels`). */
function metricValue(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (m && (m[1] ?? '').includes(labels)) sum += Number(m[2]);
  }
  return sum;
}

describe('outpost start: a supervisor and two workers', () => {
  let dir: string;
  let file: string;
  let sideLink: string;
  let httpPort: number;
  let adminPort: number;
  let proc: ChildProcess;
  let output = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  const origins: Record<string, WsOrigin> = {};
  const sockets = new Set<WebSocket>();
  /** Worker pids the origins attribute connections to (kept current by the tests). */
  let workerPids: number[] = [];
  /** Requests sent through the edge, for the /metrics total. */
  let sent = 0;
  /** The `/slow` request: the origin holds it until the test releases it (not a fixed delay, so the order of events in the SIGTERM test is certain). */
  let slowArrived!: () => void;
  const slowSeen = new Promise<void>((r) => {
    slowArrived = r;
  });
  let releaseSlow!: () => void;
  const slowReleased = new Promise<void>((r) => {
    releaseSlow = r;
  });

  const config = (origin: string, extra = '') => `# written by test/cluster.test.ts
pop: { id: cluster-test }
listen: { http: "127.0.0.1:${httpPort}", admin: "127.0.0.1:${adminPort}" }
workers: 2
log: { level: warn, access: false }
shutdown: { drainTimeout: 10s }
limits:
  headersTimeout: 10s${extra}
pools:
  main:
    origins: [{ name: ${origin}, address: "${origins[origin].url}" }]
loadBalancers:
  - { hostname: "*", defaultPools: [main] }
`;
  /** Saves the config the way editors do: a new file renamed over the old one. */
  const save = (text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  const admin = (path: string) => get(adminPort, path);
  const status = async () => JSON.parse((await admin('/status')).body) as { workers: { wanted: number; ready: number; pids: number[] }; stopping: boolean };
  const metrics = async () => (await admin('/metrics')).body;
  const info = async () => {
    const r = await get(httpPort, '/info');
    sent++;
    expect(r.status).toBe(200);
    return JSON.parse(r.body) as { origin: string; pid: number | undefined };
  };
  const whoAnswers = async () => (await info()).origin;

  beforeAll(async () => {
    for (const name of ['alpha', 'beta', 'gamma', 'delta']) {
      origins[name] = await startWsOrigin({
        name,
        onRequest: (req, res) => {
          if (req.url === '/slow') {
            slowArrived();
            void slowReleased.then(() => res.end('slow and steady'));
            return;
          }
          const pid = socketOwner(req.socket.remotePort!, req.socket.localPort!, workerPids);
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ origin: name, pid }));
        },
      });
      origins[name].server.keepAliveTimeout = 60_000;
    }
    [httpPort, adminPort] = [await closedPort(), await closedPort()];
    dir = mkdtempSync(join(tmpdir(), 'outpost-cluster-'));
    mkdirSync(join(dir, 'conf'));
    mkdirSync(join(dir, 'side'));
    file = join(dir, 'conf', 'outpost.yaml');
    sideLink = join(dir, 'side', 'outpost.yaml');
    writeFileSync(file, config('alpha'));
    linkSync(file, sideLink);

    await ensureBuilt();
    // Its own process group, so afterAll can end the supervisor and its workers together.
    proc = spawn(process.execPath, [join(repoRoot, 'bin/outpost.js'), 'start', '-c', file], {
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    proc.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    await waitFor('/readyz 200', async () => (await admin('/readyz')).status === 200, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\noutput:\n${output}`);
    });
    workerPids = (await status()).workers.pids;
  });

  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    releaseSlow();
    if (proc?.pid && proc.exitCode === null && proc.signalCode === null) {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await exited;
    }
    await Promise.all(Object.values(origins).map((o) => o.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A WebSocket through the edge, open, with its messages and close recorded. */
  const openWs = async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`);
    sockets.add(ws);
    const messages: string[] = [];
    const notify = () => {};
    ws.on('message', (d) => {
      messages.push(d.toString());
      notify();
    });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const ask = async (text: string) => {
      const n = messages.length;
      ws.send(text);
      await waitFor(`an answer to ${text}`, () => messages.length > n);
      return messages[n];
    };
    return { ws, ask, closed };
  };

  it('is ready with two workers, each a separate process', async () => {
    const s = await status();
    expect(s.workers).toMatchObject({ wanted: 2, ready: 2 });
    expect(new Set(s.workers.pids).size).toBe(2);
    expect(s.workers.pids).not.toContain(proc.pid);
    expect((await admin('/healthz')).status).toBe(200);
  });

  it('spreads requests over both workers', async () => {
    const served: (number | undefined)[] = [];
    for (let i = 0; i < 40; i++) served.push((await info()).pid);
    expect(served).not.toContain(undefined);
    expect(new Set(served)).toEqual(new Set(workerPids));
  });

  it('/metrics sums every worker: outpost_requests_total equals the requests sent', async () => {
    const total = await waitFor('the request count to reach what was sent', async () => {
      const n = metricValue(await metrics(), 'outpost_requests_total');
      return n >= sent ? n : 0;
    });
    expect(total).toBe(sent);
    expect(metricValue(await metrics(), 'outpost_requests_total', 'status_class="2xx"')).toBe(sent);
  });

  it('/metrics is valid exposition: one HELP and TYPE per metric family', async () => {
    const types = (await metrics()).split('\n').filter((l) => l.startsWith('# TYPE '));
    const names = types.map((l) => l.split(' ')[2]);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect(names).toContain('outpost_requests_total');
    expect(names).toContain('outpost_config_reloads_total');
  });

  it('replaces a worker killed with SIGKILL; requests keep succeeding', async () => {
    const [victim, survivor] = workerPids;
    process.kill(victim, 'SIGKILL');
    await waitFor('the supervisor to notice the death', async () => !(await status()).workers.pids.includes(victim)).catch((err: Error) => {
      throw new Error(
        `${err.message}\nsupervisor: ${proc.exitCode === null && proc.signalCode === null ? 'running' : `exited (${proc.exitCode ?? proc.signalCode})`}\noutput:\n${output.slice(-4000)}`,
      );
    });
    // While the replacement starts, the survivor takes every connection (info() expects 200).
    for (let i = 0; i < 10; i++) await info();

    await waitFor('/readyz 200 again', async () => (await admin('/readyz')).status === 200, 10_000);
    const s = await status();
    expect(s.workers.ready).toBe(2);
    expect(s.workers.pids).toContain(survivor);
    const fresh = s.workers.pids.find((p) => p !== survivor)!;
    expect(fresh).not.toBe(victim);
    workerPids = s.workers.pids;
    const served = new Set<number | undefined>();
    for (let i = 0; i < 20; i++) served.add((await info()).pid);
    expect(served).toEqual(new Set([survivor, fresh]));
    expect(output).toMatch(/worker died; starting a new one/);
  });

  it('SIGHUP reloads the edited file', async () => {
    expect(await whoAnswers()).toBe('alpha');
    // Written through a hard link in another directory: the same file, but the supervisor's
    // directory watch sees nothing, so only the signal can apply it.
    writeFileSync(sideLink, config('beta'));
    expect(readFileSync(file, 'utf8')).toContain('beta');
    await new Promise((r) => setTimeout(r, 500));
    expect(await whoAnswers()).toBe('alpha');

    process.kill(proc.pid!, 'SIGHUP');
    await waitFor('beta to answer', async () => (await whoAnswers()) === 'beta');
    for (let i = 0; i < 6; i++) expect(await whoAnswers()).toBe('beta'); // on both workers
    expect(metricValue(await metrics(), 'outpost_config_reloads_total', 'result="applied"')).toBe(1);
  });

  it('saving the file reloads it, no signal needed', async () => {
    save(config('gamma'));
    await waitFor('gamma to answer', async () => (await whoAnswers()) === 'gamma');
    for (let i = 0; i < 6; i++) expect(await whoAnswers()).toBe('gamma');
    expect(metricValue(await metrics(), 'outpost_config_reloads_total', 'result="applied"')).toBe(2);
  });

  it('refuses an invalid edit: the running config stays, the error is logged with its line and column, and counted', async () => {
    // The bad value lands on line 8, column 19 (`  headersTimeout: soon`).
    const bad = config('delta').replace('headersTimeout: 10s', 'headersTimeout: soon');
    expect(bad.split('\n')[7]).toBe('  headersTimeout: soon');
    save(bad);
    await waitFor('the refusal to be counted', async () => metricValue(await metrics(), 'outpost_config_reloads_total', 'result="refused"') === 1);
    for (let i = 0; i < 6; i++) expect(await whoAnswers()).toBe('gamma');

    const refusal = output
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as LogLine];
        } catch {
          return [];
        }
      })
      .find((l) => l.msg?.startsWith('config reload refused'));
    expect(refusal).toBeDefined();
    expect(refusal!.msg).toContain(`${file}:8:19 limits.headersTimeout: expected a duration`);
    expect(refusal!.errors).toEqual([expect.objectContaining({ path: 'limits.headersTimeout', line: 8, column: 19 })]);
    expect(metricValue(await metrics(), 'outpost_config_reloads_total', 'result="applied"')).toBe(2);
  });

  it('a WebSocket opened before a reload keeps working after it; new ones go to the new origin', async () => {
    save(config('gamma')); // repair the file first (a reload to the same origin)
    await waitFor('the repaired file to be applied', async () => metricValue(await metrics(), 'outpost_config_reloads_total', 'result="applied"') === 3);
    const before = await openWs();
    expect(await before.ask('whoami')).toBe('gamma');

    save(config('delta'));
    await waitFor('delta to answer', async () => (await whoAnswers()) === 'delta');

    expect(await before.ask('whoami')).toBe('gamma');
    expect(await before.ask('still here')).toBe('still here');
    const after = await openWs();
    expect(await after.ask('whoami')).toBe('delta');
    after.ws.close(1000);
    expect(await after.closed).toBe(1000);
  });

  it('SIGTERM: the request in flight completes, new connections are refused, WebSockets get 1001, exit 0', async () => {
    const ws = await openWs();
    expect(await ws.ask('whoami')).toBe('delta');
    let slowDone = false;
    const slow = get(httpPort, '/slow').finally(() => {
      slowDone = true;
    });
    await slowSeen;

    proc.kill('SIGTERM');

    expect(await ws.closed).toBe(1001);
    await waitFor('new connections to be refused', () => refused(httpPort));
    expect((await admin('/readyz')).status).toBe(503);
    expect(slowDone).toBe(false); // still held by the origin: the drain waits for it

    releaseSlow();
    expect(await slow).toEqual({ status: 200, body: 'slow and steady' });
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(output).not.toMatch(/drain deadline passed/);
  });
});
