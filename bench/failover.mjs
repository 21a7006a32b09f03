#!/usr/bin/env node
// Failover under load, one proxy per run: two origins (a, b) behind the proxy, ~RATE req/s of
// GETs (open loop: a stall shows as failures and latency, not as a slower client) plus WS
// WebSockets; origin a is SIGKILLed at KILL_AT s and restarted at RESTART_AT s. Prints one JSON
// line: failed requests, time until a got no more traffic, time until it got traffic again,
// WebSockets that were on a and how fast they reconnected.
//   node bench/failover.mjs --name outpost --url http://127.0.0.1:28080 [--rate 2000] [--ws 1000]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import WebSocket from 'ws';

const { values: opt } = parseArgs({
  options: {
    name: { type: 'string' },
    url: { type: 'string' },
    rate: { type: 'string', default: '2000' },
    ws: { type: 'string', default: '1000' },
    'kill-at': { type: 'string', default: '5' },
    'restart-at': { type: 'string', default: '15' },
    duration: { type: 'string', default: '25' },
    'port-a': { type: 'string', default: '28001' },
    'port-b': { type: 'string', default: '28002' },
    'start-origins': { type: 'boolean', default: false },
  },
});
const originMain = fileURLToPath(new URL('../dist/demo/origin-main.js', import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** An origin process; resolves when it listens. */
function startOrigin(name, port) {
  return new Promise((resolve, reject) => {
    const child = fork(originMain, [name, 'eu-west', String(port)], { stdio: 'ignore' });
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`origin ${name} exited ${code}`)));
  });
}

const rate = Number(opt.rate);
const killAt = Number(opt['kill-at']) * 1000;
const restartAt = Number(opt['restart-at']) * 1000;
const duration = Number(opt.duration) * 1000;
const url = new URL(opt.url);

let a = await startOrigin('a', Number(opt['port-a']));
const b = await startOrigin('b', Number(opt['port-b']));
await sleep(3000); // let the proxy's health checks see both up

const pool = new Pool(url.origin, { connections: 256, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
const t0 = performance.now();
const now = () => performance.now() - t0;
const requests = []; // [sentAt, latency, ok, origin]
const failures = new Map(); // what failed requests saw, for the report

function send() {
  const sentAt = now();
  pool.request({ path: '/api/info', method: 'GET' }).then(
    async (r) => {
      const text = await r.body.text();
      let origin;
      try { origin = JSON.parse(text).origin; } catch { /* not JSON: an error page */ }
      requests.push([sentAt, now() - sentAt, r.statusCode === 200, origin]);
      if (r.statusCode !== 200) failures.set(`${r.statusCode} ${text.slice(0, 60)}`, (failures.get(`${r.statusCode} ${text.slice(0, 60)}`) ?? 0) + 1);
    },
    (err) => { requests.push([sentAt, now() - sentAt, false, undefined]); failures.set(err.code ?? err.message, (failures.get(err.code ?? err.message) ?? 0) + 1); },
  );
}

// Open loop: every 5 ms, the requests due by now.
let sent = 0;
const loadTimer = setInterval(() => {
  const due = Math.floor((now() / 1000) * rate);
  while (sent < due && now() < duration) { send(); sent++; }
}, 5);

// WebSockets that reconnect at once when closed, recording the time it took.
const wsTotal = Number(opt.ws);
const sockets = [];
const reconnects = []; // ms from close to the new socket's hello
let wsOnAAtKill = 0;
function openWs(i, closedAt) {
  const ws = new WebSocket(`ws://${url.host}/ws`);
  const s = { ws, origin: undefined };
  sockets[i] = s;
  ws.once('message', (m) => {
    try { s.origin = JSON.parse(String(m)).hello; } catch { /* ignore */ }
    if (closedAt !== undefined) reconnects.push(now() - closedAt);
  });
  ws.once('close', () => { if (now() < duration) setTimeout(() => openWs(i, closedAt ?? now()), 0); });
  ws.once('error', () => {});
  // A socket closed because its origin died reconnects with the close time kept, until it lands.
  ws.once('close', () => { s.closed = true; });
}
for (let i = 0; i < wsTotal; i++) { openWs(i); if (i % 50 === 49) await sleep(10); }
await sleep(Math.max(0, killAt - now()));

wsOnAAtKill = sockets.filter((s) => s.origin === 'a').length;
const killTime = now();
a.kill('SIGKILL');
await sleep(Math.max(0, restartAt - now()));
const restartTime = now();
a = await startOrigin('a', Number(opt['port-a']));
await sleep(Math.max(0, duration - now()));
clearInterval(loadTimer);
await sleep(2000); // let the last answers in
for (const s of sockets) s.ws.terminate();
await pool.close();
a.kill();
b.kill();

const inWindow = requests.filter(([t]) => t >= killTime && t < restartTime);
const lastToA = Math.max(...requests.filter(([t, , ok, o]) => ok && o === 'a' && t >= killTime && t < restartTime).map(([t]) => t), killTime);
const firstBack = requests.filter(([t, , ok, o]) => ok && o === 'a' && t >= restartTime).map(([t]) => t).sort((x, y) => x - y)[0];
const pct = (list, p) => { const s = [...list].sort((x, y) => x - y); return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : undefined; };
const round = (x) => (x === undefined ? undefined : Math.round(x));
console.log(JSON.stringify({
  kind: 'failover',
  name: opt.name,
  sent: requests.length,
  failed: requests.filter(([, , ok]) => !ok).length,
  failedInWindow: inWindow.filter(([, , ok]) => !ok).length,
  msUntilAUnused: round(lastToA - killTime),
  msUntilAUsedAgain: firstBack === undefined ? null : round(firstBack - restartTime),
  wsOnA: wsOnAAtKill,
  wsReconnected: reconnects.length,
  reconnectP50: round(pct(reconnects, 50)),
  reconnectP99: round(pct(reconnects, 99)),
  p99InWindow: round(pct(inWindow.map(([, l]) => l), 99)),
  p99: round(pct(requests.map(([, l]) => l), 99)),
  failures: Object.fromEntries(failures),
}));
process.exit(0);
