#!/usr/bin/env node
// The shield's cost when nothing attacks: closed-loop maximum throughput (wrk, as bench/run.sh:
// -t1 -c64 keep-alive) through two edges that differ only in `security:`, one with the shield
// off, one with it on, both in front of the same unlimited origin. Runs alternate (off, on,
// off, on, …) so a noisy neighbour hits both alike; the median run of each is reported, with the
// CPU time per request of the edge's process tree, and one JSON line goes to --out.
//
//   node bench/attack/idle.mjs --off http://127.0.0.1:38081/api/idle --off-pid 1 \
//     --on http://127.0.0.1:38082/api/idle --on-pid 2 --reps 3 --duration 20 --out results.jsonl
//
// wrk sends a User-Agent and an Accept header: the security level challenges clients without a
// User-Agent that open connections in a burst (wrk opens its 64 at once), which would measure
// cheap refusals instead of proxied requests. Any non-2xx answer is reported.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median, treeCpuSeconds } from '../lib/proc.mjs';

const { values: opt } = parseArgs({
  options: {
    off: { type: 'string' },
    'off-pid': { type: 'string' },
    on: { type: 'string' },
    'on-pid': { type: 'string' },
    reps: { type: 'string', default: '3' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    out: { type: 'string' },
  },
});

const lua = fileURLToPath(new URL('../lib/wrk-report.lua', import.meta.url));

function wrk(url, seconds) {
  const args = ['-t1', `-c${opt.connections}`, `-d${seconds}s`, '-H', 'User-Agent: attack-bench-idle/1.0', '-H', 'Accept: application/json', '-s', lua, url];
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

const setups = [
  { name: 'off', url: opt.off, pid: Number(opt['off-pid']), runs: [] },
  { name: 'on', url: opt.on, pid: Number(opt['on-pid']), runs: [] },
];
for (const s of setups) if (Number(opt.warmup) > 0) await wrk(s.url, opt.warmup);
for (let i = 0; i < Number(opt.reps); i++) {
  for (const s of setups) {
    const c0 = treeCpuSeconds([s.pid]);
    const r = await wrk(s.url, opt.duration);
    const c1 = treeCpuSeconds([s.pid]);
    const run = {
      rps: r.requests / (r.duration_us / 1e6),
      p50_ms: r.lat_us.p50 / 1000,
      p99_ms: r.lat_us.p99 / 1000,
      cpu_us_per_req: r.requests ? ((c1 - c0) * 1e6) / r.requests : NaN,
      errors: r.errors,
    };
    s.runs.push(run);
    const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
    console.error(
      `  idle, shield ${s.name}, run ${i + 1}/${opt.reps}: ${run.rps.toFixed(0)} req/s, p99 ${run.p99_ms.toFixed(2)} ms, ${run.cpu_us_per_req.toFixed(1)} CPU µs/req${errs ? `, ${errs} errors/non-2xx ${JSON.stringify(r.errors)}` : ''}`,
    );
  }
}
const med = (s) => {
  const m = median(s.runs.map((r) => r.rps));
  return s.runs.find((r) => r.rps === m);
};
const off = med(setups[0]);
const on = med(setups[1]);
appendFileSync(opt.out, `${JSON.stringify({ kind: 'idle', off, on, ratio: on.rps / off.rps, runs: { off: setups[0].runs, on: setups[1].runs } })}\n`);
