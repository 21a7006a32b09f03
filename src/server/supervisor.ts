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
import { startAdmin, type AdminSource } from '../admin/server.js';
import { errorReport, formatErrors, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { watchConfig } from '../config/watch.js';
import { createLogger } from '../observe/access-log.js';
import { createSupervisorMetrics } from '../observe/metrics.js';
import { randomBytes } from 'node:crypto';
import type { AdminModel } from '../admin/api.js';
import type { AdminOverride } from '../balancer/origin-status.js';
import { NodeHealth, OVERRIDES_TOPIC, type OverrideList } from './health-link.js';
import { isBusFrame, type BusFrame } from '../cluster/bus.js';
import { ClusterHub } from '../cluster/ipc.js';
import { MemoryCluster } from '../cluster/memory.js';
import { RedisCluster } from '../cluster/redis.js';
import { ClusterLink } from './cluster-link.js';
import { serveGlobalLimits } from '../shield/global-limits.js';
import { PopHealth } from '../cluster/pop-health.js';
import { HEARTBEAT_MS } from '../cluster/pops.js';
import { UnderAttackControl, type UnderAttackMode } from '../shield/under-attack.js';
import { NodeLimitTable, type NodeLimitMessage, type NodeLimitReply } from '../shield/node-limits.js';
import { isOutpostMessage, type CacheStats, type FromWorker, type OriginStats, type ToWorker } from './messages.js';
import { NodeTier } from '../cache/node-tier.js';

const round = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms * 10) / 10);

export interface Supervisor {
  readonly log: Logger;
  readonly admin: { host: string; port: number };
  reload(): boolean;
  stop(): Promise<void>;
}

export async function supervise(file: string, opts: { onReady?: (config: Config) => void } = {}): Promise<Supervisor> {
  const first = loadConfigFile(file);
  if (!first.ok) {
    process.stderr.write(errorReport(first.file, first.errors, ': not started'));
    process.exit(1);
  }
  let config = first.config;
  const log = createLogger(config.log, config.pop.id);
  const own = createSupervisorMetrics(new Registry());
  const aggregator = new AggregatorRegistry();
  const count = config.workers ?? availableParallelism();
  // Several workers and no cache.disk: they share a tier in a private temporary directory (node-tier.ts).
  NodeTier.open(count, config.cache);
  const ready = new Set<Worker>();
  let stopping = false;
  let restarts = 0;
  // The file's own text: with a pushed config running, it still gives this PoP's node keys.
  let localText = first.text;
  // One secret for the edge (affinity cookies when a balancer sets none, challenge clearances):
  // every worker gets the same; with cluster.redis every PoP too (cluster-link.ts).
  let secret = randomBytes(32).toString('base64url');
  const workers = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
  const broadcast = (m: ToWorker) => {
    for (const w of workers()) if (w.isConnected()) w.send(m);
  };

  // Run-time admin state (enable, disable, drain), kept across reloads, pushed to every worker.
  const overrides = new Map<string, AdminOverride>();
  const publishOverrides = () => shared.view.events.publish(OVERRIDES_TOPIC, [...overrides] satisfies OverrideList);

  // Questions to every ready worker (live counts, purges), answered by id; a worker that does not
  // answer in time is left out of the sum rather than holding the admin API.
  let askSeq = 0;
  const asks = new Map<number, { left: number; replies: FromWorker[]; done: (r: FromWorker[]) => void }>();
  const askWorkers = (make: (id: number) => ToWorker, timeoutMs: number) =>
    new Promise<FromWorker[]>((resolve) => {
      const live = workers().filter((w) => ready.has(w));
      if (live.length === 0) return resolve([]);
      const id = ++askSeq;
      const waiter = { left: live.length, replies: [] as FromWorker[], done: resolve };
      asks.set(id, waiter);
      setTimeout(() => {
        if (asks.delete(id)) resolve(waiter.replies);
      }, timeoutMs).unref();
      for (const w of live) w.send(make(id));
    });
  const workerStats = async () => {
    const sum: Record<string, OriginStats> = {};
    const cache: CacheStats[] = [];
    for (const m of await askWorkers((id) => ({ type: 'outpost:stats-request', id }), 2_000)) {
      if (m.type !== 'outpost:stats') continue;
      cache.push(m.cache);
      for (const [id, st] of Object.entries(m.origins)) {
        const acc = (sum[id] ??= { inflight: 0, websockets: 0 });
        acc.inflight += st.inflight;
        acc.websockets += st.websockets;
      }
    }
    return { origins: sum, cache };
  };

  // The node's shared state (src/cluster): nonces, locks, events, documents, served to every
  // worker over the bus from the supervisor's own state: memory, or Redis shared with other PoPs.
  const pop = config.pop.id;
  const state = config.cluster ? new RedisCluster({ url: config.cluster.redis, member: pop, prefix: config.cluster.prefix }) : new MemoryCluster(pop);
  const shared = new ClusterHub(state, pop);

  // Health, once per node, here: the monitors and passive ejection of the node's traffic; workers
  // hear verdicts, ejections and admin overrides on node events (health-link.ts).
  const health = new NodeHealth(config, {
    log,
    shared,
    onChange: (c) => {
      own.healthChanges.inc({ origin: `${c.pool}/${c.origin}`, to: c.to });
      popHealth.publish();
    },
  });
  // What this PoP's monitors see, told to every PoP (and what they see, kept): /api/pools seenBy.
  const popHealth = new PopHealth(shared.view.events, pop, () => health.checker.list().map((h) => ({ pool: h.pool, origin: h.origin, status: h.status, rttMs: round(h.rttEwmaMs) })));
  const popHealthTimer = setInterval(() => popHealth.publish(), HEARTBEAT_MS);
  popHealthTimer.unref();

  // Under-attack mode: one state for the node, told to every worker; traffic summed each second.
  const underAttack = new UnderAttackControl(config.security, {
    log,
    registry: own.registry,
    onChange: (active) => broadcast({ type: 'outpost:under-attack', active }),
  });
  const traffic = { requests: 0, mitigated: 0 };
  const trafficTimer = setInterval(() => {
    underAttack.sample(Date.now(), traffic.requests, traffic.mitigated);
    traffic.requests = traffic.mitigated = 0;
  }, 1_000);
  trafficTimer.unref();
  // Rate-limit counts for the whole node: a limit of 100 is 100 per PoP, not per worker. A batch
  // of a worker's hits is one bus call; the table answers it at once (its reply is the result).
  let verdicts: NodeLimitReply | null = null;
  const limitTable = new NodeLimitTable((_workerId, m) => {
    verdicts = m;
  });
  shared.hub.serve('limits.node', (m, from) => {
    verdicts = null;
    limitTable.handle(workerNumber(from), m as NodeLimitMessage);
    return verdicts;
  });

  cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker.js', import.meta.url)), silent: false });

  const fork = () => {
    const bornAt = Date.now();
    const w = cluster.fork();
    shared.attach(`${pop}/w${w.id}`, {
      send: (f: BusFrame) => w.isConnected() && w.send(f),
      onFrame: (h) =>
        w.on('message', (m: unknown) => {
          if (isBusFrame(m)) h(m);
        }),
    });
    w.on('message', (raw: unknown) => {
      if (!isOutpostMessage(raw)) return;
      const m = raw as FromWorker;
      if (m.type === 'outpost:hello') {
        w.send({ type: 'outpost:config', config, secret } satisfies ToWorker);
        health.publish();
        publishOverrides();
        w.send({ type: 'outpost:under-attack', active: underAttack.active } satisfies ToWorker);
      } else if (m.type === 'outpost:traffic') {
        traffic.requests += m.requests;
        traffic.mitigated += m.mitigated;
      } else if (m.type === 'outpost:ready') {
        ready.add(w);
        log.info({ type: 'worker', pid: w.process.pid, addresses: m.addresses }, 'worker listening');
        if (ready.size === count && !readyAnnounced) {
          readyAnnounced = true;
          opts.onReady?.(config);
        }
      } else if (m.type === 'outpost:stats' || m.type === 'outpost:purged') {
        const waiter = asks.get(m.id);
        if (!waiter) return;
        waiter.replies.push(m);
        if (--waiter.left === 0) {
          asks.delete(m.id);
          waiter.done(waiter.replies);
        }
      } else if (m.type === 'outpost:failed') {
        log.error({ type: 'worker', pid: w.process.pid }, `worker could not apply the config: ${m.message}`);
        // Before the node was ever ready, a worker that cannot start (a port taken, a port below
        // 1024 without the right) fails the same way on every restart: stop instead of looping.
        if (!readyAnnounced) startFailed(describeStartFailure(m.message, config.listen));
      }
    });
    // A send to a worker that just died fails (EPIPE, channel closed) as an 'error' event: its
    // 'exit' below replaces it; unhandled, the error would end the supervisor with it.
    w.on('error', (err) => log.debug({ type: 'worker', err, pid: w.process.pid }, 'a message to a worker failed'));
    w.on('exit', (code, signal) => {
      ready.delete(w);
      shared.detach(`${pop}/w${w.id}`);
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
  /** Ends a node that cannot start: one line on stderr, the workers stopped, exit 1. */
  const startFailed = (line: string): never => {
    stopping = true;
    process.stderr.write(`outpost: ${line}\n`);
    log.flush();
    for (const w of workers()) w.process.kill('SIGKILL');
    process.exit(1);
  };
  // What this PoP shares with the others: the edge's secret, a pushed config, admin actions, the
  // directory of PoPs. Resolved before the workers start, so they start with both.
  const link = new ClusterLink(shared, {
    log,
    file: first.file,
    localText: () => localText,
    config: () => config,
    apply: (next) => {
      config = next;
      own.configReloads.inc({ result: 'applied' });
      health.apply(config);
      broadcast({ type: 'outpost:config', config, secret });
      underAttack.apply(config.security);
      link.pops.beat();
    },
    setUnderAttack: (mode) => model.setUnderAttack(mode),
    setOrigin: (p, o, action) => model.setOrigin(p, o, action),
    purge: (request) => model.purge(request),
    workers: count,
  });
  // Rate-limit rules with scope: global, counted in Redis across PoPs (or node-wide without it).
  serveGlobalLimits(shared.hub, state, () => link.pops.knownCount());
  const joined = await link.start();
  secret = joined.secret;
  if (joined.config) {
    config = joined.config;
    health.apply(config);
    underAttack.apply(config.security);
  }
  for (let i = 0; i < count; i++) fork();

  // A reload never throws: whatever goes wrong refuses the new file and the running config stays.
  const reload = (): boolean => {
    try {
      return apply();
    } catch (err) {
      own.configReloads.inc({ result: 'refused' });
      log.error({ type: 'config', err }, `config reload failed, the running config stays: ${(err as Error).message}`);
      return false;
    }
  };
  const apply = (): boolean => {
    const next = loadConfigFile(file);
    if (!next.ok) {
      own.configReloads.inc({ result: 'refused' });
      log.error({ type: 'config', errors: next.errors }, `config reload refused, the running config stays:\n${formatErrors(next.file, next.errors)}`);
      return false;
    }
    localText = next.text;
    config = link.reloaded(next.text) ?? next.config;
    own.configReloads.inc({ result: 'applied' });
    health.apply(config);
    broadcast({ type: 'outpost:config', config, secret });
    underAttack.apply(config.security);
    log.info({ type: 'config' }, 'config reloaded');
    return true;
  };

  const watcher = watchConfig(first.file, () => {
    if (!stopping) reload();
  });
  process.on('SIGHUP', () => reload());

  const model: AdminModel = {
    loadBalancers: () =>
      config.loadBalancers.map((lb) => ({
        hostname: lb.hostname,
        steering: lb.steering,
        defaultPools: lb.defaultPools,
        fallbackPool: lb.fallbackPool,
        sessionAffinity: lb.sessionAffinity?.type ?? 'none',
        failoverAcrossPools: lb.adaptiveRouting.failoverAcrossPools,
      })),
    async pools() {
      const stats = (await workerStats()).origins;
      return Object.entries(config.pools).map(([name, p]) => ({
        name,
        region: p.region,
        monitor: p.monitor,
        minimumOrigins: p.minimumOrigins,
        originSteering: p.originSteering,
        rttMs: round(health.checker.poolRtt(name)),
        origins: p.origins.map((o) => {
          const id = `${name}/${o.name}`;
          const h = health.checker.state(name, o.name);
          const ov = overrides.get(id);
          const st = stats[id];
          return {
            name: o.name,
            address: o.address,
            weight: o.weight,
            enabled: ov?.enabled ?? o.enabled,
            adminState: ov ? (ov.enabled ? 'enabled' : ov.since > 0 ? 'draining' : 'disabled') : o.enabled ? 'enabled' : 'disabled',
            health: p.monitor ? (h?.status ?? 'unknown') : 'unmonitored',
            ejected: health.outliers.isEjected(id),
            rttMs: round(h?.rttEwmaMs),
            lastCheck: h?.lastCheckAt ? new Date(h.lastCheckAt).toISOString() : undefined,
            lastError: h?.lastError,
            inflight: st?.inflight ?? 0,
            websockets: st?.websockets ?? 0,
          };
        }),
      }));
    },
    setOrigin(pool, origin, action) {
      if (!config.pools[pool]?.origins.some((o) => o.name === origin)) return false;
      const id = `${pool}/${origin}`;
      // drain: sessions pinned there continue for drainDuration; disable: they move at once.
      overrides.set(id, { enabled: action === 'enable', since: action === 'drain' ? Date.now() : 0 });
      log.info({ type: 'admin', origin: id, action }, `origin ${id}: ${action}`);
      publishOverrides();
      return true;
    },
    events: () => health.events(),
    security: () => ({ level: config.security.level, underAttack: underAttack.view() }),
    setUnderAttack(mode: UnderAttackMode) {
      underAttack.set(mode);
      return underAttack.view();
    },
    async purge(request) {
      // One worker purges the shared tier and counts; the others drop their memory copies (edge-cache.ts).
      let asked = 0;
      const replies = await askWorkers((id) => ({ type: 'outpost:purge', id, request: asked++ === 0 ? request : { ...request, memoryOnly: true } }), 30_000);
      let purged = 0;
      const errors: string[] = [];
      for (const m of replies) {
        if (m.type !== 'outpost:purged') continue;
        purged += m.count;
        if (m.error) errors.push(m.error);
      }
      log.info({ type: 'purge', request, purged, workers: replies.length }, 'cache purged');
      return { purged, workers: replies.length, errors };
    },
    async cache() {
      const stats = (await workerStats()).cache;
      return {
        workers: stats.length,
        bytes: stats.reduce((a, s) => a + s.bytes, 0),
        entries: stats.reduce((a, s) => a + s.entries, 0),
        failures: [...new Set(stats.map((s) => s.failure).filter(Boolean))],
        disk: config.cache.disk ? { path: config.cache.disk.path, maxSize: config.cache.disk.maxSize } : undefined,
        memory: config.cache.memory,
      };
    },
  };

  const adminSource: AdminSource = {
    metricsContentType: aggregator.contentType,
    async metrics() {
      const shared_ = shared.view.health();
      own.clusterConnected.set(shared_.connected ? 1 : 0);
      own.clusterFallbacks.set(shared_.fallbacks);
      own.pushedConfigVersion.set(link.configState.version);
      for (const h of health.checker.list()) own.originHealthy.set({ origin: `${h.pool}/${h.origin}` }, h.status === 'healthy' ? 1 : h.status === 'unhealthy' ? 0 : -1);
      for (const pool of Object.keys(config.pools)) {
        const ms = health.checker.poolRtt(pool);
        if (ms !== undefined) own.poolRtt.set({ pool }, ms / 1000);
      }
      const workers = await aggregator.clusterMetrics();
      return workers + (await own.registry.metrics());
    },
    api: { token: () => config.admin.token, publicMetrics: () => config.admin.publicMetrics, model: edgeWide(model, link, popHealth) },
    ready: () => !stopping && ready.size === count,
    status: () => ({
      pop: config.pop,
      workers: { wanted: count, ready: ready.size, pids: [...ready].map((w) => w.process.pid) },
      stopping,
      loadBalancers: config.loadBalancers.map((lb) => lb.hostname),
      pools: Object.keys(config.pools),
      config: link.configState,
      cluster: shared.view.health(),
      pops: link.popList(),
    }),
  };
  link.listen();
  const admin = await startAdmin(config.listen.admin, adminSource).catch((err: Error) => startFailed(describeStartFailure(err.message, { admin: config.listen.admin })));

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    watcher.close();
    clearInterval(trafficTimer);
    await health.stop();
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
    link.stop();
    clearInterval(popHealthTimer);
    popHealth.stop();
    await shared.close();
    admin.server.close();
    admin.server.closeAllConnections();
    log.info({ type: 'shutdown' }, 'stopped');
    log.flush();
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      void stop().then(() => process.exit(0));
    });
  }

  return { log, admin: { host: admin.address.address, port: admin.address.port }, reload, stop };
}

const ERRNO_TEXT: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'address not available on this machine',
};

/**
 * One line for a listener that could not bind, named by its config key:
 * `listen.http 127.0.0.1:8080: address already in use`. Node words the error
 * `bind EADDRINUSE 127.0.0.1:8080` in a cluster worker and `listen EADDRINUSE: address already in
 * use 127.0.0.1:8080` in the primary; anything else is passed on as it is.
 */
export function describeStartFailure(message: string, listen: Partial<Record<string, { host: string; port: number }>>): string {
  const m = /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b.*?(\S+):(\d+)$/.exec(message);
  if (!m) return `a worker could not start: ${message}`;
  const [, code, host, port] = m;
  const key = Object.entries(listen).find(([, a]) => a && a.port === Number(port) && (a.host === host || host === 'null'))?.[0];
  return `${key ? `listen.${key} ` : ''}${host === 'null' ? '' : host}:${port}: ${ERRNO_TEXT[code]}`;
}

/**
 * The admin API's actions, taken at this PoP and published to every other (cluster-link.ts):
 * purge, origin enable/disable/drain, under-attack mode. Reads stay this PoP's, but for each
 * origin's health as every PoP sees it (`seenBy`).
 */
function edgeWide(model: AdminModel, link: ClusterLink, popHealth: PopHealth): AdminModel {
  return {
    ...model,
    async pools() {
      const pools = (await model.pools()) as { name: string; origins: { name: string }[] }[];
      return pools.map((p) => ({ ...p, origins: p.origins.map((o) => ({ ...o, seenBy: popHealth.seenBy(p.name, o.name) })) }));
    },
    setOrigin(pool, origin, action) {
      const ok = model.setOrigin(pool, origin, action);
      if (ok) link.origin(pool, origin, action);
      return ok;
    },
    async purge(request) {
      link.purge(request);
      return model.purge(request);
    },
    setUnderAttack(mode) {
      const view = model.setUnderAttack(mode);
      link.underAttack(mode);
      return view;
    },
  };
}

/** `fra/w3` → 3: the worker's number, as the limit table counts workers. */
function workerNumber(member: string): number {
  return Number(member.slice(member.lastIndexOf('/w') + 2)) || 0;
}
