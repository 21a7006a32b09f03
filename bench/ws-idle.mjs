#!/usr/bin/env node
// Idle WebSockets: open --total connections to --url from --procs client processes (the open-file
// limit is per process), each process binding its own loopback source address(es)
// (127.0.0.2, 127.0.0.3, ...) so ephemeral ports never run short. Measures the RSS of the
// process trees given by --pid (e.g. the Outpost primary, which includes its workers) before
// connecting and after all connections are open, then checks that every connection still echoes.
// Prints one JSON line (or appends it to --out).
//   node bench/ws-idle.mjs --url ws://127.0.0.1:18080/ws --total 10000 --procs 4 --pid 1234
import { fork } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { treeRssBytes, processTree } from './lib/proc.mjs';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    total: { type: 'string', default: '10000' },
    procs: { type: 'string', default: '4' },
    'addrs-per-proc': { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '64' },
    settle: { type: 'string', default: '3' },
    pid: { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
    child: { type: 'boolean', default: false },
    count: { type: 'string' },
    addr: { type: 'string', multiple: true, default: [] },
  },
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (opt.child) await child();
else await coordinator();

async function coordinator() {
  const total = Number(opt.total);
  const procs = Number(opt.procs);
  const perAddr = Number(opt['addrs-per-proc']);
  const pids = opt.pid.map(Number);

  await sleep(1000); // let the proxy settle after start
  const rssBefore = treeRssBytes(pids);
  const nProcs = processTree(pids[0] ?? process.pid).length;

  const self = fileURLToPath(import.meta.url);
  const kids = [];
  for (let i = 0; i < procs; i++) {
    const count = Math.floor(total / procs) + (i < total % procs ? 1 : 0);
    const addrs = [];
    for (let j = 0; j < perAddr; j++) addrs.push(`127.0.0.${2 + i * perAddr + j}`);
    const args = ['--child', '--url', opt.url, '--count', String(count), '--concurrency', opt.concurrency];
    for (const a of addrs) args.push('--addr', a);
    const kid = fork(self, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    kids.push(kid);
  }
  const ask = (kid, msg) =>
    new Promise((resolve, reject) => {
      kid.once('message', resolve);
      kid.once('exit', (code) => reject(new Error(`client process exited (${code})`)));
      if (msg) kid.send(msg);
    });

  const t0 = performance.now();
  const opened = await Promise.all(kids.map((k) => ask(k)));
  const openSeconds = (performance.now() - t0) / 1000;
  const open = opened.reduce((a, r) => a + r.open, 0);
  const failed = opened.reduce((a, r) => a + r.failed, 0);
  console.error(`  idle: ${open} open, ${failed} failed, in ${openSeconds.toFixed(1)} s; settling ${opt.settle} s`);

  await sleep(Number(opt.settle) * 1000);
  const rssAfter = treeRssBytes(pids);
  const stillOpen = (await Promise.all(kids.map((k) => ask(k, 'count')))).reduce((a, r) => a + r.open, 0);

  // Every connection must still reach the echo origin.
  const echoed = (await Promise.all(kids.map((k) => ask(k, 'echo')))).reduce((a, r) => a + r.echoed, 0);
  for (const k of kids) k.kill('SIGTERM');

  const growth = rssAfter - rssBefore;
  const result = {
    kind: 'idle',
    total,
    open,
    failed,
    still_open: stillOpen,
    echoed,
    open_seconds: openSeconds,
    processes: nProcs,
    rss_before_mb: rssBefore / 2 ** 20,
    rss_after_mb: rssAfter / 2 ** 20,
    rss_growth_mb: growth / 2 ** 20,
    kib_per_conn: open ? growth / 1024 / open : null,
  };
  if (opt.out) appendFileSync(opt.out, `${JSON.stringify(result)}\n`);
  else console.log(JSON.stringify(result));
  process.exit(0);
}

async function child() {
  const count = Number(opt.count);
  const addrs = opt.addr.length ? opt.addr : [undefined];
  const sockets = [];
  let failed = 0;
  let next = 0;

  const openOne = (i) =>
    new Promise((resolve) => {
      const ws = new WebSocket(opt.url, {
        perMessageDeflate: false,
        localAddress: addrs[i % addrs.length],
        handshakeTimeout: 30_000,
      });
      ws.once('open', () => {
        sockets.push(ws);
        resolve();
      });
      ws.once('error', (err) => {
        if (failed++ < 3) console.error(`  idle client: ${err.message}`);
        resolve();
      });
      ws.on('error', () => {});
    });
  const worker = async () => {
    while (next < count) await openOne(next++);
  };
  await Promise.all(Array.from({ length: Number(opt.concurrency) }, worker));

  const openCount = () => sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
  process.send({ open: openCount(), failed });

  process.on('message', async (msg) => {
    if (msg === 'count') process.send({ open: openCount() });
    if (msg === 'echo') {
      let echoed = 0;
      await Promise.all(
        sockets.map(
          (ws) =>
            new Promise((resolve) => {
              if (ws.readyState !== WebSocket.OPEN) return resolve();
              const timer = setTimeout(resolve, 10_000);
              ws.once('message', () => {
                echoed++;
                clearTimeout(timer);
                resolve();
              });
              ws.send('ping');
            }),
        ),
      );
      process.send({ echoed });
    }
  });
  process.on('SIGTERM', () => {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  });
}
