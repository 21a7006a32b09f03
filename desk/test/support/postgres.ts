/**
 * A real PostgreSQL server for a test file: a throwaway cluster (initdb into a temp directory) on
 * a free loopback port, fsync off, trust auth, removed by `stop()`. Needs the server binaries:
 * Debian's `postgresql` package (/usr/lib/postgresql/<version>/bin), `initdb` on PATH, or PG_BIN.
 * When the tests run as root, initdb and postgres (which refuse root) run as the `postgres` OS
 * user, owner of the temp directory. No PostgreSQL is an error, never a skip.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { closedPort } from '../../../test/helpers.js';

export interface TestPostgres {
  port: number;
  /** The cluster's `postgres` database (superuser `postgres`, no password). */
  url: string;
  /**
   * A new empty schema in the cluster's database, and a URL whose connections work in it
   * (`search_path`): as isolated as a database for the store, in a millisecond instead of the
   * few hundred CREATE DATABASE takes.
   */
  createSchema(): Promise<string>;
  stop(): Promise<void>;
}

/** The directory holding initdb and postgres, newest version first; undefined when none. */
export function postgresBinDir(): string | undefined {
  if (process.env.PG_BIN) return existsSync(join(process.env.PG_BIN, 'initdb')) ? process.env.PG_BIN : undefined;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions[0]) return join(root, versions[0], 'bin');
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  return which.status === 0 ? join(which.stdout.trim(), '..') : undefined;
}

/** uid/gid to run the server as: the `postgres` user when we are root, else ourselves. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('running as root, and initdb/postgres refuse root, but there is no `postgres` OS user to run them as (apt-get install -y postgresql creates it)');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`postgres exited (${child.exitCode ?? child.signalCode}): ${output()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections: ${(err as Error).message}\n${output()}`);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (!bin) {
    const where = process.env.PG_BIN ? `no initdb in PG_BIN=${process.env.PG_BIN}` : 'no /usr/lib/postgresql/*/bin/initdb, no initdb on PATH';
    throw new Error(`PostgreSQL is not installed (${where}): apt-get install -y postgresql — the PostgreSQL store is tested against a real server`);
  }
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'desk-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const as = { cwd: dir, ...(user ?? {}) };
  try {
    await promisify(execFile)(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'], as);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as Error & { stderr?: string };
    throw new Error(`initdb failed: ${e.stderr || e.message}`);
  }

  const port = await closedPort();
  const child = spawn(
    join(bin, 'postgres'),
    // -F: fsync off (a test cluster is thrown away); the socket goes into our own directory.
    ['-D', data, '-p', String(port), '-k', dir, '-h', '127.0.0.1', '-F', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    { ...as, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  // A test run that dies must not leave a server behind (SIGQUIT: immediate shutdown).
  const onExit = () => child.kill('SIGQUIT');
  process.once('exit', onExit);

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    process.off('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGINT'); // fast shutdown
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }

  let schemas = 0;
  return {
    port,
    url,
    async createSchema() {
      const name = `desk_test_${++schemas}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA ${name}`);
      } finally {
        await admin.end();
      }
      return `${url}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
    },
    stop,
  };
}
