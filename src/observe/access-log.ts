/**
 * The observe phase: it always runs, once, when the response (or the WebSocket tunnel) is over,
 * errors and client aborts included. One JSON access log line and the request metrics.
 */
import { performance } from 'node:perf_hooks';
import pino, { type Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { RequestContext } from '../pipeline/context.js';
import { statusClass } from './metrics.js';

/** `buffered`: access logs batch their writes (flushed on stop); lifecycle logs go out at once. */
export function createLogger(cfg: Config['log'], pop: string, buffered = false, destination?: pino.DestinationStream): Logger {
  return pino(
    { level: cfg.level, base: { pop } }, // epoch-ms timestamps: the cheapest pino has
    destination ?? pino.destination({ sync: !buffered, minLength: buffered ? 4096 : 0 }),
  );
}

export function observe(ctx: RequestContext): void {
  const ms = performance.now() - ctx.start;
  // Nobody received a status when the client left first: log 499 as nginx does.
  const status = ctx.status || (ctx.error?.code === 'client_closed' ? 499 : 0);
  const host = ctx.lb?.hostname ?? 'unmatched';
  const originId = ctx.origin?.id ?? 'none';
  const m = ctx.edge.metrics;
  m.requests.inc({ host, status_class: statusClass(status), origin: originId });
  m.requestDuration.observe({ host }, ms / 1000);
  if (!ctx.snapshot.config.log.access) return;
  ctx.edge.log.info({
    type: 'access',
    id: ctx.id,
    client: ctx.clientIp,
    proto: ctx.proto,
    scheme: ctx.scheme,
    method: ctx.method,
    host: ctx.host || undefined,
    path: ctx.path,
    status,
    origin: ctx.origin?.id,
    bytes: ctx.bytesOut,
    ms: round(ms),
    upstreamMs: ctx.upstreamMs === undefined ? undefined : round(ctx.upstreamMs),
    upgrade: ctx.socket ? true : undefined,
    error: ctx.error?.code,
  });
}

const round = (ms: number) => Math.round(ms * 100) / 100;
