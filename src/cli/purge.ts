/**
 * `outpost purge`: asks a running node's admin API (address and token from the config file) to
 * purge its cache by URL, prefix, host or tag, or everything; `--invalidate` marks entries stale
 * instead of deleting them, so the next request revalidates (a 304 when nothing changed).
 */
import { callAdmin } from './admin-client.js';

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
  const body = {
    ...(a.urls.length && { urls: a.urls }),
    ...(a.prefixes.length && { prefixes: a.prefixes }),
    ...(a.hosts.length && { hosts: a.hosts }),
    ...(a.tags.length && { tags: a.tags }),
    ...(a.everything && { everything: true }),
    mode: a.invalidate ? 'invalidate' : 'delete',
  };
  const r = await callAdmin(a.file, 'POST', '/api/cache/purge', body);
  if (!r.ok) {
    err.write(`outpost purge: ${r.message}\n`);
    return 1;
  }
  const reply = r.body as { purged: number; workers: number };
  out.write(`${a.invalidate ? 'invalidated' : 'purged'} ${reply.purged} entr${reply.purged === 1 ? 'y' : 'ies'} on ${reply.workers} worker(s)\n`);
  return 0;
}
