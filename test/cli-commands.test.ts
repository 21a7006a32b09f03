/**
 * The conventions a new user tries first: `outpost --version`, `outpost --help`, `--help` on
 * every command, a clear line for a wrong option or command, and a missing config file named
 * as such by `validate` and `start` (it once printed `file:0:0`).
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot } from './helpers.js';
import { runOutpost } from './cli-process.js';

const COMMANDS = ['start', 'validate', 'purge', 'under-attack', 'demo', 'schema'];

beforeAll(() => ensureBuilt());

describe('outpost --version and --help', () => {
  it('--version (and -v) print the version of package.json', () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = runOutpost([flag]);
      expect(r.stdout).toBe(`outpost ${version}\n`);
      expect(r.status).toBe(0);
    }
  });

  it('--help lists every command and exits 0', () => {
    const r = runOutpost(['--help']);
    expect(r.status).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(r.stdout).toContain('--version');
  });

  it('every command has its own --help page (and `outpost help <command>` shows the same)', () => {
    const pages = new Set<string>();
    for (const c of COMMANDS) {
      const r = runOutpost([c, '--help']);
      expect(r.status, c).toBe(0);
      expect(r.stdout.startsWith(`Usage: outpost ${c}`), c).toBe(true);
      expect(runOutpost(['help', c]).stdout).toBe(r.stdout);
      pages.add(r.stdout);
    }
    expect(pages.size).toBe(COMMANDS.length);
    // The pages say what a user needs: the options of purge, the signals of start.
    expect(runOutpost(['purge', '-h']).stdout).toMatch(/--prefix P[\s\S]*--invalidate/);
    expect(runOutpost(['start', '--help']).stdout).toMatch(/SIGHUP[\s\S]*SIGTERM/);
  });

  it('an unknown option or command: one clear line, exit 2', () => {
    const opt = runOutpost(['validate', '--colour']);
    expect(opt.status).toBe(2);
    expect(opt.stderr.split('\n')[0]).toMatch(/^outpost: Unknown option '--colour'/);
    const cmd = runOutpost(['serve']);
    expect(cmd.status).toBe(2);
    expect(cmd.stderr.split('\n')[0]).toBe('outpost: unknown command "serve"');
  });
});

describe('a missing config file', () => {
  const missing = join(tmpdir(), 'outpost-no-such-dir', 'nope.yaml');

  it('validate: "config file not found: <path>", exit 1', () => {
    const r = runOutpost(['validate', '-c', missing]);
    expect(r.stderr).toBe(`config file not found: ${missing}\n`);
    expect(r.status).toBe(1);
  });

  it('start: the same line, exit 1, nothing started', () => {
    const r = runOutpost(['start', '-c', missing]);
    expect(r.stderr).toBe(`config file not found: ${missing}\n`);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(1);
  });

  it('a relative path is shown resolved against the working directory', () => {
    const r = runOutpost(['validate', '-c', 'nope.yaml'], tmpdir());
    expect(r.stderr).toBe(`config file not found: ${join(tmpdir(), 'nope.yaml')}\n`);
    expect(r.status).toBe(1);
  });
});
