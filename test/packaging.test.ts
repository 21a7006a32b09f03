/**
 * Packaging: the systemd unit, the Containerfile and the probe both use. No container engine and
 * no systemd PID 1 run here, so what can be run is run and the rest is checked statically:
 * - the unit: `systemd-analyze verify` (syntax, known keys, executables that exist, with the
 *   install paths mapped onto this checkout) and `systemd-analyze security --offline` (its
 *   exposure score), plus the settings this project relies on; never started by systemd;
 * - the Containerfile: its instructions parsed and checked (base image, non-root user,
 *   production install, HEALTHCHECK, files it copies exist); never built. Its runtime stage is
 *   replayed in a temporary directory instead (the same npm ci, the same files) and the node it
 *   makes is started and probed, so the image's file set is known to run without dev or Desk
 *   dependencies;
 * - probe.mjs: run for real against a real node.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, ensureBuilt, repoRoot, startOrigin, type TestServer } from './helpers.js';
import { httpGet } from './cli-process.js';

/** Runs probe.mjs without blocking this process (the servers it probes may live here). */
function runProbe(script: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    p.once('close', (status) => resolve({ status, stderr }));
  });
}

const unitText = readFileSync(join(repoRoot, 'packaging/outpost.service'), 'utf8');
const containerfile = readFileSync(join(repoRoot, 'packaging/Containerfile'), 'utf8');
const probe = join(repoRoot, 'packaging/probe.mjs');

/** `[Section]` → key → values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      out.set(s[1], (section = new Map()));
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq === -1) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, eq);
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

/** Dockerfile instructions (continuations joined), each with its stage index. */
function parseContainerfile(text: string): { op: string; args: string; stage: number }[] {
  const joined = text.replace(/\\\n/g, ' ');
  const out: { op: string; args: string; stage: number }[] = [];
  let stage = -1;
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`not an instruction: ${line}`);
    const op = m[1].toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ op, args: m[2].replace(/\s+/g, ' ').trim(), stage });
  }
  return out;
}

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('packaging/outpost.service', () => {
  const unit = parseUnit(unitText);
  const service = unit.get('Service')!;
  const one = (key: string) => service.get(key)?.[0];

  it('runs `outpost start` as Type=exec, waits for /readyz, reloads by SIGHUP, stops by SIGTERM with time to drain', () => {
    expect(one('Type')).toBe('exec');
    expect(one('ExecStart')).toMatch(/bin\/outpost\.js start -c \/etc\/outpost\/outpost\.yaml$/);
    expect(one('ExecStartPre')).toMatch(/bin\/outpost\.js validate -c \/etc\/outpost\/outpost\.yaml$/);
    // The probe's address is the default admin address of the schema (listen.admin).
    expect(one('ExecStartPost')).toMatch(/packaging\/probe\.mjs http:\/\/127\.0\.0\.1:9090\/readyz --wait \d+$/);
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one('KillMode')).toBe('mixed');
    // shutdown.drainTimeout defaults to 30s; the supervisor kills a worker 5 s after it.
    expect(Number(one('TimeoutStopSec'))).toBeGreaterThan(35);
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('is hardened: no new privileges, read-only system, only the bind capability, not root', () => {
    expect(one('User')).toBe('outpost');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ProtectHome')).toBe('yes');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('CapabilityBoundingSet')).toBe('CAP_NET_BIND_SERVICE');
    expect(one('StateDirectory')).toBe('outpost');
    expect(service.has('MemoryDenyWriteExecute')).toBe(false); // V8's JIT needs it off
  });

  it.skipIf(!hasSystemdAnalyze)('passes `systemd-analyze verify` without a warning, and `security` rates it OK', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-unit-'));
    try {
      // The install paths mapped onto this machine, so verify finds the executables it checks.
      const local = unitText.replaceAll('/usr/bin/node', process.execPath).replaceAll('/opt/outpost', repoRoot);
      const file = join(dir, 'outpost.service');
      writeFileSync(file, local);
      const verify = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
      expect(verify.stderr).toBe('');
      expect(verify.status).toBe(0);
      // Exposure 0 (locked down) to 10 (root, unconfined); --threshold is that ×10.
      const security = spawnSync('systemd-analyze', ['security', '--offline=true', '--threshold=30', file], { encoding: 'utf8' });
      expect(security.stdout).toMatch(/Overall exposure level for outpost\.service: [0-2]\.\d OK/);
      expect(security.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('packaging/Containerfile', () => {
  const steps = parseContainerfile(containerfile);
  const last = Math.max(...steps.map((s) => s.stage));
  const final = steps.filter((s) => s.stage === last);
  const of = (op: string) => final.filter((s) => s.op === op);

  it('builds on node:20-slim in two stages; the runtime installs production dependencies of the edge only', () => {
    const froms = steps.filter((s) => s.op === 'FROM').map((s) => s.args.split(' ')[0]);
    expect(froms).toEqual(['node:20-slim', 'node:20-slim']);
    const install = of('RUN').find((s) => s.args.includes('npm ci'));
    expect(install?.args).toContain('--omit=dev');
    expect(install?.args).toContain('--workspaces=false');
    expect(of('ENV').map((s) => s.args)).toContain('NODE_ENV=production');
  });

  it('runs as a non-root user, with a HEALTHCHECK on the admin /healthz and `outpost start` as its command', () => {
    const user = of('USER');
    expect(user.map((s) => s.args)).toEqual(['node']);
    const userAt = final.indexOf(user[0]);
    expect(final.findIndex((s) => s.op === 'ENTRYPOINT')).toBeGreaterThan(userAt);
    expect(of('HEALTHCHECK')[0]?.args).toMatch(/CMD \["node", "\/opt\/outpost\/packaging\/probe\.mjs", "http:\/\/127\.0\.0\.1:9090\/healthz"\]$/);
    expect(JSON.parse(of('ENTRYPOINT')[0].args)).toEqual(['node', '/opt/outpost/bin/outpost.js']);
    expect(JSON.parse(of('CMD')[0].args)).toEqual(['start', '-c', '/etc/outpost/outpost.yaml']);
    expect(of('EXPOSE')[0]?.args).toBe('8080 8443');
  });

  it('copies only files that exist in the repository (the build context), none that .dockerignore drops', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    const sources = steps.filter((s) => s.op === 'COPY' && !s.args.startsWith('--from')).flatMap((s) => s.args.split(' ').slice(0, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) {
      expect(existsSync(join(repoRoot, src)), src).toBe(true);
      expect(
        ignored.some((i) => src === i || src.startsWith(`${i}/`)),
        src,
      ).toBe(false);
    }
  });
});

describe("the image's runtime stage, replayed without a container engine", () => {
  let dir: string;
  let origin: TestServer;
  let imageNode: ChildProcess | undefined;
  let installed = '';

  beforeAll(async () => {
    await ensureBuilt();
    origin = await startOrigin((_req, res) => res.end('from the origin'));
    dir = mkdtempSync(join(tmpdir(), 'outpost-image-'));
    for (const f of ['package.json', 'package-lock.json', 'desk/package.json']) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      cpSync(join(repoRoot, f), join(dir, f));
    }
    // The Containerfile's own npm ci line, from the npm cache (this machine installed the same lockfile).
    const line = parseContainerfile(containerfile).filter((s) => s.op === 'RUN' && s.args.includes('--omit=dev'))[0].args;
    const args = line.split('&&')[0].trim().split(' ').slice(1);
    const npm = spawnSync('npm', [...args, '--offline'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    installed = npm.status === 0 ? 'ok' : `${npm.stdout}${npm.stderr}`;
    for (const f of ['bin', 'packaging/probe.mjs', 'dist']) cpSync(join(repoRoot, f), join(dir, f), { recursive: true });
  }, 150_000);

  afterAll(async () => {
    if (imageNode?.pid) {
      try {
        process.kill(-imageNode.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs the edge without dev or Desk dependencies, starts, and passes the HEALTHCHECK probe', async (ctx) => {
    if (/ENOTCACHED/.test(installed)) ctx.skip(); // a machine whose npm cache lacks the packages (offline)
    expect(installed).toBe('ok');
    const modules = execFileSync('ls', [join(dir, 'node_modules')], { encoding: 'utf8' }).split('\n');
    for (const absent of ['typescript', 'vitest', 'better-sqlite3', 'pg', 'mailparser', 'smtp-server', 'playwright-core']) expect(modules).not.toContain(absent);

    const [httpPort, adminPort] = [await closedPort(), await closedPort()];
    const config = join(dir, 'outpost.yaml');
    writeFileSync(
      config,
      `pop: { id: image-test }
listen: { http: "127.0.0.1:${httpPort}", admin: "127.0.0.1:${adminPort}" }
workers: 1
log: { level: warn }
pools:
  main: { origins: [{ name: o1, address: "${origin.url}" }] }
loadBalancers: [{ hostname: "*", defaultPools: [main] }]
`,
    );
    const proc = spawn(process.execPath, [join(dir, 'bin/outpost.js'), 'start', '-c', config], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    proc.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    imageNode = proc;
    const ready = await runProbe(join(dir, 'packaging/probe.mjs'), [`http://127.0.0.1:${adminPort}/readyz`, '--wait', '30']);
    expect(ready.stderr + output).toBe('');
    expect(ready.status).toBe(0);
    const health = await runProbe(join(dir, 'packaging/probe.mjs'), [`http://127.0.0.1:${adminPort}/healthz`]);
    expect(health.status).toBe(0);
    expect(await httpGet(httpPort, '/')).toEqual({ status: 200, body: 'from the origin' });
  });
});

describe('packaging/probe.mjs', () => {
  it('fails with the reason when nothing answers (after --wait), and says how to call it', async () => {
    const port = await closedPort();
    const r = await runProbe(probe, [`http://127.0.0.1:${port}/readyz`, '--wait', '0.5']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`outpost probe: http://127.0.0.1:${port}/readyz: ECONNREFUSED\n`);
    const usage = await runProbe(probe, []);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^usage: probe\.mjs URL/);
  });

  it('a non-2xx answer is a failure', async () => {
    const server = await startOrigin((_req, res) => {
      res.statusCode = 503;
      res.end('not ready\n');
    });
    try {
      const r = await runProbe(probe, [`${server.url}/readyz`]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(': 503');
    } finally {
      await server.close();
    }
  });
});
