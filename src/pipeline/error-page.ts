/**
 * The edge's own error responses (400, 502, 504, …): small, with the PoP and the request id so
 * a user's report can be found in the logs; HTML for browsers, JSON for everything else. The
 * public message only: the private cause stays in the log.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { RequestContext } from './context.js';
import type { EdgeError } from './errors.js';
import { endAndLinger } from './linger.js';

export function errorBody(err: EdgeError, pop: string, requestId: string, accept: string | undefined): { type: string; body: string } {
  const title = `${err.status} ${STATUS_CODES[err.status] ?? 'Error'}`;
  if (accept?.includes('text/html')) {
    const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    return {
      type: 'text/html; charset=utf-8',
      body:
        `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>` +
        `<style>body{font:16px system-ui,sans-serif;margin:4rem auto;max-width:36rem;color:#222}small{color:#777}</style></head>` +
        `<body><h1>${esc(title)}</h1><p>${esc(err.publicMessage)}</p>` +
        `<p><small>Outpost PoP <b>${esc(pop)}</b> · request ${esc(requestId)} · ${esc(err.code)}</small></p></body></html>\n`,
    };
  }
  return {
    type: 'application/json',
    body: `${JSON.stringify({ error: { status: err.status, code: err.code, message: err.publicMessage, pop, requestId } })}\n`,
  };
}

/**
 * Answers `ctx` with `err`. If the response has already started, the only honest thing left is
 * to cut it: the client sees a truncated body, never a hang.
 */
export function sendError(ctx: RequestContext, err: EdgeError): void {
  ctx.error ??= err;
  const pop = ctx.snapshot.config.pop.id;
  const { type, body } = errorBody(err, pop, ctx.id, headerOf(ctx.req.headers.accept));
  const headers: [string, string][] = [
    ['Content-Type', type],
    ['Cache-Control', 'no-store'],
    ['X-Request-Id', ctx.id],
  ];
  sendSimple(ctx, err.status, headers, body);
}

/**
 * Answers `ctx` with a small whole response made by the edge (errors, redirects, the shield's
 * refusals): on the response object, or for a WebSocket upgrade on the raw socket (then the
 * connection closes). Content-Length is added. A response already started is cut instead.
 */
export function sendSimple(ctx: RequestContext, status: number, headers: readonly [string, string][], body: string): void {
  const length = Buffer.byteLength(body);
  if (ctx.res) {
    const res = ctx.res as ServerResponse;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    ctx.status = status;
    ctx.bytesOut += length;
    res.writeHead(status, [...headers.flat(), 'Content-Length', String(length)] as unknown as Record<string, string>);
    if (ctx.req.method === 'HEAD') res.end();
    else res.end(body);
    return;
  }
  const socket = ctx.socket!;
  if (socket.destroyed) return;
  ctx.status = status;
  ctx.bytesOut += length;
  const head = headers.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  endAndLinger(socket, `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${head}Content-Length: ${length}\r\nConnection: close\r\n\r\n${body}`);
}

function headerOf(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}
