/**
 * The edge's own error responses (400, 502, 504, …): small, with the PoP and the request id so
 * a user's report can be found in the logs; HTML for browsers, JSON for everything else. The
 * public message only: the private cause stays in the log.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { RequestContext } from './context.js';
import type { EdgeError } from './errors.js';

export function errorBody(err: EdgeError, pop: string, requestId: string, accept: string | undefined): { type: string; body: string } {
  const title = `${err.status} ${STATUS_CODES[err.status] ?? 'Error'}`;
  if (accept && accept.includes('text/html')) {
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
    body: JSON.stringify({ error: { status: err.status, code: err.code, message: err.publicMessage, pop, requestId } }) + '\n',
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
  const length = Buffer.byteLength(body);
  if (ctx.res) {
    const res = ctx.res;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    ctx.status = err.status;
    ctx.bytesOut += length;
    (res as ServerResponse).writeHead(err.status, {
      'content-type': type,
      'content-length': length,
      'cache-control': 'no-store',
      'x-request-id': ctx.id,
    });
    if (ctx.req.method === 'HEAD') res.end();
    else (res as ServerResponse).end(body);
    return;
  }
  const socket = ctx.socket!;
  if (socket.destroyed) return;
  ctx.status = err.status;
  ctx.bytesOut += length;
  socket.end(
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n` +
      `Cache-Control: no-store\r\nX-Request-Id: ${ctx.id}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function headerOf(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}
