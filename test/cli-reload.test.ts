/**
 * A running node and a config file that must be refused (issue 14, item 5): a save with a YAML
 * alias bomb once threw out of the loader and killed the supervisor on reload, by SIGHUP and by
 * the file watch alike. Here a real `outpost start` gets the bomb both ways and must keep
 * serving with the old config; `outpost validate` refuses the same file with its line.
 */
import { linkSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, ensureBuilt, startOrigin, waitFor, type TestServer } from './helpers.js';
import { httpGet, runOutpost, startOutpost, type OutpostProcess } from './cli-process.js';

/** Nine lines whose aliases expand to 9^9 values ("billion laughs"), after a config that would be valid. */
function aliasBomb(valid: string): string {
  const lines = ['lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++)
    lines.push(
      `lol${i}: &${'abcdefghi'[i]} [${Array(9)
        .fill(`*${'abcdefghi'[i - 1]}`)
        .join(',')}]`,
    );
  return `${valid}${lines.join('\n')}\n`;
}

function reloadCount(metrics: string, result: string): number {
  const m = new RegExp(`^outpost_config_reloads_total\\{[^}]*result="${result}"[^}]*\\} (\\S+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : 0;
}

describe('a config reload with a YAML alias bomb', () => {
  let dir: string;
  let file: string;
  let sideLink: string;
  let origin: TestServer;
  let node: OutpostProcess;
  let httpPort: number;
  let adminPort: number;

  const config = (pool: string) => `pop: { id: reload-test }
listen: { http: "127.0.0.1:${httpPort}", admin: "127.0.0.1:${adminPort}" }
workers: 1
log: { level: warn, access: false }
pools:
  ${pool}:
    origins: [{ name: o1, address: "${origin.url}" }]
loadBalancers:
  - { hostname: "*", defaultPools: [${pool}] }
`;
  const admin = (path: string) => httpGet(adminPort, path);
  const status = async () => JSON.parse((await admin('/status')).body) as { pools: string[]; workers: { ready: number } };
  const refusals = async () => reloadCount((await admin('/metrics')).body, 'refused');

  beforeAll(async () => {
    origin = await startOrigin((_req, res) => res.end('from the origin'));
    [httpPort, adminPort] = [await closedPort(), await closedPort()];
    dir = mkdtempSync(join(tmpdir(), 'outpost-reload-'));
    mkdirSync(join(dir, 'conf'));
    mkdirSync(join(dir, 'side'));
    file = join(dir, 'conf', 'outpost.yaml');
    sideLink = join(dir, 'side', 'outpost.yaml');
    writeFileSync(file, config('old'));
    linkSync(file, sideLink);
    await ensureBuilt();
    node = startOutpost(file, dir);
    await waitFor('/readyz 200', async () => (await admin('/readyz')).status === 200, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\noutput:\n${node.output()}`);
    });
  });

  afterAll(async () => {
    await node?.kill();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('SIGHUP: the bomb is refused with its line, the node keeps serving with the old config', async () => {
    // Written through a hard link elsewhere: the directory watch sees nothing, only the signal applies it.
    writeFileSync(sideLink, aliasBomb(config('new')));
    node.proc.kill('SIGHUP');
    await waitFor('the refusal to be counted', async () => (await refusals()) === 1, 10_000);
    expect(node.proc.exitCode).toBe(null);
    expect(await httpGet(httpPort, '/')).toEqual({ status: 200, body: 'from the origin' });
    expect((await status()).pools).toEqual(['old']);
    expect(node.output()).toMatch(new RegExp(`config reload refused.*${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1[0-9]:\\d+ \\(file\\): YAML: aliases expand this file`));
  });

  it('saving the file: the watcher refuses it too, and a good save after it still applies', async () => {
    writeFileSync(`${file}.tmp`, aliasBomb(config('newer')));
    renameSync(`${file}.tmp`, file);
    await waitFor('the second refusal', async () => (await refusals()) === 2, 10_000);
    expect(await httpGet(httpPort, '/')).toEqual({ status: 200, body: 'from the origin' });
    expect((await status()).pools).toEqual(['old']);

    writeFileSync(`${file}.tmp`, config('repaired'));
    renameSync(`${file}.tmp`, file);
    await waitFor('the repaired file to apply', async () => (await status()).pools[0] === 'repaired', 10_000);
    expect(await httpGet(httpPort, '/')).toEqual({ status: 200, body: 'from the origin' });
    expect(node.proc.exitCode).toBe(null);
  });

  it('a deleted config file is refused on SIGHUP ("config file not found"), the node stays', async () => {
    rmSync(sideLink);
    rmSync(file);
    node.proc.kill('SIGHUP');
    await waitFor('the third refusal', async () => (await refusals()) >= 3, 10_000);
    expect(node.output()).toContain(`config file not found: ${file}`);
    expect((await status()).pools).toEqual(['repaired']);
    expect(await httpGet(httpPort, '/')).toEqual({ status: 200, body: 'from the origin' });
  });

  it("`outpost validate` refuses the bomb: exit 1, one line with the alias's position", () => {
    const bomb = join(dir, 'bomb.yaml');
    writeFileSync(bomb, aliasBomb(config('new')));
    const r = runOutpost(['validate', '-c', bomb]);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${bomb.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+ \\(file\\): YAML: aliases expand this file by more than 100000 values`));
    expect(lines[1]).toBe('1 error(s)');
  });
});
