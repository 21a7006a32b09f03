#!/usr/bin/env node
// One failover run through one proxy (bash bench/failover.sh runs it per proxy variant): with
// origins A and B already behind the proxy, open --ws WebSockets (over --ws-procs client
// processes), start the open-loop HTTP load (--rate GETs/s), SIGKILL origin A (--kill-pid) after
// --pre seconds, restart it (bench/failover-origin.mjs, pid written to --pidfile) --down seconds
// later, run --post seconds more, then check every WebSocket still echoes. Meanwhile the proxy's
// own counters for A are sampled every --sample-ms (Outpost /metrics, HAProxy stats socket).
// Appends one JSON line of results to --out.
//
//   node bench/failover.mjs --name Outpost --url http://127.0.0.1:28080 --kill-pid 123 \
//     --counters outpost:http://127.0.0.1:29090:eu/a --pidfile .work/a.pid --out .work/failover.jsonl
import { fork, spawn } from 'node:child_process';
import { appendFileSync, openSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { haproxyCounters, outpostCounters, sampleCounters } from './lib/counters.mjs';
import { percentile } from './lib/proc.mjs';

const { values: opt } = parseArgs({
  options: {
    name: { type: 'string' },
    url: { type: 'string' },
    'ws-url': { type: 'string' },
    'kill-pid': { type: 'string' },
    'origin-name': { type: 'string', default: 'a' },
    'origin-port': { type: 'string', default: '28001' },
    'origin-log': { type: 'string' },
    pidfile: { type: 'string' },
    counters: { type: 'string' },
    'sample-ms': { type: 'string', default: '100' },
    rate: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '512' },
    ws: { type: 'string', default: '1000' },
    'ws-procs': { type: 'string', default: '2' },
    warmup: { type: 'string', default: '2' },
    pre: { type: 'string', default: '5' },
    down: { type: 'string', default: '10' },
    post: { type: 'string', default: '10' },
    out: { type: 'string' },
    raw: { type: 'string' },
  },
});

const now = () => performance.timeOrigin + performance.now();
const sleepUntil = (t) => new Promise((r) => setTimeout(r, Math.max(0, t - now())));
const say = (msg) => console.error(`  [${opt.name}] ${msg}`);
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const A = opt['origin-name'];
const wsUrl = opt['ws-url'] ?? `${opt.url.replace(/^http/, 'ws')}/ws`;

const children = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

/** Fork a helper; resolves once it says ready. */
function helper(file, args) {
  const child = fork(here(file), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('message', (m) => (m?.type === 'ready' ? resolve(child) : reject(new Error(`${file}: ${JSON.stringify(m)}`))));
    child.once('exit', (code) => reject(new Error(`${file} exited (${code})`)));
  });
}

/** Send a command; resolves with the first reply of the given type. */
function ask(child, cmd, type, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} in ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m) => {
      if (m?.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`helper exited (${code}) before ${type}`)));
    child.send(cmd);
  });
}

// ---------------------------------------------------------------- warm-up

// Both origins must answer through the proxy (health checks settled) before the run.
{
  const seen = new Set();
  const deadline = now() + 20_000;
  while (seen.size < 2 && now() < deadline) {
    try {
      const res = await request(`${opt.url}/api/info`, { headers: { host: 'bench.local' } });
      const text = await res.body.text();
      if (res.statusCode === 200) seen.add(JSON.parse(text).origin);
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (seen.size < 2) throw new Error(`only ${[...seen].join(', ') || 'no origin'} answered through ${opt.url}`);
}

const wsTotal = Number(opt.ws);
const wsProcs = Number(opt['ws-procs']);
const [http, ...wsKids] = await Promise.all([
  helper('failover-http.mjs', ['--url', opt.url, '--rate', opt.rate, '--connections', opt.connections]),
  ...Array.from({ length: wsProcs }, (_, i) => helper('failover-ws.mjs', ['--url', wsUrl, '--count', String(Math.floor(wsTotal / wsProcs) + (i < wsTotal % wsProcs ? 1 : 0))])),
]);

const t0 = now();
const opened = await Promise.all(wsKids.map((k) => ask(k, { cmd: 'open' }, 'opened')));
const wsOpen = opened.reduce((a, r) => a + r.open, 0);
say(`${wsOpen}/${wsTotal} WebSockets open in ${((now() - t0) / 1000).toFixed(1)} s`);

// ---------------------------------------------------------------- the run

let readCounters = null;
if (opt.counters) {
  const [kind, ...rest] = opt.counters.split(':');
  if (kind === 'outpost') {
    // outpost:http://host:port:pool/origin
    const label = rest.pop();
    readCounters = outpostCounters(rest.join(':'), label);
  } else if (kind === 'haproxy') {
    // haproxy:/path/to.sock:backend:server
    const [path, backend, server] = rest;
    readCounters = haproxyCounters(path, backend, server);
  }
}
const sampler = readCounters ? sampleCounters(readCounters, Number(opt['sample-ms']), now) : null;

const warmup = Number(opt.warmup) * 1000;
const pre = Number(opt.pre) * 1000;
const down = Number(opt.down) * 1000;
const post = Number(opt.post) * 1000;
// The load starts `warmup` before the measured run (connections opened, code warm); requests due
// before startAt are left out of every figure.
const startAt = now() + 500 + warmup;
const httpDone = ask(http, { cmd: 'start', startAt: startAt - warmup, durationMs: warmup + pre + down + post }, 'done', warmup + pre + down + post + 60_000);
say(`load: ${opt.rate} GET/s, ${warmup / 1000} s warm-up then ${(pre + down + post) / 1000} s; kill ${A} at +${pre / 1000} s, restart at +${(pre + down) / 1000} s`);

await sleepUntil(startAt + pre);
const killAt = now();
process.kill(Number(opt['kill-pid']), 'SIGKILL');
say(`SIGKILL origin ${A} (pid ${opt['kill-pid']})`);

await sleepUntil(startAt + pre + down);
const restartAt = now();
const logFd = opt['origin-log'] ? openSync(opt['origin-log'], 'a') : 'ignore';
const origin = spawn(process.execPath, [here('failover-origin.mjs'), A, opt['origin-port']], { stdio: ['ignore', 'pipe', logFd] });
if (opt.pidfile) writeFileSync(opt.pidfile, `${origin.pid}\n`);
const readyAt = await new Promise((resolve, reject) => {
  const rl = createInterface({ input: origin.stdout });
  rl.once('line', (line) => {
    const m = /^ready (\S+)/.exec(line);
    if (m) resolve(Number(m[1]));
    else reject(new Error(`origin ${A}: ${line}`));
  });
  origin.once('exit', (code) => reject(new Error(`restarted origin ${A} exited (${code})`)));
});
say(`origin ${A} restarted (pid ${origin.pid}), listening after ${Math.round(readyAt - restartAt)} ms`);

const { result: h } = await httpDone;
const samples = sampler ? await sampler.stop() : [];
const echoed = await Promise.all(wsKids.map((k) => ask(k, { cmd: 'echo' }, 'echoed')));
const reports = await Promise.all(wsKids.map((k) => ask(k, { cmd: 'report' }, 'report')));
const endAt = now();
if (opt.raw) {
  const ws = reports.flatMap((r) => r.sockets);
  writeFileSync(opt.raw, JSON.stringify({ startAt, killAt, restartAt, readyAt, endAt, samples, http: h, ws }));
}

// ---------------------------------------------------------------- analysis

const round = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d);
const pct = (values, p) =>
  values.length
    ? percentile(
        [...values].sort((a, b) => a - b),
        p,
      )
    : null;

// HTTP. A request counts in the kill window if it finished after the kill and was due before the
// restart (requests in flight at the kill included).
const first = h.due.findIndex((t) => t >= startAt - 0.01);
const n = h.due.length - first;
const errors = {};
let failed = 0;
let failedWindow = 0;
let failedAfterRestart = 0;
let lastFailureDue = null;
let lastAResponse = null;
let firstAAfterRestart = null;
const windowLatency = [];
const allLatency = [];
const beforeLatency = [];
const afterLatency = [];
const origins = {};
const lag = [];
const windowLag = [];
for (let i = first; i < h.due.length; i++) {
  const done = h.due[i] + h.latency[i];
  const ok = h.status[i] === 200;
  const inWindow = done >= killAt && h.due[i] < restartAt;
  allLatency.push(h.latency[i]);
  lag.push(h.lag[i]);
  if (inWindow) windowLag.push(h.lag[i]);
  if (inWindow) windowLatency.push(h.latency[i]);
  else if (done < killAt) beforeLatency.push(h.latency[i]);
  else afterLatency.push(h.latency[i]);
  if (ok) {
    origins[h.origin[i]] = (origins[h.origin[i]] ?? 0) + 1;
    if (h.origin[i] === A) {
      if (done < restartAt) lastAResponse = Math.max(lastAResponse ?? -Infinity, done - killAt);
      if (done >= readyAt) firstAAfterRestart = Math.min(firstAAfterRestart ?? Infinity, done - readyAt);
    }
    continue;
  }
  failed++;
  const kind = h.status[i] ? `HTTP ${h.status[i]}${h.err[i] ? ` ${h.err[i]}` : ''}` : h.err[i];
  errors[kind] = (errors[kind] ?? 0) + 1;
  if (inWindow) {
    failedWindow++;
    lastFailureDue = Math.max(lastFailureDue ?? -Infinity, h.due[i] - killAt);
  }
  if (done >= restartAt) failedAfterRestart++;
}

// The proxy's counters for A: the last sample, between the kill and the restart, in which its
// traffic grew (the growth happened since the sample before), and when its health flipped.
let lastATraffic = null;
let markedDown = null;
let markedUp = null;
let counterAAgain = null;
for (let i = 1; i < samples.length; i++) {
  const s = samples[i];
  const grew = s.traffic > samples[i - 1].traffic;
  if (grew && s.t > killAt && s.t < restartAt) lastATraffic = s.t - killAt;
  if (grew && samples[i - 1].t >= readyAt && counterAAgain === null) counterAAgain = s.t - readyAt;
  if (s.up === false && s.t > killAt && s.t < restartAt && markedDown === null) markedDown = s.t - killAt;
  if (s.up === true && s.t > readyAt && markedUp === null) markedUp = s.t - readyAt;
}
const killSample = samples.findIndex((s) => s.t > killAt);

// WebSockets: those greeted by A and still open at the kill.
const sockets = reports.flatMap((r) => r.sockets);
let onA = 0;
let onB = 0;
let sawClose = 0;
let reconnectedAtOnce = 0;
let reconnected = 0;
let otherClosed = 0;
const reconnectMs = [];
const closeDelayMs = [];
const attemptsToReconnect = [];
const newOrigins = {};
for (const s of sockets) {
  const idx = s.segments.findIndex(([, hello, close]) => hello <= killAt && (close === null || close >= killAt));
  if (idx < 0) continue;
  const [origin, , closeAt] = s.segments[idx];
  if (origin !== A) {
    onB++;
    if (s.segments.slice(idx).some(([, , c]) => c !== null)) otherClosed++;
    continue;
  }
  onA++;
  if (closeAt === null) continue;
  sawClose++;
  closeDelayMs.push(closeAt - killAt);
  const after = s.attempts.filter(([start]) => start >= closeAt);
  if (after[0]?.[2] === 1) reconnectedAtOnce++;
  const next = s.segments[idx + 1];
  if (next) {
    reconnected++;
    reconnectMs.push(next[1] - closeAt);
    newOrigins[next[0]] = (newOrigins[next[0]] ?? 0) + 1;
    attemptsToReconnect.push(after.findIndex(([, , ok]) => ok === 1) + 1);
  }
}
const attemptErrors = {};
for (const s of sockets) for (const [start, , ok, err] of s.attempts) if (!ok && start >= killAt) attemptErrors[err] = (attemptErrors[err] ?? 0) + 1;

const result = {
  kind: 'failover',
  name: opt.name,
  rate: Number(opt.rate),
  warmup_s: warmup / 1000,
  pre_s: pre / 1000,
  down_s: down / 1000,
  post_s: post / 1000,
  run_s: round((endAt - startAt) / 1000),
  http: {
    sent: n,
    failed,
    failed_window: failedWindow,
    failed_after_restart: failedAfterRestart,
    errors,
    by_origin: origins,
    window_requests: windowLatency.length,
    before_p99_ms: round(pct(beforeLatency, 99), 2),
    after_p99_ms: round(pct(afterLatency, 99), 2),
    p50_ms: round(pct(allLatency, 50), 2),
    p99_ms: round(pct(allLatency, 99), 2),
    window_p50_ms: round(pct(windowLatency, 50), 2),
    window_p99_ms: round(pct(windowLatency, 99), 2),
    window_max_ms: round(Math.max(...windowLatency), 1),
    last_failure_due_after_kill_ms: round(lastFailureDue === null ? null : Math.max(0, lastFailureDue)),
    last_a_response_after_kill_ms: round(lastAResponse),
    first_a_response_after_restart_ms: round(firstAAfterRestart),
    warmup_requests: first,
    generator_lag_p99_ms: round(pct(lag, 99), 2),
    generator_lag_max_ms: round(Math.max(...lag), 1),
    generator_lag_window_p99_ms: round(pct(windowLag, 99), 2),
  },
  origin_restart_listening_ms: round(readyAt - restartAt),
  counters: {
    samples: samples.length,
    interval_ms: Number(opt['sample-ms']),
    gap_at_kill_ms: killSample > 0 ? round(samples[killSample].t - samples[killSample - 1].t) : null,
    last_a_traffic_after_kill_ms: round(lastATraffic),
    a_marked_down_after_kill_ms: round(markedDown),
    a_marked_up_after_listening_ms: round(markedUp),
    a_traffic_again_after_listening_ms: round(counterAAgain),
  },
  ws: {
    total: wsTotal,
    opened: wsOpen,
    on_a: onA,
    on_b: onB,
    saw_close: sawClose,
    reconnected_at_once: reconnectedAtOnce,
    reconnected,
    reconnected_to: newOrigins,
    reconnect_p50_ms: round(pct(reconnectMs, 50)),
    reconnect_p99_ms: round(pct(reconnectMs, 99)),
    reconnect_max_ms: round(reconnectMs.length ? Math.max(...reconnectMs) : null),
    close_after_kill_p50_ms: round(pct(closeDelayMs, 50)),
    close_after_kill_p99_ms: round(pct(closeDelayMs, 99)),
    attempts_p99: pct(attemptsToReconnect, 99),
    failed_attempt_errors: attemptErrors,
    others_closed: otherClosed,
    open_at_end: echoed.reduce((a, r) => a + r.open, 0),
    echoed_at_end: echoed.reduce((a, r) => a + r.echoed, 0),
  },
};

say(`HTTP ${n} sent, ${failed} failed (${failedWindow} in the window); WS on ${A}: ${onA}, closed ${sawClose}, ` + `reconnected ${reconnected} (${reconnectedAtOnce} at once)`);
if (opt.out) appendFileSync(opt.out, `${JSON.stringify(result)}\n`);
else console.log(JSON.stringify(result, null, 2));
process.exit(0);
