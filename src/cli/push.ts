/**
 * `outpost push -c FILE`: validates a config file and stores it in the edge's Redis (the file's
 * own `cluster.redis`) as the next version; every PoP hears of it, validates it again over its own
 * file's node keys (config/pushed.ts) and swaps its snapshot, or refuses it and keeps running what
 * it runs. Prints the version stored.
 */
import { hostname } from 'node:os';
import { errorReport, loadConfigFile } from '../config/load.js';
import { RedisCluster } from '../cluster/redis.js';
import { retrying } from '../cluster/retrying.js';
import type { PushedConfig } from '../server/cluster-link.js';

export async function pushCommand(file: string): Promise<number> {
  const r = loadConfigFile(file);
  if (!r.ok) {
    process.stderr.write(errorReport(r.file, r.errors, ': not pushed'));
    return 1;
  }
  const cluster = r.config.cluster;
  if (!cluster) {
    process.stderr.write(`outpost: ${r.file} has no cluster.redis: there is nowhere to push it (each PoP reads its own file)\n`);
    return 1;
  }
  const shared = new RedisCluster({ url: cluster.redis, member: `push@${hostname()}`, prefix: cluster.prefix, commandTimeoutMs: 2_000 });
  try {
    const by = `${process.env.USER ?? 'someone'}@${hostname()}`;
    const doc = await retrying(() => shared.documents.put<PushedConfig>('config', { text: r.text, by }), 3_000);
    // Every PoP also polls the document (cluster-link.ts): the event only makes it quicker.
    shared.events.publish('config.pushed', { version: doc.version });
    await new Promise((r) => setTimeout(r, 300));
    process.stdout.write(`${r.file}: pushed as version ${doc.version}; \`outpost status\` shows which PoPs run it\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`outpost: cannot push to ${cluster.redis}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await shared.close();
  }
}
