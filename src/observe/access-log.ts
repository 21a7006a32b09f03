/**
 * The observe phase: it always runs, once, when the response (or the WebSocket tunnel) is over,
 * errors and client aborts included. One JSON access log line and the request metrics.
 */
import { performance } from 'node:perf_hooks';
import pino, { type Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { RequestContext } from '../pipeline/context.js';
import { LineWriter } from './line-writer.js';
import { statusClass } from './metrics.js';

/**
 * `buffered`: lines are batched in 64 KiB writes, a partial batch written every second (and on
 * stop), so a quiet node's lines still show up (line-writer.ts); lifecycle logs go out at once.
 */
export function createLogger(cfg: Config['log'], pop: string, buffered = false, destination?: pino.DestinationStream): Logger {
  return pino(
    { level: cfg.level, base: { pop } }, // epoch-ms timestamps: the cheapest pino has
    destination ?? (buffered ? new LineWriter(1) : pino.destination({ sync: true })),
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
  const log = ctx.edge.log;
  if (!log.isLevelEnabled('info')) return;
  // One line per request is the hottest log there is: built by hand (the same JSON pino would
  // write, ~10 µs less per request, measured) and handed to the logger's own buffered stream.
  const q = JSON.stringify;
  let line =
    `{"level":30,"time":${Date.now()},"pop":${q(ctx.snapshot.config.pop.id)},"type":"access","id":${q(ctx.id)}` +
    `,"client":${q(ctx.clientIp)},"proto":"${ctx.proto}","scheme":"${ctx.scheme}","method":${q(ctx.method)}`;
  if (ctx.host) line += `,"host":${q(ctx.host)}`;
  line += `,"path":${q(ctx.path)},"status":${status}`;
  if (ctx.origin) line += `,"origin":${q(ctx.origin.id)}`;
  line += `,"bytes":${ctx.bytesOut},"ms":${round(ms)}`;
  if (ctx.upstreamMs !== undefined) line += `,"upstreamMs":${round(ctx.upstreamMs)}`;
  if (ctx.socket) line += `,"upgrade":true`;
  if (ctx.cacheResult) line += `,"cache":"${ctx.cacheResult}"`;
  if (ctx.error) line += `,"error":${q(ctx.error.code)}`;
  (log as unknown as Record<symbol, { write(s: string): void }>)[pino.symbols.streamSym].write(`${line},"msg":"access"}\n`);
}

const round = (ms: number) => Math.round(ms * 100) / 100;
