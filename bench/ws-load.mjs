#!/usr/bin/env node
// WebSocket ping-pong load: C clients each send a 128-byte message, wait for its echo, and
// send the next one. After a warm-up, measures R windows of D seconds each: messages/s
// (echoes received per second over all clients) and round-trip p50/p99 in ms; the median
// window (by messages/s) is reported, as one JSON line on stdout or appended to --out.
//   node bench/ws-load.mjs --url ws://127.0.0.1:18002/ws [--setup NAME] [--clients 100]
//     [--seconds 10] [--reps 3] [--size 128] [--warmup 1] [--pid PID ...] [--out FILE]
// With --pid, also reports the CPU time of those process trees per message (µs/msg).
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { treeCpuSeconds, percentile } from './lib/proc.mjs';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    setup: { type: 'string', default: '' },
    out: { type: 'string' },
    reps: { type: 'string', default: process.env.BENCH_REPS ?? '3' },
    clients: { type: 'string', default: '100' },
    seconds: { type: 'string', default: process.env.BENCH_DURATION ?? '10' },
    size: { type: 'string', default: '128' },
    warmup: { type: 'string', default: '1' },
    pid: { type: 'string', multiple: true, default: [] },
  },
});
const nClients = Number(opt.clients);
const payload = Buffer.alloc(Number(opt.size), 'x');
const pids = opt.pid.map(Number);

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const sockets = await Promise.all(Array.from({ length: nClients }, () => open(opt.url)));

let measuring = false;
let stopped = false;
let count = 0;
let errors = 0;
const rtts = []; // ms, only while measuring

for (const ws of sockets) {
  let sentAt = 0;
  const send = () => {
    sentAt = performance.now();
    ws.send(payload);
  };
  ws.on('message', (data) => {
    const rtt = performance.now() - sentAt;
    if (data.length !== payload.length) errors++;
    if (measuring) {
      count++;
      rtts.push(rtt);
    }
    if (!stopped) send();
  });
  ws.on('error', () => errors++);
  ws.on('close', () => {
    if (!stopped) errors++;
  });
  send();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
await sleep(Number(opt.warmup) * 1000);

const runs = [];
for (let rep = 0; rep < Number(opt.reps); rep++) {
  count = 0;
  rtts.length = 0;
  const errors0 = errors;
  const cpu0 = treeCpuSeconds(pids);
  const t0 = performance.now();
  measuring = true;
  await sleep(Number(opt.seconds) * 1000);
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu1 = treeCpuSeconds(pids);
  rtts.sort((a, b) => a - b);
  const run = {
    seconds: elapsed,
    messages: count,
    msg_per_s: count / elapsed,
    p50_ms: percentile(rtts, 50),
    p99_ms: percentile(rtts, 99),
    cpu_us_per_msg: pids.length && count ? ((cpu1 - cpu0) * 1e6) / count : null,
    errors: errors - errors0,
  };
  runs.push(run);
  console.error(
    `  ws ${opt.setup} run ${rep + 1}/${opt.reps}: ${run.msg_per_s.toFixed(0)} msg/s, ` +
      `p50 ${run.p50_ms.toFixed(2)} ms, p99 ${run.p99_ms.toFixed(2)} ms` +
      (run.cpu_us_per_msg != null ? `, ${run.cpu_us_per_msg.toFixed(1)} CPU µs/msg` : '') +
      (run.errors ? `, ${run.errors} errors` : ''),
  );
}
stopped = true;

const sorted = [...runs].sort((a, b) => a.msg_per_s - b.msg_per_s);
const result = {
  kind: 'ws',
  setup: opt.setup,
  url: opt.url,
  clients: nClients,
  size: payload.length,
  median: sorted[Math.floor((sorted.length - 1) / 2)],
  runs,
};
if (opt.out) appendFileSync(opt.out, `${JSON.stringify(result)}\n`);
else console.log(JSON.stringify(result));
for (const ws of sockets) ws.terminate();
process.exit(0);
