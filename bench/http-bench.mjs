#!/usr/bin/env node
// One HTTP measurement: run wrk against a URL BENCH_REPS times (after a short warm-up),
// record req/s, p50/p99 and the CPU time the server process tree used per request, keep the
// median run (by req/s), and append one JSON line to the results file.
//
//   node bench/http-bench.mjs --setup nginx --variant "2 workers" --payload 1k \
//     --url http://127.0.0.1:18101/1k --pid 1234 --out bench/.work/results.jsonl
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { treeCpuSeconds } from './lib/proc.mjs';

const { values: opt } = parseArgs({
  options: {
    setup: { type: 'string' },
    variant: { type: 'string', default: '' },
    payload: { type: 'string' },
    url: { type: 'string' },
    pid: { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
    reps: { type: 'string', default: process.env.BENCH_REPS ?? '3' },
    duration: { type: 'string', default: process.env.BENCH_DURATION ?? '10' },
    warmup: { type: 'string', default: process.env.BENCH_WARMUP ?? '2' },
    threads: { type: 'string', default: process.env.BENCH_WRK_THREADS ?? '1' },
    connections: { type: 'string', default: process.env.BENCH_CONNECTIONS ?? '64' },
  },
});

const lua = fileURLToPath(new URL('./lib/wrk-report.lua', import.meta.url));

function wrk(seconds) {
  const args = [`-t${opt.threads}`, `-c${opt.connections}`, `-d${seconds}s`, '-s', lua, opt.url];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (code !== 0 || !line) return reject(new Error(`wrk ${args.join(' ')} failed (${code}):\n${out}`));
      resolve(JSON.parse(line.slice('WRK_JSON '.length)));
    });
  });
}

const pids = opt.pid.map(Number);
const label = `${opt.setup}${opt.variant ? ` (${opt.variant})` : ''} /${opt.payload}`;

if (Number(opt.warmup) > 0) await wrk(opt.warmup);

const runs = [];
for (let i = 0; i < Number(opt.reps); i++) {
  const cpu0 = treeCpuSeconds(pids);
  const r = await wrk(opt.duration);
  const cpu1 = treeCpuSeconds(pids);
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
  const run = {
    requests: r.requests,
    rps: r.requests / (r.duration_us / 1e6),
    p50_ms: r.lat_us.p50 / 1000,
    p99_ms: r.lat_us.p99 / 1000,
    cpu_s: cpu1 - cpu0,
    cpu_us_per_req: r.requests ? ((cpu1 - cpu0) * 1e6) / r.requests : NaN,
    errors,
    error_detail: r.errors,
  };
  runs.push(run);
  console.error(
    `  ${label} run ${i + 1}/${opt.reps}: ${run.rps.toFixed(0)} req/s, p50 ${run.p50_ms.toFixed(2)} ms, ` +
      `p99 ${run.p99_ms.toFixed(2)} ms, ${run.cpu_us_per_req.toFixed(1)} CPU µs/req` +
      (errors ? `, ${errors} errors ${JSON.stringify(r.errors)}` : ''),
  );
}

// The median run by req/s (for an even count, the lower middle one).
const sorted = [...runs].sort((a, b) => a.rps - b.rps);
const med = sorted[Math.floor((sorted.length - 1) / 2)];
appendFileSync(opt.out, `${JSON.stringify({ kind: 'http', setup: opt.setup, variant: opt.variant, payload: opt.payload, url: opt.url, median: med, runs })}\n`);
