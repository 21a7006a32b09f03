/**
 * `outpost purge`: asks a running node's admin API (address and token from the config file) to
 * purge its cache by URL, prefix, host or tag, or everything; `--invalidate` marks entries stale
 * instead of deleting them, so the next request revalidates (a 304 when nothing changed).
 */
import { request } from 'undici';
import { formatErrors, loadConfigFile } from '../config/load.js';

export interface PurgeArgs {
  file: string;
  urls: string[];
  prefixes: string[];
  hosts: string[];
  tags: string[];
  everything: boolean;
  invalidate: boolean;
}

/** Runs the purge; returns the exit code (0 done, 1 refused or unreachable, 2 nothing asked). */
export async function purgeCommand(a: PurgeArgs, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  if (!a.everything && !a.urls.length && !a.prefixes.length && !a.hosts.length && !a.tags.length) {
    err.write('outpost purge: say what to purge: --url, --prefix, --host, --tag or --everything\n');
    return 2;
  }
  const r = loadConfigFile(a.file);
  if (!r.ok) {
    err.write(`${formatErrors(r.file, r.errors)}\n`);
    return 1;
  }
  const { admin, listen } = r.config;
  if (!admin.token) {
    err.write(`outpost purge: ${r.file} sets no admin.token, so the node's admin API is off\n`);
    return 1;
  }
  const host = listen.admin.host === '0.0.0.0' ? '127.0.0.1' : listen.admin.host === '::' ? '::1' : listen.admin.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${listen.admin.port}/api/cache/purge`;
  const body = {
    ...(a.urls.length && { urls: a.urls }),
    ...(a.prefixes.length && { prefixes: a.prefixes }),
    ...(a.hosts.length && { hosts: a.hosts }),
    ...(a.tags.length && { tags: a.tags }),
    ...(a.everything && { everything: true }),
    mode: a.invalidate ? 'invalidate' : 'delete',
  };
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: 60_000,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      err.write(`outpost purge: the node answered ${res.statusCode}: ${text}`);
      return 1;
    }
    const reply = JSON.parse(text) as { purged: number; workers: number };
    out.write(`${a.invalidate ? 'invalidated' : 'purged'} ${reply.purged} entr${reply.purged === 1 ? 'y' : 'ies'} on ${reply.workers} worker(s)\n`);
    return 0;
  } catch (e) {
    err.write(`outpost purge: cannot reach the admin API at ${url}: ${(e as Error).message}\n`);
    return 1;
  }
}
