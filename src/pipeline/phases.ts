/**
 * The phase list, in the order shared/DESIGN.md gives, written down in one place (STYLE habit 2).
 *
 *   ordinary request:  route → shield → redirect → cache → balance → upstream   (observe runs when the
 *                      response closes; the cache stores and labels the answer on its way back, in upstream)
 *   WebSocket upgrade: route → shield → redirect → balance → upstream (splice)  (observe runs when the tunnel closes)
 */
import { parseHost } from '../router/host-table.js';
import { proxyHttp } from '../upstream/http-proxy.js';
import { proxyWebSocket } from '../upstream/websocket.js';
import { balance } from './balance.js';
import { redirect } from './redirect.js';
import { portOf } from '../router/url-pattern.js';
import { shield } from '../shield/shield-phase.js';
import { cacheLookup } from '../cache/cache-phase.js';
import type { Phase } from './context.js';
import { sendError } from './error-page.js';
import { EdgeError } from './errors.js';

/**
 * Host → load balancer. Invalid Host, or more than one (RFC 9112 §3.2): 400; no balancer for
 * it: 421 (RFC 9110 §15.5.20).
 */
export const route: Phase = {
  name: 'route',
  run(ctx) {
    const h = ctx.req.headers;
    const authority = (h[':authority'] as string | undefined) ?? h.host;
    // Node keeps the first of two Host headers; a hop before or after us may read the other.
    const host = hostHeaders(ctx.req.rawHeaders) > 1 ? undefined : parseHost(authority);
    if (!host) {
      sendError(ctx, new EdgeError(400, 'bad_host', 'client', 'The request has no valid Host header.'));
      return true;
    }
    ctx.host = host;
    ctx.authority = authority!;
    const via = h.via;
    if (via && viaNames(via).includes(ctx.snapshot.config.pop.id)) {
      sendError(ctx, new EdgeError(508, 'loop_detected', 'client', 'This request has already passed through this edge.'));
      return true;
    }
    ctx.lb = ctx.snapshot.hosts.lookup(host);
    if (!ctx.lb) {
      sendError(ctx, new EdgeError(421, 'unknown_host', 'client', `This edge serves no site named ${host}.`));
      return true;
    }
    const m = ctx.snapshot.rules({ scheme: ctx.scheme, host, port: portOf(ctx.authority, ctx.scheme), path: ctx.path });
    if (m) {
      ctx.rule = m.rule;
      ctx.captures = m.captures;
    }
    return false;
  },
};

export const upstream: Phase = {
  name: 'upstream',
  run(ctx) {
    if (ctx.socket) proxyWebSocket(ctx);
    else proxyHttp(ctx);
    return true;
  },
};

export const requestPhases: readonly Phase[] = [route, shield, redirect, cacheLookup, balance, upstream];
export const upgradePhases: readonly Phase[] = [route, shield, redirect, balance, upstream];

function hostHeaders(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') n++;
  return n;
}

/** The PoP names in a Via header: `1.1 sin, 1.1 fra` → [sin, fra]. */
function viaNames(via: string | string[]): string[] {
  const text = Array.isArray(via) ? via.join(',') : via;
  return text.split(',').map((hop) => hop.trim().split(/\s+/)[1] ?? '');
}

/**
 * Walks `phases` until one answers. A phase that throws is an internal error: the client gets
 * 500 and the process goes on.
 */
export function runPhases(ctx: Parameters<Phase['run']>[0], phases: readonly Phase[]): void {
  let i = 0;
  const next = (): void => {
    try {
      while (i < phases.length) {
        const r = phases[i++].run(ctx);
        if (r === true) return;
        if (r !== false) {
          r.then((answered) => { if (!answered) next(); }, fail);
          return;
        }
      }
    } catch (err) {
      fail(err);
    }
  };
  const fail = (err: unknown): void => {
    ctx.edge.log.error({ err, requestId: ctx.id }, 'phase failed');
    sendError(ctx, err instanceof EdgeError ? err : new EdgeError(500, 'internal', 'internal', 'The edge failed to handle this request.', false, { cause: err }));
  };
  next();
}
