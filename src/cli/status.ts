/**
 * `outpost status -c FILE`: the node's /status, and the PoPs it hears (itself included): which
 * config each runs, whether each reaches the shared state, and when each was last heard from.
 */
import { request } from 'undici';
import { formatErrors, loadConfigFile } from '../config/load.js';
import type { PopView } from '../cluster/pops.js';
import { adminUrl } from './admin-client.js';

interface StatusBody {
  pop: { id: string };
  workers: { wanted: number; ready: number };
  config?: { source: string; version: number; hash: string; refused?: { version: number; error: string } };
  cluster?: { backend: string; connected: boolean; error?: string; fallbacks: number };
  pops?: PopView[];
}

export async function statusCommand(file: string, json: boolean): Promise<number> {
  const r = loadConfigFile(file);
  if (!r.ok) {
    process.stderr.write(`${formatErrors(r.file, r.errors)}\n`);
    return 1;
  }
  const { admin, listen } = r.config;
  const url = adminUrl(listen.admin, '/status');
  let body: StatusBody;
  try {
    const res = await request(url, { headers: admin.token ? { authorization: `Bearer ${admin.token}` } : {}, headersTimeout: 5_000 });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      process.stderr.write(`outpost: ${url} answered ${res.statusCode}: ${text.trim()}\n`);
      return 1;
    }
    body = JSON.parse(text) as StatusBody;
  } catch (err) {
    process.stderr.write(`outpost: cannot reach ${url}: ${(err as Error).message}\n`);
    return 1;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  const c = body.cluster;
  process.stdout.write(
    `PoP ${body.pop.id}: ${body.workers.ready}/${body.workers.wanted} workers ready; ` + `shared state: ${c ? `${c.backend}${c.connected ? '' : ` AWAY (${c.error ?? 'no answer'})`}` : 'n/a'}\n`,
  );
  if (body.config?.refused) process.stdout.write(`pushed config v${body.config.refused.version} refused:\n${body.config.refused.error}\n`);
  const rows = [['POP', 'REGION', 'STATE', 'CONFIG', 'HASH', 'SHARED STATE', 'WORKERS', 'LAST HEARD']];
  for (const p of body.pops ?? []) {
    rows.push([
      p.pop,
      p.region ?? '-',
      p.state,
      p.config.source === 'pushed' ? `pushed v${p.config.version}` : 'own file',
      p.config.hash,
      `${p.cluster.backend} ${p.cluster.connected ? 'ok' : 'away'}`,
      String(p.workers),
      `${(p.lastHeardMs / 1000).toFixed(1)} s ago`,
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows)
    process.stdout.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd()}\n`,
    );
  return 0;
}
