/**
 * A worker process: waits for its config from the supervisor, serves traffic, applies reloads,
 * stops gracefully when told (or on SIGTERM sent to it directly). Interactive Ctrl-C reaches every
 * process of the group; workers leave it to the supervisor, which stops them in order.
 */
import type { Config } from '../config/schema.js';
import { AggregatorRegistry } from 'prom-client';
import { createLogger } from '../observe/access-log.js';
import { createMetrics } from '../observe/metrics.js';
import { startEdge, type Edge } from './edge.js';
import { isOutpostMessage, type FromWorker, type ToWorker } from './messages.js';

const send = (m: FromWorker) => process.send?.(m);
let edge: Edge | undefined;
let stopping = false;

process.on('SIGINT', () => {});
process.on('SIGTERM', () => void stop(30_000));
process.on('disconnect', () => void stop(5_000)); // the supervisor is gone

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
        edge = await startEdge(m.config, { log, metrics });
        send({ type: 'outpost:ready', addresses: edge.addresses });
      } else {
        edge.apply(m.config);
        send({ type: 'outpost:applied', version: edge.runtime.snapshot.version });
      }
    } catch (err) {
      send({ type: 'outpost:failed', message: (err as Error).message });
      if (!edge) process.exit(1);
    }
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
    edge.runtime.log.flush();
  }
  process.exit(0);
}

export type { Config };
