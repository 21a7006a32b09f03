#!/usr/bin/env node
// One scenario of the attack bench: legitimate clients (legit.mjs) beside an optional flood
// (flood.mjs, in several processes) against an edge already running, then one JSON line of
// results. The time line:
//
//   flood starts ─ (under attack: legitimate clients pass the challenge) ─ legit starts ─
//   warm-up (not measured) ─ measured window (--duration s) ─ legit's last request answered ─ flood stops
//
// Measured in the window: legitimate requests due in it (status, latency from the due time),
// the flood's full seconds in it (offered, sent, answered by status), the origin's full seconds
// (received, served, shed: from the stats file it writes every second), CPU time of the edge's process tree, of the origin
// and of the load generators, and the edge's shield counters (admin /metrics).
//
//   node bench/attack/run.mjs --name 4 --label "attack, rate limits" --edge http://127.0.0.1:27080 \
//     --admin http://127.0.0.1:27090 --edge-pid 123 --origin-pid 122 --origin-stats bench/.work/attack/origin-stats.json \
//     --legit-addrs 127.0.0.2,... --legit-rate 200 --flood-addrs 127.0.1.0,... --flood-rate 10000 \
//     --solver dist/shield/challenge/solve.js --out bench/.work/attack/results.jsonl
import { fork } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { percentile, treeCpuSeconds } from '../lib/proc.mjs';

const { values: opt } = parseArgs({
  options: {
    name: { type: 'string' },
    label: { type: 'string' },
    config: { type: 'string', default: '' },
    edge: { type: 'string' },
    admin: { type: 'string' },
    'edge-pid': { type: 'string' },
    'origin-pid': { type: 'string' },
    'origin-stats': { type: 'string' },
    budget: { type: 'string', default: '500' },
    'legit-addrs': { type: 'string' },
    'legit-rate': { type: 'string', default: '200' },
    'legit-conns': { type: 'string', default: '8' },
    'flood-addrs': { type: 'string', default: '' },
    'flood-rate': { type: 'string', default: '0' },
    'flood-procs': { type: 'string', default: '2' },
    'flood-conns': { type: 'string', default: '4' },
    'flood-depth': { type: 'string', default: '256' },
    challenge: { type: 'boolean', default: false },
    solver: { type: 'string' },
    warmup: { type: 'string', default: '3' },
    duration: { type: 'string', default: '20' },
    timeout: { type: 'string', default: '10000' },
    out: { type: 'string' },
    raw: { type: 'string' },
  },
});

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const now = () => performance.timeOrigin + performance.now();
const sleepUntil = (t) => new Promise((r) => setTimeout(r, Math.max(0, t - now())));
const edgeUrl = new URL(opt.edge);
const warmupMs = Number(opt.warmup) * 1000;
const durationMs = Number(opt.duration) * 1000;
const budget = Number(opt.budget);

/** Fork a generator; resolves once it said ready. `on(type)` waits for its next message of that type. */
function spawnGen(file, args) {
  const child = fork(here(file), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters = new Map();
  child.on('message', (m) => {
    const w = waiters.get(m.type);
    if (w) {
      waiters.delete(m.type);
      w.resolve(m);
    }
  });
  child.on('exit', (code) => {
    for (const w of waiters.values()) w.reject(new Error(`${file} exited (${code}) before answering`));
    waiters.clear();
  });
  const on = (type) => new Promise((resolve, reject) => waiters.set(type, { resolve, reject }));
  const ready = on('ready');
  return { child, on, ready };
}

// ---------------------------------------------------------------- generators

const legit = spawnGen('./legit.mjs', [
  '--url',
  opt.edge,
  '--addrs',
  opt['legit-addrs'],
  '--rate',
  opt['legit-rate'],
  '--conns',
  opt['legit-conns'],
  '--timeout',
  opt.timeout,
  ...(opt.solver ? ['--solver', opt.solver] : []),
]);
const floodAddrs = opt['flood-addrs'].split(',').filter(Boolean);
const floodRate = Number(opt['flood-rate']);
const floods = [];
if (floodRate > 0 && floodAddrs.length > 0) {
  const procs = Math.min(Number(opt['flood-procs']), floodAddrs.length);
  for (let p = 0; p < procs; p++) {
    const mine = floodAddrs.filter((_, i) => i % procs === p);
    floods.push(
      spawnGen('./flood.mjs', [
        '--host',
        edgeUrl.hostname,
        '--port',
        edgeUrl.port,
        '--rate',
        String(floodRate / procs),
        '--addrs',
        mine.join(','),
        '--conns-per-addr',
        opt['flood-conns'],
        '--depth',
        opt['flood-depth'],
      ]),
    );
  }
}
const gens = [legit, ...floods];
const killAll = () => {
  for (const g of gens) g.child.kill('SIGKILL');
};
process.on('SIGTERM', () => {
  killAll();
  process.exit(143);
});
process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});
await Promise.all(gens.map((g) => g.ready));

// ---------------------------------------------------------------- time line

const t0 = now() + 300;
const floodDone = floods.map((g) => g.on('done'));
for (const g of floods) g.child.send({ cmd: 'start', startAt: t0 });

let challenge = null;
if (opt.challenge) {
  // The clients arrive while the flood is on.
  await sleepUntil(t0 + (floods.length ? 500 : 0));
  const answered = legit.on('challenged');
  legit.child.send({ cmd: 'challenge' });
  challenge = (await answered).clients;
  for (const c of challenge)
    console.error(
      `  challenge ${c.addr}: page ${c.page}, difficulty ${c.difficulty}, solved in ${c.solveMs?.toFixed(0)} ms, POST ${c.post}, cookie ${c.cookie}, then / ${c.verify}${c.error ? ` — ${c.error}` : ''}`,
    );
}

const legitStart = Math.max(now() + 200, t0 + (floods.length ? 500 : 0));
const ws = legitStart + warmupMs;
const we = ws + durationMs;
const legitDone = legit.on('done');
legit.child.send({ cmd: 'start', startAt: legitStart, durationMs: warmupMs + durationMs });

const genPids = gens.map((g) => g.child.pid);
const cpu = () => ({ edge: treeCpuSeconds([Number(opt['edge-pid'])]), origin: treeCpuSeconds([Number(opt['origin-pid'])]), gens: treeCpuSeconds(genPids) });
const machine = () => {
  // busy jiffies, total jiffies over all CPUs (/proc/stat's first line)
  const f = readStat().split(/\s+/).slice(1, 11).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
};
await sleepUntil(ws);
const cpu0 = cpu();
const m0 = machine();
const shield0 = await shieldCounters();
await sleepUntil(we);
const cpu1 = cpu();
const m1 = machine();
const shield1 = await shieldCounters();

const legitResult = (await legitDone).result;
for (const g of floods) g.child.send({ cmd: 'stop' });
const floodResults = (await Promise.all(floodDone)).map((m) => m.result);
// The origin writes its counts every second: wait for a write after the window, then read it.
await sleepUntil(Math.max(now(), we + 1100));
const originStats = readOriginStats();

// ---------------------------------------------------------------- figures

const windowS = durationMs / 1000;
const inWindow = [];
for (let i = 0; i < legitResult.due.length; i++) if (legitResult.due[i] >= ws && legitResult.due[i] < we) inWindow.push(i);
const ok = inWindow.filter((i) => legitResult.status[i] >= 200 && legitResult.status[i] < 300);
const okLat = ok.map((i) => legitResult.latency[i]).sort((a, b) => a - b);
const failures = {};
for (const i of inWindow) {
  const s = legitResult.status[i];
  if (s >= 200 && s < 300) continue;
  const k = `${s || 'error'}${legitResult.err[i] ? ` ${legitResult.err[i]}` : ''}`;
  failures[k] = (failures[k] ?? 0) + 1;
}
const perClient = legitResult.addrs.map((addr, ci) => {
  const mine = inWindow.filter((i) => legitResult.client[i] === ci);
  return { addr, requests: mine.length, ok: mine.filter((i) => legitResult.status[i] >= 200 && legitResult.status[i] < 300).length };
});

// Full seconds inside the window (the flood's and the origin's counts are per epoch second).
const fullSeconds = [];
for (let s = Math.ceil(ws / 1000); (s + 1) * 1000 <= we; s++) fullSeconds.push(s);
const nFull = Math.max(1, fullSeconds.length);

const flood = { offered: 0, sent: 0, skipped: 0, answered: 0, lost: 0, status: {}, passed: {}, connects: 0, closes: 0, connectErrors: 0, conns: 0, addrs: 0 };
for (const r of floodResults) {
  for (const s of fullSeconds) {
    const row = r.seconds[s];
    if (!row) continue;
    flood.offered += row.offered;
    flood.sent += row.sent;
    flood.skipped += row.skipped;
    flood.lost += row.lost;
    for (const [addr, n] of Object.entries(row.passed ?? {})) flood.passed[addr] = (flood.passed[addr] ?? 0) + n;
    for (const [code, n] of Object.entries(row.status)) {
      flood.status[code] = (flood.status[code] ?? 0) + n;
      flood.answered += n;
    }
  }
  flood.connects += r.totals.connects;
  flood.closes += r.totals.closes;
  flood.connectErrors += r.totals.connectErrors;
  flood.conns += r.conns;
  flood.addrs += r.addrs;
}

if (!originStats) console.error(`attack bench: no origin counts in ${opt['origin-stats']}`);
const origin = { received: [], served: [], shed: [] };
for (const s of fullSeconds) {
  const row = originStats?.seconds?.[s] ?? [0, 0, 0];
  origin.received.push(row[0]);
  origin.served.push(row[1]);
  origin.shed.push(row[2]);
}
const sum = (a) => a.reduce((x, y) => x + y, 0);
// The flood's first seconds come before the window (the warm-up): what got through then is
// counted here (from the second the flood started to the end of the window).
let maxSinceAttack = null;
if (floods.length) {
  maxSinceAttack = 0;
  for (let s = Math.floor(t0 / 1000); (s + 1) * 1000 <= we; s++) maxSinceAttack = Math.max(maxSinceAttack, originStats?.seconds?.[s]?.[0] ?? 0);
}

// Only when both ends were read (the admin endpoint asks every worker; a busy one may not answer in time).
let shieldActions = null;
if (shield0 && shield1) {
  shieldActions = {};
  for (const [k, v] of Object.entries(shield1)) {
    const d = v - (shield0[k] ?? 0);
    if (d > 0) shieldActions[k] = d;
  }
}

const result = {
  kind: 'scenario',
  name: opt.name,
  label: opt.label,
  config: opt.config,
  window_s: windowS,
  legit: {
    rate: Number(opt['legit-rate']),
    addrs: legitResult.addrs.length,
    requests: inWindow.length,
    ok: ok.length,
    success: inWindow.length ? ok.length / inWindow.length : NaN,
    p50_ms: percentile(okLat, 50),
    p99_ms: percentile(okLat, 99),
    max_ms: okLat.length ? okLat[okLat.length - 1] : NaN,
    failures,
    perClient,
    challenge,
  },
  flood: floods.length
    ? {
        rate: floodRate,
        ...flood,
        offered_rps: flood.offered / nFull,
        sent_rps: flood.sent / nFull,
        answered_rps: flood.answered / nFull,
        answered_2xx_rps:
          Object.entries(flood.status)
            .filter(([c]) => c.startsWith('2'))
            .reduce((a, [, n]) => a + n, 0) / nFull,
      }
    : null,
  origin: !originStats
    ? { budget, seconds: 0, received: [], max_rps: null, max_since_attack_rps: null, mean_rps: NaN, served_rps: NaN, shed: null, over_budget_s: null }
    : {
        budget,
        seconds: fullSeconds.length,
        received: origin.received,
        max_rps: Math.max(0, ...origin.received),
        max_since_attack_rps: maxSinceAttack,
        mean_rps: sum(origin.received) / nFull,
        served_rps: sum(origin.served) / nFull,
        shed: sum(origin.shed),
        over_budget_s: budget > 0 ? origin.received.filter((n) => n > budget).length : 0,
      },
  cpu: {
    edge_cores: (cpu1.edge - cpu0.edge) / windowS,
    origin_cores: (cpu1.origin - cpu0.origin) / windowS,
    gens_cores: (cpu1.gens - cpu0.gens) / windowS,
    machine_busy: m1.total > m0.total ? (m1.busy - m0.busy) / (m1.total - m0.total) : NaN,
  },
  shieldActions,
};
appendFileSync(opt.out, `${JSON.stringify(result)}\n`);
if (opt.raw) writeFileSync(opt.raw, JSON.stringify({ ws, we, legit: legitResult, flood: floodResults, origin: originStats }));
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');
console.error(
  `  ${opt.label}: legit ${f(result.legit.success * 100, 2)}% ok (${ok.length}/${inWindow.length}), p50 ${f(result.legit.p50_ms)} ms, p99 ${f(result.legit.p99_ms)} ms; ` +
    (result.flood ? `flood offered ${f(result.flood.offered_rps, 0)}/s, answered ${f(result.flood.answered_rps, 0)}/s ${JSON.stringify(flood.status)}; ` : '') +
    `origin max ${result.origin.max_rps}/s, mean ${f(result.origin.mean_rps, 0)}/s (budget ${budget}); edge ${f(result.cpu.edge_cores, 2)} cores` +
    (Object.keys(failures).length ? `; legit failures ${JSON.stringify(failures)}` : ''),
);
process.exit(0);

// ---------------------------------------------------------------- helpers

/** The first line of /proc/stat: the CPU time of the whole machine. */
function readStat() {
  return readFileSync('/proc/stat', 'utf8').split('\n')[0];
}

/** outpost_shield_actions_total by "rule/action", from the admin /metrics; null when unavailable. */
async function shieldCounters() {
  if (!opt.admin) return null;
  const res = await fetch(`${opt.admin}/metrics`, { signal: AbortSignal.timeout(3000) }).catch(() => null);
  if (!res?.ok) return null;
  const text = await res.text();
  const out = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('outpost_shield_actions_total{')) continue;
    const rule = /rule="([^"]*)"/.exec(line)?.[1] ?? '';
    const action = /action="([^"]*)"/.exec(line)?.[1] ?? '';
    const k = `${rule}/${action}`;
    out[k] = (out[k] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

function readOriginStats() {
  try {
    return JSON.parse(readFileSync(opt['origin-stats'], 'utf8'));
  } catch {
    return null;
  }
}
