/**
 * The shared tier a node gets by default. With several workers and no `cache.disk`, each worker
 * used to fill its own memory: a hit ratio divided by the number of cores, and a node that
 * served different answers depending on which worker took the connection. The supervisor now
 * gives its workers a disk tier in a private temporary directory (as nginx keeps proxy_cache in
 * files every worker reads): what one worker stores is a hit in the others, one fill per key for
 * the node (the cluster's locks), and coherence.ts keeps the memory tiers in front of it honest.
 *
 * The directory lives as long as the supervisor: made at start (mode 0700 by mkdtemp), removed on
 * stop and on any exit; one left by a supervisor that was killed is removed by the next start.
 * It holds `cache.memory.maxSize` (the size a one-worker node caches) and takes the same
 * objects as the memory tier (`maxObjectSize`), so 1 and N workers store the same responses.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';

const PREFIX = 'outpost-node-cache-';
/** How the supervisor tells its workers the directory (forked workers inherit its environment). */
export const NODE_TIER_ENV = 'OUTPOST_NODE_CACHE_DIR';

export class NodeTier {
  private constructor(readonly dir: string) {}

  /**
   * The supervisor's side: a tier when the node needs one (several workers, no disk configured),
   * named to the workers it forks from now on; else undefined.
   */
  static open(workers: number, cache: Config['cache']): NodeTier | undefined {
    delete process.env[NODE_TIER_ENV];
    if (workers <= 1 || cache.disk !== undefined) return undefined;
    removeOrphans();
    const tier = new NodeTier(mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`)));
    process.env[NODE_TIER_ENV] = tier.dir;
    process.once('exit', () => tier.remove());
    return tier;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The worker's side: the config as this worker applies it, `cache.disk` being the node's tier
 * when the supervisor made one and the file names no disk (a reload that adds `cache.disk` keeps
 * it as written: store changes apply at the next restart).
 */
export function withNodeTier(config: Config, dir = process.env[NODE_TIER_ENV]): Config {
  if (!dir || config.cache.disk !== undefined) return config;
  const disk = { path: dir, maxSize: config.cache.memory.maxSize, maxObjectSize: config.cache.memory.maxObjectSize };
  return { ...config, cache: { ...config.cache, disk } };
}

/** Directories of supervisors that no longer run (killed before they could remove theirs). */
function removeOrphans(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^outpost-node-cache-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
