/**
 * A small demo origin for `outpost demo` (two of them play two regions) and for tests. It shows
 * what reached it through the edge: which origin and region answered, and the request headers
 * the edge added (X-Forwarded-For, Via, x-request-id …).
 *
 *   GET /          HTML page: origin, region, request headers, a WebSocket echo box
 *   GET /api/info  JSON { origin, region, headers }
 *   GET /healthz   200 "ok", for health monitors
 *   POST /echo     the request body streamed back (piped, not buffered), same content-type
 *   WS  /ws        sends {"hello": name, "region": region}, then echoes every message
 *
 * Every response carries `x-demo-origin: <name>` so `curl -i` shows who answered.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { WebSocketServer } from 'ws';

export interface DemoOriginOptions {
  name: string;
  region: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** 127.0.0.1 by default. */
  host?: string;
}

export interface DemoOrigin {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  /** Stops listening, terminates WebSocket clients and drops every open connection. */
  close(): Promise<void>;
}

/** Starts a demo origin; resolves once it is listening. */
export async function startDemoOrigin(opts: DemoOriginOptions): Promise<DemoOrigin> {
  const { name, region } = opts;
  const host = opts.host ?? '127.0.0.1';
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws) => {
    // A client vanishing mid-message is normal for a demo; never let it throw.
    ws.on('error', () => ws.terminate());
    ws.send(JSON.stringify({ hello: name, region }));
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });

  const server = http.createServer((req, res) => handle(req, res, name, region));
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  server.listen(opts.port ?? 0, host);
  await once(server, 'listening');

  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // server.close() alone waits for keep-alive and streaming connections to finish.
      server.closeAllConnections();
      await closed;
    },
  };
}

function handle(req: http.IncomingMessage, res: http.ServerResponse, name: string, region: string): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const read = req.method === 'GET' || req.method === 'HEAD';
  res.setHeader('x-demo-origin', name);
  if (path === '/healthz' && read) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok');
  } else if (path === '/api/info' && read) {
    // no-store: the body mirrors this request's headers, so a cached copy would mislead.
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ origin: name, region, headers: req.headers }));
  } else if (path === '/' && read) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(page(name, region, req.rawHeaders));
  } else if (path === '/static/app.css' && read) {
    // No Cache-Control of its own: the edge's page rule for /static/* gives it an edge TTL.
    res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', etag: '"app-css-1"', 'cache-tag': 'static,css' });
    res.end(APP_CSS);
  } else if (path === '/echo' && req.method === 'POST') {
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' });
    // Piped so a test can see the first bytes come back before it finishes sending.
    pipeline(req, res, () => {});
  } else {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found');
  }
}

const APP_CSS = 'body { font-family: system-ui, sans-serif; }\nh1 { color: #0b5; }\n';

/** Headers the edge adds or rewrites; highlighted on the page so they stand out. */
const EDGE_HEADERS = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'via', 'x-request-id']);

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The HTML page; `rawHeaders` keeps the order and case the headers arrived in. */
function page(name: string, region: string, rawHeaders: string[]): string {
  const rows: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const edge = EDGE_HEADERS.has(rawHeaders[i].toLowerCase()) ? ' class="edge"' : '';
    rows.push(`<tr${edge}><th>${escapeHtml(rawHeaders[i])}</th><td>${escapeHtml(rawHeaders[i + 1])}</td></tr>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(name)} (${escapeHtml(region)})</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid #ddd; font-family: ui-monospace, monospace; font-size: 13px; word-break: break-all; }
tr.edge { background: #fff4cc; } #log { background: #f5f5f5; padding: .5rem; min-height: 4rem; font-family: ui-monospace, monospace; font-size: 13px; white-space: pre-wrap; }
</style></head><body>
<h1>Answered by <code>${escapeHtml(name)}</code> in region <code>${escapeHtml(region)}</code></h1>
<h2>Request headers this origin received</h2>
<p>Highlighted rows are the ones an edge adds: X-Forwarded-For, Via, x-request-id …</p>
<table>${rows.join('\n')}</table>
<h2>WebSocket echo</h2>
<form id="f"><input id="msg" value="hello" autocomplete="off"> <button>Send</button></form>
<div id="log"></div>
<script>
const log = (line) => { document.getElementById('log').textContent += line + '\\n'; };
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
ws.onopen = () => log('connected');
ws.onmessage = (e) => {
  try { const m = JSON.parse(e.data); if (m.hello) { log('socket served by ' + m.hello + ' (' + m.region + ')'); return; } } catch {}
  log('echo: ' + e.data);
};
ws.onclose = (e) => log('closed ' + e.code + (e.reason ? ' ' + e.reason : ''));
document.getElementById('f').onsubmit = (e) => { e.preventDefault(); ws.send(document.getElementById('msg').value); };
</script>
</body></html>
`;
}
