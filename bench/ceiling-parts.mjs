// What each part of the hot path costs in Node, bare: the server side (node:http, or a raw
// net.Socket server that frames requests by hand) and the upstream client (undici's dispatch, as
// Outpost uses it, or a raw keep-alive net.Socket client with a hand-made request head and
// Content-Length framing). No pipeline, no cache, no log: an upper bound of what a lean part could
// buy, so the next lever is chosen from numbers (bench/README.md). Measured like bench/ab-cpu.sh:
// 2 processes (node:cluster), wrk -t1 -c64 after a warm-up, CPU of the server processes from
// /proc per request (the origin, a separate node:http process, is not counted).
//   node bench/ceiling-parts.mjs MODE [seconds=10] [port=18280]
//   MODE: hit-http | hit-net | proxy-http-undici | proxy-http-net | proxy-net-net
// The raw parts are not production code: no chunked bodies, no validation, no limits.
import cluster from 'node:cluster';
import { execFile, fork } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import net from 'node:net';

const [mode = 'hit-http', secondsArg = '10', portArg = '18280'] = process.argv.slice(2);
const seconds = Number(secondsArg);
const port = Number(portArg);
const originPort = port + 1;
const body = Buffer.alloc(1024, 'a');
const HIT_FIELDS = [
  'content-type',
  'text/plain',
  'cache-control',
  'public, max-age=3600',
  'vary',
  'Accept-Encoding',
  'age',
  '1',
  'cache-status',
  'outpost; hit; ttl=3599',
  'x-request-id',
  '0b9c6f3e-6a43-4d0e-9c57-1f0e5c0c2f55',
  'via',
  '1.1 bench',
];

if (mode === 'origin') {
  http
    .createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
      res.end(body);
    })
    .listen(originPort, '127.0.0.1', () => process.send?.('ready'));
} else if (cluster.isPrimary) {
  let origin;
  if (mode.startsWith('proxy')) {
    origin = fork(fileURLToPath(import.meta.url), ['origin', '0', String(port)]);
    await new Promise((r) => origin.once('message', r));
  }
  for (let i = 0; i < 2; i++) cluster.fork();
  await new Promise((r) => setTimeout(r, 1000));
  const cpu = () => {
    let ticks = 0;
    for (const pid of [process.pid, ...Object.values(cluster.workers).map((w) => w.process.pid)]) {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    }
    return ticks;
  };
  const wrk = promisify(execFile);
  await wrk('wrk', ['-t1', '-c64', '-d2s', `http://127.0.0.1:${port}/1k`]);
  const t0 = cpu();
  const { stdout: out } = await wrk('wrk', ['-t1', '-c64', `-d${seconds}s`, `http://127.0.0.1:${port}/1k`]);
  const t1 = cpu();
  const n = Number(/(\d+) requests in/.exec(out)[1]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
  console.log(`${mode}: ${n} requests (${non2xx} not 2xx), ${/Requests\/sec:\s+([\d.]+)/.exec(out)[1]} req/s, CPU ${(((t1 - t0) * 10_000) / n).toFixed(1)} us/req`);
  for (const w of Object.values(cluster.workers)) w.kill();
  origin?.kill();
} else {
  const [, server, clientKind] = mode.split('-');
  const upstream = clientKind ? await upstreamClient(clientKind) : undefined;
  if (server === 'http') {
    http
      .createServer((req, res) => {
        if (!upstream) {
          res.writeHead(200, [...HIT_FIELDS, 'content-length', '1024']);
          res.end(body);
          return;
        }
        upstream(req.method, req.url, req.headers.host, (status, length, chunk) => {
          res.writeHead(status, ['content-type', 'text/plain', 'via', '1.1 bench', 'content-length', String(length)]);
          res.end(chunk);
        });
      })
      .listen(port, '127.0.0.1');
  } else {
    const hitHead = Buffer.from(`HTTP/1.1 200 OK\r\n${pairs(HIT_FIELDS)}content-length: 1024\r\n`);
    net
      .createServer({ noDelay: true }, (socket) => {
        let pending = '';
        socket.setEncoding('latin1');
        socket.on('data', (data) => {
          pending += data;
          for (;;) {
            const end = pending.indexOf('\r\n\r\n');
            if (end < 0) return;
            const head = pending.slice(0, end);
            pending = pending.slice(end + 4);
            const sp = head.indexOf(' ');
            const method = head.slice(0, sp);
            const url = head.slice(sp + 1, head.indexOf(' ', sp + 1));
            if (!upstream) {
              socket.cork();
              socket.write(hitHead);
              socket.write(`date: ${new Date().toUTCString()}\r\n\r\n`, 'latin1');
              socket.write(body);
              socket.uncork();
              continue;
            }
            upstream(method, url, '127.0.0.1', (status, length, chunk) => {
              socket.cork();
              socket.write(`HTTP/1.1 ${status} OK\r\ncontent-type: text/plain\r\nvia: 1.1 bench\r\ndate: ${new Date().toUTCString()}\r\ncontent-length: ${length}\r\n\r\n`, 'latin1');
              socket.write(chunk);
              socket.uncork();
            });
          }
        });
        socket.on('error', () => socket.destroy());
      })
      .listen(port, '127.0.0.1');
  }
}

function pairs(fields) {
  let s = '';
  for (let i = 0; i < fields.length; i += 2) s += `${fields[i]}: ${fields[i + 1]}\r\n`;
  return s;
}

/** (method, path, host, done(status, length, body)) over undici's dispatch or a raw keep-alive socket pool. */
async function upstreamClient(kind) {
  if (kind === 'undici') {
    const { Pool } = await import('undici');
    const pool = new Pool(`http://127.0.0.1:${originPort}`, { connections: 64, pipelining: 1 });
    return (method, path, host, done) => {
      let status = 0;
      const chunks = [];
      pool.dispatch(
        { origin: `http://127.0.0.1:${originPort}`, path, method, headers: ['host', host, 'via', '1.1 bench', 'x-forwarded-for', '127.0.0.1'] },
        {
          onConnect() {},
          onHeaders(s) {
            status = s;
            return true;
          },
          onData(c) {
            chunks.push(c);
            return true;
          },
          onComplete() {
            const b = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
            done(status, b.length, b);
          },
          onError() {
            done(502, 0, Buffer.alloc(0));
          },
        },
      );
    };
  }
  const idle = [];
  return (method, path, host, done) => {
    const socket = idle.pop() ?? connect();
    socket.current = done;
    socket.write(`${method} ${path} HTTP/1.1\r\nhost: ${host}\r\nvia: 1.1 bench\r\nx-forwarded-for: 127.0.0.1\r\n\r\n`, 'latin1');
  };
  function connect() {
    const s = net.connect({ port: originPort, host: '127.0.0.1', noDelay: true });
    let buf = Buffer.alloc(0);
    s.on('data', (data) => {
      buf = buf.length ? Buffer.concat([buf, data]) : data;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end);
      const length = Number(/content-length: *(\d+)/i.exec(head)[1]);
      if (buf.length < end + 4 + length) return;
      const chunk = buf.subarray(end + 4, end + 4 + length);
      buf = buf.subarray(end + 4 + length);
      const done = s.current;
      s.current = undefined;
      idle.push(s);
      done(Number(head.slice(9, 12)), length, chunk);
    });
    s.on('error', () => s.destroy());
    return s;
  }
}
