#!/usr/bin/env node
// Coalescing check for bench/cache.sh: how many requests reach the origin when many clients ask
// a proxy at once for an object that has just expired.
//
//   node bench/cache-coalesce.mjs --setup nginx --proxy http://127.0.0.1:18311 \
//     --origin http://127.0.0.1:18301 --path /coalesce/nginx-1 [--total 1000] [--procs 4] \
//     [--max-age 1] [--out results.jsonl]
//
// 1. warm: the path is fetched through the proxy on --warm (4) new connections, one after the
//    other (so every worker of a multi-process proxy has seen it), and once more to see it hit;
// 2. --procs child processes open --total keep-alive connections to the proxy between them
//    (undici Clients, one request each, `GET /ping`, no-store) and wait;
// 3. once the object is past its max-age (max-age + 1.5 s after the warm-up's last fill), the
//    origin's count for the path is read, every child sends its requests at the same moment, and
//    after all answers and a settle time of 1 s the count is read again.
// Prints (and appends to --out) one JSON line: origin requests during the burst, statuses,
// errors, and latency p50/p99/max from the go signal.
import { fork } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, request } from 'undici';

const { values: opt } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    setup: { type: 'string', default: '' },
    proxy: { type: 'string' },
    origin: { type: 'string' },
    path: { type: 'string' },
    total: { type: 'string', default: '1000' },
    procs: { type: 'string', default: '4' },
    warm: { type: 'string', default: '4' },
    'max-age': { type: 'string', default: '1' },
    conns: { type: 'string', default: '0' },
    out: { type: 'string' },
  },
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- child: one share of the clients
if (opt.child) {
  const n = Number(opt.conns);
  const clients = Array.from({ length: n }, () => new Client(opt.proxy, { pipelining: 1, keepAliveTimeout: 120_000, headersTimeout: 30_000, bodyTimeout: 30_000 }));
  const pinged = await Promise.allSettled(
    clients.map(async (c) => {
      const r = await c.request({ path: '/ping', method: 'GET' });
      await r.body.dump();
    }),
  );
  const pingErrors = pinged.filter((p) => p.status === 'rejected').length;
  process.send({ ready: true, pingErrors });
  process.once('message', async () => {
    const t0 = performance.now(); // latency from the go signal's arrival in this process
    const results = await Promise.allSettled(
      clients.map(async (c) => {
        const r = await c.request({ path: opt.path, method: 'GET' });
        const body = await r.body.arrayBuffer();
        return { status: r.statusCode, bytes: body.byteLength, ms: performance.now() - t0 };
      }),
    );
    const out = { statuses: {}, errors: {}, latencies: [] };
    for (const r of results) {
      if (r.status === 'fulfilled') {
        out.statuses[r.value.status] = (out.statuses[r.value.status] ?? 0) + 1;
        out.latencies.push(r.value.ms);
      } else {
        const k = r.reason?.code ?? r.reason?.name ?? 'error';
        out.errors[k] = (out.errors[k] ?? 0) + 1;
      }
    }
    process.send(out, () => {
      Promise.allSettled(clients.map((c) => c.close())).then(() => process.exit(0));
    });
  });
} else {
  // ---------------------------------------------------------------- parent
  const total = Number(opt.total);
  const procs = Math.max(1, Math.min(Number(opt.procs), total));
  const maxAge = Number(opt['max-age']);
  const count = async () => {
    const r = await request(`${opt.origin}/__count${opt.path}`);
    return (await r.body.json()).count;
  };

  // 1. warm on fresh connections (each its own Client, closed after)
  for (let i = 0; i < Number(opt.warm); i++) {
    const c = new Client(opt.proxy);
    const r = await c.request({ path: opt.path, method: 'GET', headers: { connection: 'close' } });
    await r.body.dump();
    if (r.statusCode !== 200) throw new Error(`warm-up: ${opt.proxy}${opt.path} answered ${r.statusCode}`);
    await c.close();
  }
  const filledAt = Date.now();
  const afterWarm = await count();

  // 2. children open their connections
  const children = [];
  for (let i = 0; i < procs; i++) {
    const conns = Math.floor(total / procs) + (i < total % procs ? 1 : 0);
    const child = fork(fileURLToPath(import.meta.url), ['--child', '--proxy', opt.proxy, '--path', opt.path, '--conns', String(conns)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
  }
  const ready = await Promise.all(
    children.map(
      (c) =>
        new Promise((resolve, reject) => {
          c.once('message', resolve);
          c.once('exit', (code) => reject(new Error(`client process exited (${code}) before it was ready`)));
        }),
    ),
  );
  const pingErrors = ready.reduce((a, r) => a + r.pingErrors, 0);

  // 3. wait for expiry, burst, count
  const expireAt = filledAt + maxAge * 1000 + 1500;
  if (Date.now() < expireAt) await sleep(expireAt - Date.now());
  const before = await count();
  const go = Date.now();
  const answers = children.map((c) => new Promise((resolve) => c.once('message', resolve)));
  for (const c of children) c.send({ go });
  const parts = await Promise.all(answers);
  await sleep(1000);
  const after = await count();

  const statuses = {};
  const errors = {};
  const lat = [];
  for (const p of parts) {
    for (const [k, v] of Object.entries(p.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    for (const [k, v] of Object.entries(p.errors)) errors[k] = (errors[k] ?? 0) + v;
    lat.push(...p.latencies);
  }
  lat.sort((a, b) => a - b);
  const pct = (q) => (lat.length ? lat[Math.min(lat.length - 1, Math.ceil((q / 100) * lat.length) - 1)] : NaN);
  const result = {
    kind: 'coalesce',
    setup: opt.setup,
    path: opt.path,
    total,
    procs,
    origin_after_warm: afterWarm,
    origin_requests: after - before,
    statuses,
    errors,
    ping_errors: pingErrors,
    p50_ms: pct(50),
    p99_ms: pct(99),
    max_ms: lat.at(-1) ?? NaN,
  };
  const line = JSON.stringify(result);
  console.log(line);
  if (opt.out) appendFileSync(opt.out, `${line}\n`);
}
