#!/usr/bin/env node
// Origin for bench/cache.sh: cacheable bodies, and a count of the requests it received per path
// (so the bench can tell a cache hit from a pass, and count a stampede).
//
//   node bench/cache-origin.mjs --port 18301 [--host 127.0.0.1] [--delay 200]
//
//   GET /1k, /100k        1 KiB / 100 KiB (random base64, fixed for the process), Cache-Control: public, max-age=3600
//   GET /coalesce/NAME    1 KiB, Cache-Control: public, max-age=1, answered after --delay ms
//                         (an origin that takes its time makes a stampede visible)
//   GET /ping             no-store, empty (to open client connections before a burst)
//   GET /__count/PATH     {"path": "/PATH", "count": N}: requests received for /PATH (not counted itself)
//   GET /__counts         every count
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    delay: { type: 'string', default: '200' },
  },
});
const delay = Number(opt.delay);
const body = (bytes) => Buffer.from(randomBytes((bytes * 3) / 4).toString('base64'));
const bodies = { '/1k': body(1024), '/100k': body(102400) };
const small = body(1024);
const counts = new Map();

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (path === '/__counts') {
    res.setHeader('content-type', 'application/json');
    res.setHeader('cache-control', 'no-store');
    res.end(JSON.stringify(Object.fromEntries(counts)));
    return;
  }
  if (path.startsWith('/__count/')) {
    const p = path.slice('/__count'.length);
    res.setHeader('content-type', 'application/json');
    res.setHeader('cache-control', 'no-store');
    res.end(JSON.stringify({ path: p, count: counts.get(p) ?? 0 }));
    return;
  }
  counts.set(path, (counts.get(path) ?? 0) + 1);
  req.resume();
  if (bodies[path]) {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': bodies[path].length,
      'cache-control': 'public, max-age=3600',
    });
    res.end(req.method === 'HEAD' ? undefined : bodies[path]);
  } else if (path.startsWith('/coalesce/')) {
    setTimeout(() => {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': small.length,
        'cache-control': 'public, max-age=1',
      });
      res.end(req.method === 'HEAD' ? undefined : small);
    }, delay);
  } else if (path === '/ping') {
    res.writeHead(200, { 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
  } else {
    res.writeHead(404, { 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
  }
});
server.keepAliveTimeout = 300_000;
server.headersTimeout = 310_000;
server.listen(Number(opt.port), opt.host, () => console.log(`cache origin on ${opt.host}:${opt.port}`));
process.on('SIGTERM', () => process.exit(0));
