/**
 * The supervisor (node:cluster primary): loads and validates the config, forks one worker per
 * core (or `workers`), restarts a worker that dies, reloads on SIGHUP and on file change (the new
 * file is validated whole before any worker sees it; a bad one is refused and logged, and the
 * running config stays), serves the admin listener, and stops everything gracefully on SIGTERM.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry, Registry } from 'prom-client';
import type { Logger } from 'pino';
import { startAdmin } from '../admin/server.js';
import { formatErrors, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { watchConfig } from '../config/watch.js';
import { createLogger } from '../observe/access-log.js';
import { createSupervisorMetrics } from '../observe/metrics.js';
import { isOutpostMessage, type FromWorker, type ToWorker } from './messages.js';

export interface Supervisor {
  readonly log: Logger;
  readonly admin: { host: string; port: number };
  reload(): boolean;
  stop(): Promise<void>;
}

export async function supervise(file: string, opts: { onReady?: (config: Config) => void } = {}): Promise<Supervisor> {
  const first = loadConfigFile(file);
  if (!first.ok) {
    process.stderr.write(`${formatErrors(first.file, first.errors)}\n${first.errors.length} error(s): not started\n`);
    process.exit(1);
  }
  let config = first.config;
  const log = createLogger(config.log, config.pop.id);
  const own = createSupervisorMetrics(new Registry());
  const aggregator = new AggregatorRegistry();
  const count = config.workers ?? availableParallelism();
  const ready = new Set<Worker>();
  let stopping = false;
  let restarts = 0;

  cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker.js', import.meta.url)), silent: false });

  const fork = () => {
    const bornAt = Date.now();
    const w = cluster.fork();
    w.on('message', (raw: unknown) => {
      if (!isOutpostMessage(raw)) return;
      const m = raw as FromWorker;
      if (m.type === 'outpost:hello') {
        w.send({ type: 'outpost:config', config } satisfies ToWorker);
      } else if (m.type === 'outpost:ready') {
        ready.add(w);
        log.info({ type: 'worker', pid: w.process.pid, addresses: m.addresses }, 'worker listening');
        if (ready.size === count && !readyAnnounced) { readyAnnounced = true; opts.onReady?.(config); }
      } else if (m.type === 'outpost:failed') {
        log.error({ type: 'worker', pid: w.process.pid }, `worker could not apply the config: ${m.message}`);
      }
    });
    w.on('exit', (code, signal) => {
      ready.delete(w);
      if (stopping) return;
      // Crash loop protection: a worker that dies young waits longer before its replacement.
      const young = Date.now() - bornAt < 5_000;
      restarts = young ? restarts + 1 : 0;
      const delay = young ? Math.min(100 * 2 ** restarts, 10_000) : 0;
      log.error({ type: 'worker', pid: w.process.pid, code, signal, restartInMs: delay }, 'worker died; starting a new one');
      setTimeout(fork, delay).unref();
    });
  };
  let readyAnnounced = false;
  for (let i = 0; i < count; i++) fork();

  const reload = (): boolean => {
    const next = loadConfigFile(file);
    if (!next.ok) {
      own.configReloads.inc({ result: 'refused' });
      log.error({ type: 'config', errors: next.errors }, `config reload refused, the running config stays:\n${formatErrors(next.file, next.errors)}`);
      return false;
    }
    config = next.config;
    own.configReloads.inc({ result: 'applied' });
    for (const w of Object.values(cluster.workers ?? {})) w?.send({ type: 'outpost:config', config } satisfies ToWorker);
    log.info({ type: 'config' }, 'config reloaded');
    return true;
  };

  const watcher = watchConfig(first.file, () => { if (!stopping) reload(); });
  process.on('SIGHUP', () => reload());

  const admin = await startAdmin(config.listen.admin, {
    metricsContentType: aggregator.contentType,
    async metrics() {
      const workers = await aggregator.clusterMetrics();
      return workers + (await own.registry.metrics());
    },
    ready: () => !stopping && ready.size === count,
    status: () => ({
      pop: config.pop,
      workers: { wanted: count, ready: ready.size, pids: [...ready].map((w) => w.process.pid) },
      stopping,
      loadBalancers: config.loadBalancers.map((lb) => lb.hostname),
      pools: Object.keys(config.pools),
    }),
  });

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    watcher.close();
    log.info({ type: 'shutdown' }, 'stopping: draining workers');
    const drainMs = config.shutdown.drainTimeout;
    const exits = Object.values(cluster.workers ?? {}).map(
      (w) =>
        new Promise<void>((resolve) => {
          if (!w || w.isDead()) return resolve();
          w.once('exit', () => resolve());
          w.send({ type: 'outpost:shutdown', drainMs } satisfies ToWorker);
          // A worker that does not exit after its deadline is killed.
          setTimeout(() => w.process.kill('SIGKILL'), drainMs + 5_000).unref();
        }),
    );
    await Promise.all(exits);
    admin.server.close();
    admin.server.closeAllConnections();
    log.info({ type: 'shutdown' }, 'stopped');
    log.flush();
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => { void stop().then(() => process.exit(0)); });
  }

  return { log, admin: { host: admin.address.address, port: admin.address.port }, reload, stop };
}
