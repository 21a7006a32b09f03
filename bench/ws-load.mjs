#!/usr/bin/env node
// WebSocket ping-pong load: C clients each send a 128-byte message, wait for its echo, and
// send the next one, for D seconds. Prints one JSON line: messages/s (echoes received per
// second over all clients) and round-trip p50/p99 in ms.
//   node bench/ws-load.mjs --url ws://127.0.0.1:18002/ws [--clients 100] [--seconds 10]
//     [--size 128] [--warmup 1] [--pid PID ...]
// With --pid, also reports the CPU time of those process trees per message (µs/msg).
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { treeCpuSeconds, percentile } from './lib/proc.mjs';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
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

await new Promise((r) => setTimeout(r, Number(opt.warmup) * 1000));
const cpu0 = treeCpuSeconds(pids);
const t0 = performance.now();
measuring = true;
await new Promise((r) => setTimeout(r, Number(opt.seconds) * 1000));
measuring = false;
const elapsed = (performance.now() - t0) / 1000;
const cpu1 = treeCpuSeconds(pids);
stopped = true;

rtts.sort((a, b) => a - b);
const result = {
  clients: nClients,
  size: payload.length,
  seconds: elapsed,
  messages: count,
  msg_per_s: count / elapsed,
  p50_ms: percentile(rtts, 50),
  p99_ms: percentile(rtts, 99),
  cpu_us_per_msg: pids.length && count ? ((cpu1 - cpu0) * 1e6) / count : null,
  errors,
};
console.log(JSON.stringify(result));
for (const ws of sockets) ws.terminate();
process.exit(0);
