/**
 * The `outpost` command as a user runs it, for the cli-*.test.ts suites: one-shot commands
 * (`validate`, `--help`) and a long-running `outpost start` in its own process group, so a test
 * can end the supervisor and its workers together whatever state they are in.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers.js';

export const outpostBin = join(repoRoot, 'bin/outpost.js');

/** Runs `outpost ARGS…` to completion (from another directory, as a user would). */
export function runOutpost(args: string[], cwd = tmpdir()): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [outpostBin, ...args], { cwd, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface OutpostProcess {
  proc: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** stdout alone so far. */
  stdout(): string;
  /** stderr alone so far. */
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL to the whole process group (supervisor and workers), if still running. */
  kill(): Promise<void>;
}

/** Starts `outpost start -c FILE` (this checkout's, or another copy's `bin`); does not wait for readiness. */
export function startOutpost(file: string, cwd = tmpdir(), bin = outpostBin): OutpostProcess {
  const proc = spawn(process.execPath, [bin, 'start', '-c', file], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let all = '';
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => {
    all += c.toString();
    out += c.toString();
  });
  proc.stderr!.on('data', (c: Buffer) => {
    all += c.toString();
    err += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    output: () => all,
    stdout: () => out,
    stderr: () => err,
    exited,
    async kill() {
      if (proc.pid === undefined) return;
      // The group outlives the supervisor when it died first: its workers are killed too.
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        /* nobody left */
      }
      if (proc.exitCode === null && proc.signalCode === null) await exited;
    },
  };
}

/** A GET on a new connection to 127.0.0.1:`port`. */
export function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, headers }, (res) => {
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
