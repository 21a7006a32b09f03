#!/usr/bin/env node
// The origin of the attack bench: an application that can serve --budget requests per second and
// no more, and counts what reaches it, second by second.
//
//   node bench/attack/origin.mjs --port 27001 --budget 500 [--queue-ms 500] [--max-conns 4096] [--stats-file F]
//
// Capacity is modelled as one server with a fixed service time of 1000/budget ms and a queue
// (M/D/1 without the CPU: the time is spent in timers, so the origin does not take the cores the
// edge and the load generators need). A request that would wait longer than --queue-ms for its
// turn is shed at once with 503, as an overloaded application behind a bounded queue does.
// --budget 0: no limit (every request answered at once; the idle-cost runs). At most --max-conns
// connections are open at once (Node's server.maxConnections: more are closed as they come), as
// any server has some such limit; without one, an edge with an unlimited upstream pool under a
// flood opens connections until this process runs out of descriptors and answers nothing.
//
//   GET /api/*    JSON, Cache-Control: no-store (the edge config also bypasses its cache)
//   GET /         an HTML page, no-store
//   GET /healthz  200 ok (not counted)
//   GET /__stats  {"budget", "seconds": {"<epoch s>": [received, served, shed]}} for the last 10 min
//                 (not counted); the same JSON goes to --stats-file every second and at exit, which
//                 the bench reads (it can be read however busy the origin is)
import { renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    budget: { type: 'string', default: '500' },
    'queue-ms': { type: 'string', default: '500' },
    'max-conns': { type: 'string', default: '4096' },
    'stats-file': { type: 'string' },
  },
});

const budget = Number(opt.budget);
const serviceMs = budget > 0 ? 1000 / budget : 0;
const queueMs = Number(opt['queue-ms']);
const KEEP_SECONDS = 600;

/** epoch second → [received, served, shed] */
const seconds = new Map();
function tally(index) {
  const s = Math.floor(Date.now() / 1000);
  let row = seconds.get(s);
  if (!row) {
    row = [0, 0, 0];
    seconds.set(s, row);
    seconds.delete(s - KEEP_SECONDS);
  }
  row[index]++;
}

/** When the single server is next free (ms, performance.now() clock). */
let nextFree = 0;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>attack bench origin</title></head>
<body><h1>Attack bench origin</h1><p>A page behind the edge; the API is under /api/.</p></body></html>
`;

function answer(req, res, path) {
  if (path.startsWith('/api/')) {
    const body = JSON.stringify({ ok: true, path, at: Date.now() });
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } else {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(PAGE) });
    res.end(req.method === 'HEAD' ? undefined : PAGE);
  }
}

const stats = () => JSON.stringify({ budget, queueMs, seconds: Object.fromEntries(seconds) });
function writeStats() {
  if (!opt['stats-file']) return;
  // Written aside and renamed, so a reader never sees half a file.
  writeFileSync(`${opt['stats-file']}.tmp`, stats());
  renameSync(`${opt['stats-file']}.tmp`, opt['stats-file']);
}
setInterval(writeStats, 1000).unref();

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  if (path === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(stats());
    return;
  }
  if (!(path === '/' || path.startsWith('/api/')) || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  tally(0);
  if (serviceMs === 0) {
    tally(1);
    answer(req, res, path);
    return;
  }
  const now = performance.now();
  const start = Math.max(now, nextFree);
  if (start - now > queueMs) {
    tally(2);
    res.writeHead(503, { 'content-type': 'text/plain', 'cache-control': 'no-store', 'retry-after': '1' }).end('origin overloaded\n');
    return;
  }
  nextFree = start + serviceMs;
  // Answered when its service ends; a client that left meanwhile still used its slot.
  setTimeout(() => {
    tally(1);
    if (!res.destroyed) answer(req, res, path);
  }, nextFree - now);
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.maxRequestsPerSocket = 0;
server.maxConnections = Number(opt['max-conns']);
server.on('clientError', (_err, socket) => socket.destroy());
server.listen(Number(opt.port), opt.host, () => {
  console.error(
    `attack origin on ${opt.host}:${opt.port}, budget ${budget > 0 ? `${budget} req/s (${serviceMs.toFixed(3)} ms each, queue ≤ ${queueMs} ms)` : 'unlimited'}, ≤ ${server.maxConnections} connections`,
  );
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    writeStats();
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
