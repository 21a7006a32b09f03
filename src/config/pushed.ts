/**
 * A config pushed to every PoP (`outpost push`, docs/cluster.md): the shared part of the file
 * (pools, load balancers, rules, security, cache policy…) comes from the pushed text; what belongs
 * to one machine stays as that PoP's own file says: who it is (`pop`), where it listens
 * (`listen`, `workers`), its certificate files (`tls`), its admin token and logs, the Redis it
 * joins (`cluster`) and its cache directory (`cache.disk`). A PoP validates the result as it
 * validates its own file; an invalid push is refused there and the running config stays.
 */
import { parse, stringify } from 'yaml';
import { parseConfig, type LoadResult } from './load.js';

/** Top-level keys every PoP keeps from its own file. */
export const NODE_KEYS = ['pop', 'listen', 'workers', 'tls', 'admin', 'log', 'cluster'] as const;

type Raw = Record<string, unknown>;

/**
 * The config a PoP runs for a pushed text: the pushed keys over this PoP's node keys. `localText`
 * is the PoP's own file (already valid), `localFile` its path (relative paths resolve from there).
 * Never throws.
 */
export function mergePushed(localText: string, pushedText: string, localFile: string, version: number): LoadResult {
  let pushed: Raw;
  let local: Raw;
  try {
    pushed = asObject(parse(pushedText, { maxAliasCount: 100 }));
    local = asObject(parse(localText, { maxAliasCount: 100 }));
  } catch (err) {
    return { ok: false, file: `pushed config v${version}`, errors: [{ path: '', line: 1, column: 1, message: `cannot read the pushed config: ${(err as Error).message}` }] };
  }
  const merged: Raw = { ...pushed };
  for (const key of NODE_KEYS) {
    if (key in local) merged[key] = local[key];
    else delete merged[key];
  }
  const pushedCache = asObject(pushed.cache);
  const localDisk = asObject(local.cache).disk;
  if (localDisk !== undefined || pushedCache.disk !== undefined) {
    const cache = { ...pushedCache };
    if (localDisk === undefined) delete cache.disk;
    else cache.disk = localDisk;
    merged.cache = cache;
  }
  const result = parseConfig(stringify(merged), localFile);
  if (!result.ok) return { ...result, file: `pushed config v${version} (over ${localFile})` };
  return result;
}

function asObject(v: unknown): Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : {};
}
