/**
 * The Desk benchmark (`bash bench/desk.sh`): DESK_VISITORS visitors (5,000), each sending a
 * message every DESK_PERIOD ms (5,000), operators answering; message delivery latency visitor →
 * operator, direct to the Desk nodes and through an Outpost edge, side by side; then a node killed
 * under load behind the edge, and a count of what was lost or stored twice.
 *
 * Two Desk nodes (one SQLite file, fan-out over a real redis-server), one edge (2 workers, a pool
 * of the two nodes with least-connections steering, /healthz monitored, shield off), visitors in
 * DESK_PROCS (4) processes from 127.0.0.2… (a process per source address keeps each under the
 * open-file limit), two operator sockets (one per node, or both through the edge).
 *
 *   (1) direct:   visitors split over the two nodes; operators one on each
 *   (2) edge:     visitors and operators through the edge
 *   (3) failover: through the edge; node A is SIGKILLed half-way; its visitors reconnect through the
 *                 edge to node B, re-send what was not acked (same clientId) and resync by seq
 *   (4) node:     one Desk node alone (`DESK_ONLY=node`): every visitor on it, one operator; what
 *                 it acks and how fast (send → message.ack), its CPU and the load generators'
 *                 beside it. DESK_PROF=1 runs it under --cpu-prof (profile in bench/.work/desk/).
 *
 * Writes bench/.work/desk/report.md (and appends it to bench/RESULTS.md with BENCH_RECORD=1).
 */
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { waitPort } from '../lib/ports.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORK = join(ROOT, 'bench/.work/desk');
const VISITORS = Number(process.env.DESK_VISITORS ?? 5000);
const PERIOD = Number(process.env.DESK_PERIOD ?? 5000);
const DURATION = Number(process.env.DESK_DURATION ?? 30) * 1000;
const PROCS = Number(process.env.DESK_PROCS ?? 4);
const RAMP = Number(process.env.DESK_RAMP ?? Math.max(2000, VISITORS * 2));
const ANSWERS = Number(process.env.DESK_ANSWERS ?? 5);
const ONLY = (process.env.DESK_ONLY ?? 'direct edge failover').split(/\s+/);
const PROF = process.env.DESK_PROF === '1';
const PORTS = { redis: 38379, a: 38101, b: 38102, edge: 38180, admin: 39180 };
const children = new Set();
let stopping = false;

rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
const cleanup = () => {
  stopping = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
setTimeout(() => {
  process.stderr.write('desk bench: over its time budget, stopping\n');
  process.exit(1);
}, 20 * 60_000).unref();

function start(name, cmd, args) {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let log = '';
  const keep = (d) => (log = (log + d).slice(-8000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.done = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (!stopping && code !== 0 && !child.killedOnPurpose) process.stderr.write(`desk bench: ${name} exited (${code ?? signal})\n${log}\n`);
      resolve(code);
    }),
  );
  return child;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const db = join(WORK, 'desk.db');

function deskNode(name, port) {
  const prof = PROF ? ['--cpu-prof', `--cpu-prof-dir=${WORK}`] : [];
  return start(name, process.execPath, [
    ...prof,
    'desk/dist/main.js',
    '--port',
    String(port),
    '--db',
    `sqlite:${db}`,
    '--redis',
    `redis://127.0.0.1:${PORTS.redis}`,
    '--node',
    name,
    '--log-level',
    'warn',
  ]);
}

function edgeConfig() {
  return `pop: { id: bench, region: local }
listen: { http: 127.0.0.1:${PORTS.edge}, admin: 127.0.0.1:${PORTS.admin} }
workers: 2
log: { level: warn, access: false }
security: { level: "off" }
limits: { clientConnections: 100000, clientConnectionRate: 100000, maxConnections: 50000 }
monitors: { healthz: { type: http, path: /healthz, interval: 1s, timeout: 2s, retries: 2 } }
pools:
  desk:
    monitor: healthz
    originSteering: least_connections
    origins:
      - { name: desk-a, address: "http://127.0.0.1:${PORTS.a}" }
      - { name: desk-b, address: "http://127.0.0.1:${PORTS.b}" }
loadBalancers: [{ hostname: "*", defaultPools: [desk] }]
rules: [{ match: "*/api/*", cache: bypass }]
`;
}

/** CPU time (ms) a process has used so far (Linux: utime + stime of /proc/<pid>/stat, in clock ticks of 10 ms). */
function cpuMsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** One measured run: visitor processes against `visitorUrls` (one per process, cycled), operators at `operatorBases`; `watch`: pids whose CPU is read over the sending window. */
async function measure(label, visitorUrls, operatorBases, during, watch = []) {
  const outs = [];
  const procs = [];
  const opOut = join(WORK, `${label}-operators.json`);
  const ops = start(`${label} operators`, process.execPath, ['bench/desk/operators.mjs', String(RAMP + 1000 + DURATION + 14_000), String(ANSWERS), opOut, ...operatorBases]);
  await Promise.race([
    new Promise((resolve) => ops.stdout.on('data', (d) => String(d).includes('operators ready') && resolve())),
    ops.done.then(() => Promise.reject(new Error(`${label}: the operators could not start`))),
  ]);
  // One instant for every visitor process (they boot at different speeds): ramp, sends and end together.
  const t0 = Date.now() + 1500;
  for (let i = 0; i < PROCS; i++) {
    const out = join(WORK, `${label}-visitors-${i}.json`);
    outs.push(out);
    const n = Math.floor(VISITORS / PROCS) + (i < VISITORS % PROCS ? 1 : 0);
    procs.push(
      start(`${label} visitors ${i}`, process.execPath, [
        'bench/desk/visitors.mjs',
        visitorUrls[i % visitorUrls.length],
        String(n),
        String(PERIOD),
        String(DURATION),
        String(RAMP),
        out,
        `127.0.0.${2 + i}`,
        String(t0),
      ]),
    );
  }
  // The sending window: from the end of the ramp to the end of the run.
  const cpu = {};
  const sampling = (async () => {
    await sleep(t0 + RAMP + 1000 - Date.now());
    const before = watch.map((pid) => cpuMsOf(pid));
    await sleep(DURATION);
    for (const [i, pid] of watch.entries()) cpu[pid] = cpuMsOf(pid) - before[i];
  })();
  if (during) await during();
  await Promise.all(procs.map((p) => p.done));
  await sampling;
  await ops.done;
  const visitors = outs.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  const operators = JSON.parse(readFileSync(opOut, 'utf8'));
  return {
    label,
    sent: visitors.reduce((n, v) => n + v.sent, 0),
    acked: visitors.reduce((n, v) => n + v.acked, 0),
    unacked: visitors.reduce((n, v) => n + v.unacked, 0),
    reconnects: visitors.reduce((n, v) => n + v.reconnects, 0),
    reconnectMs: visitors.flatMap((v) => v.reconnectMs ?? []),
    failedAttempts: visitors.reduce((all, v) => {
      for (const [why, n] of Object.entries(v.failedAttempts ?? {})) all[why] = (all[why] ?? 0) + n;
      return all;
    }, {}),
    clientIds: visitors.flatMap((v) => v.clientIds),
    ackMs: visitors.flatMap((v) => v.ackMs ?? []),
    openMs: visitors.flatMap((v) => v.openMs ?? []),
    generatorCpuMs: visitors.reduce((n, v) => n + (v.cpuMs ?? 0), 0),
    cpu,
    latencies: operators.latencies,
    received: operators.received,
    answered: operators.answered,
    duplicates: operators.duplicates,
  };
}

const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : NaN;
};
const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : '—');

async function main() {
  // Redis for the fan-out, two Desk nodes on one database, the edge.
  start('redis', 'redis-server', ['--port', String(PORTS.redis), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await waitPort(PORTS.redis);
  const a0 = deskNode('desk-a', PORTS.a);
  await waitPort(PORTS.a);
  execFileSync(
    process.execPath,
    [
      '-e',
      `import('./desk/dist/store/index.js').then(async ({ openStore }) => { const s = await openStore('sqlite:${db}'); const { seedDemo } = await import('./desk/dist/seed.js'); await seedDemo(s); await s.close(); })`,
    ],
    { cwd: ROOT },
  );
  const nodeA = a0;
  const results = {};
  if (ONLY.includes('node')) {
    results.node = await measure('node', [`ws://127.0.0.1:${PORTS.a}/ws?workspace=w_demo`], [`http://127.0.0.1:${PORTS.a}`], undefined, [nodeA.pid]);
    if (PROF) {
      // --cpu-prof writes the profile when the node exits on its own (SIGINT: a clean close).
      nodeA.killedOnPurpose = true;
      nodeA.kill('SIGINT');
      await nodeA.done;
    }
    if (ONLY.length === 1) return results;
  }
  const nodeB = deskNode('desk-b', PORTS.b);
  await waitPort(PORTS.b);
  writeFileSync(join(WORK, 'edge.yaml'), edgeConfig());
  start('edge', process.execPath, ['bin/outpost.js', 'start', '-c', join(WORK, 'edge.yaml')]);
  await waitPort(PORTS.edge, 30_000);
  await sleep(2000); // monitors see both nodes healthy

  const direct = { a: `ws://127.0.0.1:${PORTS.a}/ws?workspace=w_demo`, b: `ws://127.0.0.1:${PORTS.b}/ws?workspace=w_demo` };
  const edge = `ws://127.0.0.1:${PORTS.edge}/ws?workspace=w_demo`;
  if (ONLY.includes('direct')) results.direct = await measure('direct', [direct.a, direct.b], [`http://127.0.0.1:${PORTS.a}`, `http://127.0.0.1:${PORTS.b}`]);
  if (ONLY.includes('edge')) results.edge = await measure('edge', [edge], [`http://127.0.0.1:${PORTS.edge}`, `http://127.0.0.1:${PORTS.edge}`]);
  if (ONLY.includes('failover')) {
    let killedAt;
    results.failover = await measure('failover', [edge], [`http://127.0.0.1:${PORTS.b}`], async () => {
      await sleep(RAMP + 1000 + DURATION / 2);
      nodeA.killedOnPurpose = true;
      nodeA.kill('SIGKILL');
      killedAt = Date.now();
    });
    results.failover.killedAt = killedAt;
    // Every message a visitor had acked is stored exactly once; none stored twice.
    const sql = new Database(db, { readonly: true });
    const count = sql.prepare("SELECT COUNT(*) AS n FROM messages WHERE client_id = ? AND author_kind = 'visitor'");
    let lost = 0;
    let twice = 0;
    for (const id of results.failover.clientIds) {
      const { n } = count.get(id);
      if (n === 0) lost++;
      if (n > 1) twice++;
    }
    results.failover.lost = lost;
    results.failover.twice = twice;
    sql.close();
  }
  void nodeB;
  return results;
}

/** The one-node run: what a Desk node acks and at what cost. */
function nodeReport(x) {
  const rate = (VISITORS * 1000) / PERIOD;
  const window = DURATION / 1000;
  const [nodeCpu] = Object.values(x.cpu);
  const p99 = q(x.ackMs, 0.99);
  const met = x.acked >= 0.99 * x.sent && rate >= 2000 && p99 < 100;
  return [
    `### Desk node throughput — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`${process.env.DESK_COMMAND ?? 'DESK_ONLY=node bash bench/desk.sh'}\`: one Desk node (SQLite file, Redis fan-out), ${VISITORS.toLocaleString('en-US')} visitors`,
    `in ${PROCS} processes, a message each every ${PERIOD / 1000} s (${Math.round(rate).toLocaleString('en-US')} messages/s offered), one operator socket receiving them all,`,
    `${window} s measured; all on one 2-core machine. Ack latency: send → \`message.ack\` at the visitor, apart for each visitor's first message`,
    `(it opens the conversation: the operators get its summary first); delivery: send → \`message.new\` at the operator, every message (ms).`,
    '',
    '| sent | acked | acked/s | ack p50 | ack p99 | ack max | first message p50 | p99 | delivery p50 | delivery p99 | Desk CPU | generators CPU |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${x.sent.toLocaleString('en-US')} | ${x.acked.toLocaleString('en-US')} | ${Math.round(x.acked / window).toLocaleString('en-US')} | ${f(q(x.ackMs, 0.5))} | ${f(p99)} | ${f(Math.max(...x.ackMs))} | ${f(q(x.openMs, 0.5))} | ${f(q(x.openMs, 0.99))} | ${f(q(x.latencies, 0.5))} | ${f(q(x.latencies, 0.99))} | ${f((nodeCpu / DURATION) * 100)} % | ${f((x.generatorCpuMs / (DURATION + 2000)) * 100)} % |`,
    '',
    `CPU as % of one core over the sending window (the generators': their ${PROCS} processes together). Goal: one node acks 2,000 messages/s with p99 under 100 ms — **${met ? 'met' : 'not met'}** at ${Math.round(rate).toLocaleString('en-US')}/s offered (the ack p99 of messages after each visitor's first; the first messages, ${x.openMs.length.toLocaleString('en-US')} conversations opened within one period, are the next column).`,
    '',
  ].join('\n');
}

function report(r) {
  if (r.node && Object.keys(r).length === 1) return nodeReport(r.node);
  const lines = [
    `### Desk realtime through the edge — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`${process.env.DESK_COMMAND ?? 'bash bench/desk.sh'}\`: ${VISITORS.toLocaleString('en-US')} visitors in ${PROCS} processes, a message each every ${PERIOD / 1000} s`,
    `(${Math.round((VISITORS * 1000) / PERIOD).toLocaleString('en-US')} messages/s), ${DURATION / 1000} s measured per run; operators answer up to ${ANSWERS}/s each. Two Desk nodes`,
    '(one SQLite file, Redis fan-out), Outpost with 2 workers (least-connections, /healthz monitored, shield off);',
    'all on one 2-core machine, shared by the load generators, the edge, Desk and Redis. Latency: visitor send →',
    'operator receive (one clock), in ms.',
    '',
    '| run | messages sent | acked | reached operators | p50 | p99 | max | reconnects |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const x of Object.values(r)) {
    lines.push(
      `| ${x.label} | ${x.sent.toLocaleString('en-US')} | ${x.acked.toLocaleString('en-US')} | ${x.received.toLocaleString('en-US')} | ${f(q(x.latencies, 0.5))} | ${f(q(x.latencies, 0.99))} | ${f(Math.max(...x.latencies))} | ${x.reconnects} |`,
    );
  }
  if (r.direct && r.edge) {
    const d50 = q(r.edge.latencies, 0.5) - q(r.direct.latencies, 0.5);
    const d99 = q(r.edge.latencies, 0.99) - q(r.direct.latencies, 0.99);
    // A run where Desk fell behind (sends not acked by the end, or a median over a second)
    // measures its queue, not the edge.
    const saturated = [r.direct, r.edge].some((x) => x.acked < 0.99 * x.sent || q(x.latencies, 0.5) > 1000);
    lines.push(
      '',
      saturated
        ? `Desk fell behind (sends not acked by the end of a run, or a median over a second): the latencies are its queue, and the edge's part (${f(d99)} ms at p99) cannot be read from them.`
        : `The edge adds ${f(d50)} ms at p50 and ${f(d99)} ms at p99 (ratio ${f(q(r.edge.latencies, 0.99) / q(r.direct.latencies, 0.99))}× at p99); goal: ≤ 1 ms at p99 — **${d99 <= 1 ? 'met' : 'not met'}**.`,
    );
  }
  if (r.failover) {
    const x = r.failover;
    lines.push(
      '',
      `Failover: node A SIGKILLed half-way through; ${x.reconnects.toLocaleString('en-US')} visitor reconnects through the edge; of ${x.acked.toLocaleString('en-US')} acked messages, ` +
        `**${x.lost} lost, ${x.twice} stored twice, ${x.duplicates} delivered twice** to the operator; ${x.unacked} sends still unacked 10 s after the end (${x.sent - x.acked} sent but never acked).`,
      `Reconnect time (a visitor's socket closed → welcomed again through the edge, ${x.reconnectMs.length.toLocaleString('en-US')} reconnects): ` +
        `p50 ${f(q(x.reconnectMs, 0.5))} ms, p99 ${f(q(x.reconnectMs, 0.99))} ms, max ${f(Math.max(...x.reconnectMs))} ms (the visitors retry after 0.5 s ±25 %, doubling up to 2 s). ` +
        `Attempts that got no welcome: ${
          Object.entries(x.failedAttempts)
            .map(([why, n]) => `${why} × ${n}`)
            .join(', ') || 'none'
        }.`,
      'Its p99 and max include the messages sent while a visitor was reconnecting (kept by the visitor until it was back).',
    );
  }
  return `${lines.join('\n')}\n`;
}

main().then(
  (r) => {
    const md = report(r);
    writeFileSync(join(WORK, 'report.md'), md);
    process.stdout.write(md);
    if (process.env.BENCH_RECORD === '1') appendFileSync(join(ROOT, 'bench/RESULTS.md'), `\n${md}`);
    stopping = true;
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`desk bench: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
