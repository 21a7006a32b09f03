/**
 * A worker process: waits for its config from the supervisor, serves traffic, applies reloads,
 * stops gracefully when told (or on SIGTERM sent to it directly). Interactive Ctrl-C reaches every
 * process of the group; workers leave it to the supervisor, which stops them in order.
 */
import type { Config } from '../config/schema.js';
import { AggregatorRegistry } from 'prom-client';
import { createLogger } from '../observe/access-log.js';
import { createMetrics } from '../observe/metrics.js';
import { OriginStatus } from '../balancer/origin-status.js';
import { openGeoDatabase } from '../geo/geo-db.js';
import { normalizeRegion } from '../geo/regions.js';
import { startEdge, type Edge } from './edge.js';
import cluster from 'node:cluster';
import { isBusFrame, type BusFrame } from '../cluster/bus.js';
import { WorkerCluster } from '../cluster/ipc.js';
import { withNodeTier } from '../cache/node-tier.js';
import { NodeLimits, type NodeLimitReply } from '../shield/node-limits.js';
import { BusLimits } from '../shield/global-limits.js';
import { linkWorkerHealth } from './health-link.js';
import { NodeLoad } from '../balancer/node-load.js';
import { isOutpostMessage, type FromWorker, type OriginStats, type ToWorker } from './messages.js';

const send = (m: FromWorker) => process.send?.(m);
let edge: Edge | undefined;
let stopping = false;
/** Under-attack mode told before the edge started (the supervisor says it on hello). */
let pendingUnderAttack = false;
const status = new OriginStatus();
// The node's shared state (nonces, locks, events, documents), served by the supervisor (src/cluster).
const shared = new WorkerCluster(
  {
    send: (f: BusFrame) => {
      // process.send's false means "queued", not "lost": only a closed channel is a failure.
      if (!process.connected) return false;
      process.send!(f);
      return true;
    },
    onFrame: (h) =>
      process.on('message', (m: unknown) => {
        if (isBusFrame(m)) h(m);
      }),
  },
  `w${cluster.worker?.id ?? process.pid}`,
);
// Health verdicts, passive ejection and admin overrides are the node's (health-link.ts).
linkWorkerHealth(shared, status);
// Rate-limit counts are the node's, kept by the supervisor: each batch of hits is one bus call;
// NodeLimits keeps its own deadline (it decides here when the answer is late).
const nodeLimits: NodeLimits = new NodeLimits((m) => {
  if (!process.connected) return false;
  shared.spoke.call<NodeLimitReply | null>('limits.node', m, 10_000).then(
    (reply) => {
      if (reply) nodeLimits.onMessage(reply);
    },
    () => {},
  );
  return true;
});

process.on('SIGINT', () => {});
process.on('SIGTERM', () => void stop(30_000));
process.on('disconnect', () => void stop(5_000)); // the supervisor is gone
// A message to a supervisor that just died fails with EPIPE on the IPC channel: it is going away anyway.
process.on('error', () => {});

process.on('message', async (raw: unknown) => {
  if (!isOutpostMessage(raw)) return;
  const m = raw as ToWorker;
  if (m.type === 'outpost:config') {
    try {
      if (!edge) {
        const log = createLogger(m.config.log, m.config.pop.id, true);
        const metrics = createMetrics();
        // The supervisor's /metrics asks every worker over IPC for this registry.
        // (constructing one is what installs prom-client's worker-side IPC listener).
        new AggregatorRegistry();
        AggregatorRegistry.setRegistries([metrics.registry]);
        // Country lookups for steering and X-Outpost-Country. ASN data (17 MB in memory) only
        // when a file is configured or an IP rule matches by asn: then the packaged data, if
        // that optional package is installed (else a warning says ASN lookups are off).
        const asnRules = m.config.security.ipRules.some((r) => r.asn !== undefined);
        const geo = await openGeoDatabase({
          countryDb: m.config.geo.countryDb,
          asnDb: m.config.geo.asnDb ?? (asnRules ? undefined : false),
          privateDefault: m.config.geo.privateDefault,
          onError: (err) => log.warn({ err }, 'geo database refresh failed'),
          onNotice: (message) => log.warn({ type: 'geo' }, `${message}; security.ipRules matching by asn never match`),
        });
        log.info({ type: 'geo', sources: geo.sources.map((s) => ({ kind: s.kind, files: s.files })) }, 'geo data loaded');
        edge = await startEdge(withNodeTier(m.config), { log, metrics, status, secret: m.secret, geo, normalizeRegion: (r) => normalizeRegion(r) ?? r, cluster: shared });
        // Origin steering and the retry budget read the node's load, not this worker's alone (node-load.ts).
        const started = edge;
        status.peers = new NodeLoad(shared.events, { origins: () => started.runtime.snapshot.origins, budgets: started.runtime.retryBudgets }).start();
        // Workers share a disk tier (cache.disk, or the node's own): one fill per key for the
        // node, memory tiers kept coherent (src/cache/coherence.ts).
        edge.runtime.cache.joinNode(shared);
        const shield = edge.runtime.shield;
        shield.limits = nodeLimits;
        shield.globalLimits = new BusLimits(shared.spoke);
        shield.underAttack = pendingUnderAttack;
        // The node's under-attack detector reads every worker's traffic once a second.
        setInterval(() => send({ type: 'outpost:traffic', ...shield.takeTraffic() }), 1_000).unref();
        send({ type: 'outpost:ready', addresses: edge.addresses });
      } else {
        edge.apply(withNodeTier(m.config));
        send({ type: 'outpost:applied', version: edge.runtime.snapshot.version });
      }
    } catch (err) {
      send({ type: 'outpost:failed', message: (err as Error).message });
      if (!edge) process.exit(1);
    }
  } else if (m.type === 'outpost:stats-request') {
    const origins: Record<string, OriginStats> = {};
    for (const o of edge?.runtime.snapshot.origins ?? []) {
      origins[o.id] = { inflight: o.load.inflight, websockets: o.load.websockets };
    }
    const usage = edge?.runtime.cache.store.usage() ?? { bytes: 0, entries: 0 };
    send({ type: 'outpost:stats', id: m.id, origins, cache: { ...usage, failure: edge?.runtime.cache.store.failure } });
  } else if (m.type === 'outpost:purge') {
    if (!edge) return send({ type: 'outpost:purged', id: m.id, count: 0 });
    const e = edge;
    e.runtime.cache
      .purge(m.request, (url) => e.runtime.snapshot.rules(url)?.rule)
      .then(
        (count) => send({ type: 'outpost:purged', id: m.id, count }),
        (err: Error) => send({ type: 'outpost:purged', id: m.id, count: 0, error: err.message }),
      );
  } else if (m.type === 'outpost:under-attack') {
    if (edge) edge.runtime.shield.underAttack = m.active;
    else pendingUnderAttack = m.active;
  } else if (m.type === 'outpost:shutdown') {
    await stop(m.drainMs);
  }
});

send({ type: 'outpost:hello' });

async function stop(drainMs: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (edge) {
    await edge.shutdown(drainMs);
    const log = edge.runtime.log;
    await new Promise<void>((resolve) => log.flush(() => resolve()));
  }
  process.exit(0);
}

export type { Config };
