/**
 * Counting a shield action: the metric, and a log line sampled to one per rule and action per
 * second. Used by the phase and the challenge endpoint alike.
 */
import type { RequestContext } from '../pipeline/context.js';

export function countAction(ctx: RequestContext, rule: string, action: string, detail?: string): void {
  ctx.edge.metrics.shieldActions.inc({ rule, action });
  const now = Date.now();
  // Sampled: one log line per rule and action per second at most.
  const k = `${rule}/${action}`;
  if ((lastLogged.get(k) ?? 0) + 1000 > now) return;
  lastLogged.set(k, now);
  ctx.edge.log.info({ type: 'shield', rule, action, detail, client: ctx.clientIp, host: ctx.host, path: ctx.path, requestId: ctx.id }, `shield: ${action} by ${rule}${detail ? ` (${detail})` : ''}`);
}

const lastLogged = new Map<string, number>();
