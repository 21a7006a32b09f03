/**
 * The world simulation (`npm run bench:world`): what an edge saves a user far from the core, on
 * one machine. The world (bench/world/world.yaml) gives regions and RTTs; every path between two
 * places is a latency link (link.mjs, in its own process). Then, for each client region, a
 * scripted visitor does what a browser does when a page with the chat box opens, over real TLS:
 *
 *   connect (TCP + TLS) → GET the page → GET /widget.js → open the WebSocket (new TCP + TLS +
 *   Upgrade) → visitor.hello / welcome (chat-ready) → first message and its ack → message round
 *   trips: send → the first answer that says the message is safe (the ack, or on a regional node
 *   `message.accepted`), and send → the core's ack (committed at the core).
 *
 * Setups, side by side in one run:
 *   (a) direct: the client talks to the core across the world (lastMile + core RTT). The core's
 *       own front (an Outpost node in the core region, cache off) terminates TLS next to Desk.
 *   (b) PoP: the client talks to an Outpost PoP in its region (last mile); the PoP terminates TLS,
 *       serves the widget from its cache and reaches the core over a link with the region↔core
 *       RTT on warm keep-alive connections, and on connections opened ahead for WebSocket
 *       upgrades (websocket.preconnect).
 *   (c) PoP + steering: the same, but the PoP's load balancer steers by proximity to the nearest
 *       healthy Desk node: a regional node in its own region (metro RTT away; desk/REGIONAL.md),
 *       which reaches the core over its own link, or the core or another region's node when that
 *       one is down (health monitors, retries across pools).
 *   (d) the nearest atlas node dies (SIGKILL) mid-conversation, for a visitor in the last client
 *       region (WORLD_FAILOVER_REGION, default oceania): what the visitor sees (the socket drops,
 *       the widget reconnects after its 0.5 s backoff and resends its outbox through the same PoP,
 *       now steered to the next nearest node), and what new visitors get afterwards.
 *
 * Desk: the core (seeded, its SQLite database next to it) in the core region and a regional node
 * in every other region, without a database: it relays each visitor to the core over a link with
 * the region↔core RTT (sockets opened beforehand), and accepts messages into its own journal
 * (desk/REGIONAL.md). Nothing a regional node answers comes from data it should not have.
 *
 * Writes bench/world/RESULTS.md (a table per region, with the physical floor of each number
 * beside it, the issue's goals checked, the difference from the previous run kept in
 * bench/world/last-run.json) and bench/world/load-time.svg. Knobs: WORLD_RUNS (journeys per
 * region and setup, 5), WORLD_MESSAGES (round trips per journey, 20), WORLD_FILE,
 * WORLD_BROWSER=0 (no Chromium), WORLD_FAILOVER=0 (no (d)), WORLD_FAILOVER_REGION (the last client),
 * WORLD_OUT (where the results go, bench/world), WORLD_SAMPLES (a file for every raw number).
 *
 * Every process it starts is stopped on exit, error or Ctrl-C; the whole run is bounded
 * (WORLD_TIMEOUT, 10 minutes).
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import WebSocket from 'ws';
import { selfSigned } from '../../dist/tls/dev-certs.js';
import { distanceKm, loadWorld } from './world.mjs';
import { renderReport } from './report.mjs';
import { freePort, waitPort } from '../lib/ports.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUNS = Number(process.env.WORLD_RUNS ?? 5);
const MESSAGES = Number(process.env.WORLD_MESSAGES ?? 20);
const TIMEOUT_MS = Number(process.env.WORLD_TIMEOUT ?? 600) * 1000;
const OUT = process.env.WORLD_OUT ?? join(ROOT, 'bench/world');
/** The world file, refused whole (every problem by its key) before anything starts. */
const world = (() => {
  try {
    return loadWorld(process.env.WORLD_FILE ?? join(ROOT, 'bench/world/world.yaml'));
  } catch (err) {
    process.stderr.write(`world: ${err.message}\n`);
    process.exit(2);
  }
})();
const work = mkdtempSync(join(tmpdir(), 'outpost-world-'));
const children = new Set();

function cleanup() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
setTimeout(() => {
  process.stderr.write(`world: not done within ${TIMEOUT_MS / 1000} s, stopping\n`);
  process.exit(1);
}, TIMEOUT_MS).unref();

function run(name, args, opts = {}) {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d) => (out = (out + d).slice(-4000)));
  child.stderr.on('data', (d) => (out = (out + d).slice(-4000)));
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (!stopping && !child.killedOnPurpose && code !== 0) process.stderr.write(`world: ${name} exited (${code ?? signal})\n${out}\n`);
  });
  return child;
}
let stopping = false;

/** A latency link process from a new port to `targetPort`; returns its port. */
async function link(rttMs, targetPort) {
  const port = await freePort();
  run(`link ${port}`, ['bench/world/link.mjs', String(port), `127.0.0.1:${targetPort}`, String(rttMs / 2)]);
  await waitPort(port);
  return port;
}

/** An Outpost node with `config` (YAML text), listening on https `port`. */
async function outpost(name, port, yaml) {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, yaml);
  run(name, ['bin/outpost.js', 'start', '-c', file]);
  await waitPort(port);
}

function edgeYaml({ pop, region, port, admin, origin, cache, steering }) {
  const loc = world.regions.get(region)?.location;
  return `pop: { id: ${pop}, region: ${region}${loc ? `, location: { lat: ${loc.lat}, lon: ${loc.lon} }` : ''} }
listen: { https: 127.0.0.1:${port}, admin: 127.0.0.1:${admin} }
workers: 1
log: { level: warn, access: false }
tls: { certificates: [{ cert: ${join(work, 'leaf.crt')}, key: ${join(work, 'leaf.key')} }] }
security: { level: "off" }
upstream: { keepAliveTimeout: 60s }   # under Desk's 65 s: the edge closes idle connections first
websocket: { preconnect: 2 }          # upgrades take a connection to the Desk node opened ahead
${
  steering
    ? steeringYaml(steering)
    : `pools:
  core: { origins: [{ name: desk-core, address: "http://127.0.0.1:${origin}" }] }
loadBalancers: [{ hostname: "*", defaultPools: [core] }]`
}
rules:
${
  cache
    ? `  - { match: "*/api/*", cache: bypass }
  - { match: "*/widget.js", cache: everything, edgeTtl: 1h, originCacheControl: false }
  - { match: "*", cache: everything }`
    : '  - { match: "*", cache: bypass }'
}
`;
}

/**
 * Setup (c): a pool per region with its Desk node (the core in the core region), each behind the
 * link from this PoP's region to that one; proximity steering orders them by distance from the
 * PoP, a monitor on /healthz takes a dead node out, and a failed connection is retried on the next
 * pool. `origins`: region → link port.
 */
function steeringYaml(origins) {
  const pools = Object.entries(origins).map(([region, port]) => {
    const { lat, lon } = world.regions.get(region).location;
    const name = region === world.core ? 'desk-core' : `desk-${region}`;
    return `  ${region}: { region: ${region}, location: { lat: ${lat}, lon: ${lon} }, monitor: healthz, origins: [{ name: ${name}, address: "http://127.0.0.1:${port}" }] }`;
  });
  return `monitors:
  healthz: { type: http, path: /healthz, interval: 5s, timeout: 2s, retries: 0, consecutiveDown: 1, consecutiveUp: 2 }
health: { passive: { consecutiveFailures: 1, baseEjectionTime: 30s } }
pools:
${pools.join('\n')}
loadBalancers:
  - { hostname: "*", defaultPools: [${Object.keys(origins).join(', ')}], fallbackPool: ${world.core}, steering: proximity,
      adaptiveRouting: { failoverAcrossPools: true } }`;
}

// ---------------------------------------------------------------------------------------------
// The journey

const ms = (t0) => performance.now() - t0;

/**
 * A visitor's WebSocket through `port` (new TCP + TLS + Upgrade), open. `next(match)` waits for
 * the next event that matches (or takes it from those already come).
 */
async function chatSocket(port, ca) {
  const origin = `https://localhost:${port}`;
  const ws = new WebSocket(`wss://127.0.0.1:${port}/ws?workspace=w_demo`, { ca, servername: 'localhost', headers: { origin, host: `localhost:${port}` } });
  const inbox = [];
  const waiters = [];
  ws.on('message', (d) => {
    const ev = JSON.parse(String(d));
    const i = waiters.findIndex((w) => w.match(ev));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(ev);
    else inbox.push(ev);
  });
  const next = (match, ms = 15_000) =>
    new Promise((resolve, reject) => {
      const i = inbox.findIndex(match);
      if (i >= 0) return resolve(inbox.splice(i, 1)[0]);
      const timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
      const onClose = () => (clearTimeout(timer), reject(new Error('socket closed')));
      ws.once('close', onClose);
      waiters.push({ match, resolve: (e) => (clearTimeout(timer), ws.off('close', onClose), resolve(e)) });
    });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  ws.on('error', () => {}); // a drop is seen as 'close'
  return { ws, next, origin };
}

/** One visitor opening the page with the chat box on `port` (TLS, SNI localhost), timed step by step. */
async function journey(port, ca) {
  // The sites are "localhost" (SNI and certificate); connections go to 127.0.0.1, where the links listen.
  const origin = `https://localhost:${port}`;
  const steps = {};
  const t0 = performance.now();
  const client = new Client(`https://127.0.0.1:${port}`, { connect: { ca, servername: 'localhost' }, pipelining: 1 });
  try {
    // TCP + TLS + the page: undici connects on the first request.
    let t = performance.now();
    const page = await client.request({ path: '/', method: 'GET', headers: { host: 'localhost', accept: 'text/html' } });
    await page.body.text();
    steps.page = ms(t);
    t = performance.now();
    const widget = await client.request({ path: '/widget.js', method: 'GET', headers: { host: 'localhost' } });
    const text = await widget.body.text();
    if (!text.includes('data-workspace')) throw new Error('widget.js is not the widget');
    steps.widget = ms(t);
    steps.widgetCache = String(widget.headers['cache-status'] ?? '');

    // The WebSocket: a new TCP + TLS connection and the Upgrade, then the hello.
    t = performance.now();
    const { ws, next } = await chatSocket(port, ca);
    steps.socket = ms(t);
    t = performance.now();
    ws.send(JSON.stringify({ type: 'visitor.hello', workspace: 'w_demo', page: `${origin}/` }));
    await next((e) => e.type === 'visitor.welcome');
    steps.hello = ms(t);
    steps.chatReady = ms(t0);

    // Until the sender hears its message is safe (the ack, or a regional node's accept: on its
    // disk), and until the core's ack (stored at the core, with its seq).
    const send = async (i) => {
      const s = performance.now();
      const clientId = `k_${process.pid}_${Math.random().toString(36).slice(2)}_${i}`;
      ws.send(JSON.stringify({ type: 'message.send', clientId, body: `message ${i}` }));
      const first = await next((e) => (e.type === 'message.ack' || e.type === 'message.accepted') && e.clientId === clientId);
      const safe = ms(s);
      if (first.type === 'message.accepted') await next((e) => e.type === 'message.ack' && e.clientId === clientId);
      return { safe, committed: ms(s) };
    };
    const firstMessage = await send(0);
    steps.firstMessage = firstMessage.safe;
    steps.messages = [];
    steps.committed = [firstMessage.committed];
    for (let i = 1; i <= MESSAGES; i++) {
      const m = await send(i);
      steps.messages.push(m.safe);
      steps.committed.push(m.committed);
    }
    ws.close();
    return steps;
  } finally {
    await client.close().catch(() => {});
  }
}

/**
 * The machine's own cost, no link on the way: message round trips (send → ack) to Desk alone
 * (plain ws) and to Desk behind one Outpost (TLS). Every measured RTT carries this above its floor.
 */
async function localCost(url, tls) {
  // Desk allows a socket a burst of 40 events, then 20 a second: 5 sockets of 20 messages.
  const rtts = [];
  for (let i = 0; i < 5; i++) rtts.push(...(await localSocket(url, tls, 20)));
  return rtts;
}

async function localSocket(url, tls, n) {
  const ws = new WebSocket(url, { ...(tls ? { ca: tls.ca, servername: 'localhost' } : {}), headers: { origin: 'https://localhost' } });
  const waiting = new Map();
  ws.on('message', (d) => {
    const ev = JSON.parse(String(d));
    // The first answer that says the message is safe: the ack, or a regional node's accept.
    const key = ev.type === 'visitor.welcome' ? 'welcome' : ev.type === 'message.ack' || ev.type === 'message.accepted' ? ev.clientId : undefined;
    waiting.get(key)?.();
  });
  const wait = (key) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${key} within 10 s`)), 10_000);
      waiting.set(key, () => (clearTimeout(t), waiting.delete(key), resolve()));
    });
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  const welcomed = wait('welcome');
  ws.send(JSON.stringify({ type: 'visitor.hello', workspace: 'w_demo', page: 'https://localhost/' }));
  await welcomed;
  const rtts = [];
  for (let i = 0; i < n; i++) {
    const clientId = `k_${process.pid}_local_${Math.random().toString(36).slice(2)}_${i}`;
    const acked = wait(clientId);
    const t = performance.now();
    ws.send(JSON.stringify({ type: 'message.send', clientId, body: `local ${i}` }));
    await acked;
    rtts.push(performance.now() - t);
  }
  ws.close();
  return rtts;
}

/**
 * The links alone, as (c) crosses them (the last mile, then the metro link) with a TCP echo at the
 * end instead of Outpost and Desk: what the machine's scheduling adds to a round trip when nothing
 * but the network emulation is on the way. 100 small writes, one at a time, after 20 not counted.
 */
async function linksAlone(lastMile, metro) {
  const port = await freePort();
  run('echo', ['-e', `require('net').createServer({ noDelay: true }, (s) => { s.on('error', () => {}); s.pipe(s); }).listen(${port}, '127.0.0.1')`]);
  await waitPort(port);
  const entry = await link(lastMile, await link(metro, port));
  const socket = net.connect(entry, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => (socket.once('connect', resolve), socket.once('error', reject)));
  const rtts = [];
  // 20 round trips first, not counted: the link processes are new (their code not yet compiled),
  // where every Outpost and Desk process had a warm-up journey before it was timed.
  for (let i = 0; i < 120; i++) {
    const t = performance.now();
    const back = new Promise((resolve) => socket.once('data', resolve));
    socket.write(`ping ${i}\n`);
    await back;
    if (i >= 20) rtts.push(performance.now() - t);
  }
  socket.destroy();
  return rtts;
}

/**
 * Setup (d): a visitor chatting through `port` (a message every MESSAGE_EVERY ms) when `kill()`
 * stops the Desk node it is on. The visitor does what the widget does (desk/web/widget/outbox.ts
 * and realtime.ts, over web/shared/connection.ts): keeps unacknowledged messages in an outbox;
 * when the socket drops it reconnects after 0.5 s (then 1, 2, 4… s), says hello with its session
 * and lastSeq, and resends the outbox (the server stores a clientId once). Returns what the
 * visitor saw, times from the kill.
 */
async function failoverJourney(port, ca, kill, { before = 2000, after = 3000 } = {}) {
  const MESSAGE_EVERY = 250;
  const sent = new Map(); // clientId → { at, ackedAt?, rtt? }
  const outbox = [];
  let hello = { type: 'visitor.hello', workspace: 'w_demo', page: `https://localhost:${port}/` };
  let sock = null;
  let lastSeq = 0;
  let conversation;
  const out = { attempts: 0 };

  const connect = async () => {
    out.attempts++;
    const s = await chatSocket(port, ca);
    s.ws.send(JSON.stringify({ ...hello, ...(conversation ? { conversation, lastSeq } : {}) }));
    const welcome = await s.next((e) => e.type === 'visitor.welcome');
    hello = { ...hello, session: welcome.session };
    conversation = welcome.conversation?.id ?? conversation;
    lastSeq = Math.max(lastSeq, welcome.conversation?.lastSeq ?? 0);
    s.ws.on('message', (d) => {
      const ev = JSON.parse(String(d));
      const m = sent.get(ev.clientId);
      // The RTT is until the message is safe (accepted by a regional node, or acked); it stays in
      // the outbox, as in the widget, until the core's ack.
      if (m && m.rtt === undefined && (ev.type === 'message.accepted' || ev.type === 'message.ack')) m.rtt = performance.now() - m.lastSentAt;
      if (ev.type !== 'message.ack') return;
      lastSeq = Math.max(lastSeq, ev.seq);
      if (m && m.ackedAt === undefined) {
        m.ackedAt = performance.now();
        const i = outbox.indexOf(ev.clientId);
        if (i >= 0) outbox.splice(i, 1);
      }
    });
    sock = s;
    for (const id of outbox) {
      sent.get(id).lastSentAt = performance.now();
      s.ws.send(JSON.stringify({ type: 'message.send', clientId: id, body: `message ${id}` }));
    }
    return s;
  };
  const reconnect = async () => {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      await new Promise((r) => setTimeout(r, delay));
      try {
        const s = await connect();
        out.readyAt = performance.now();
        s.ws.once('close', () => ((sock = null), (out.droppedAgain = true)));
        return;
      } catch (err) {
        out.lastError = String(err.message ?? err);
        if (performance.now() - out.killedAt > 30_000) throw new Error(`no chat 30 s after the kill: ${out.lastError}`);
      }
    }
  };

  const first = await connect();
  let reconnecting;
  first.ws.once('close', () => {
    sock = null;
    out.closedAt = performance.now();
    reconnecting = reconnect();
  });
  let n = 0;
  const tick = setInterval(() => {
    const clientId = `k_${process.pid}_f${n++}`;
    sent.set(clientId, { at: performance.now(), lastSentAt: performance.now(), killed: out.killedAt !== undefined });
    outbox.push(clientId);
    // Sent on the socket if the visitor has one that looks open; a dead peer is not known yet.
    if (sock && sock.ws.readyState === WebSocket.OPEN) sock.ws.send(JSON.stringify({ type: 'message.send', clientId, body: `message ${clientId}` }));
  }, MESSAGE_EVERY);
  try {
    await new Promise((r) => setTimeout(r, before));
    out.killedAt = performance.now();
    kill();
    const end = performance.now() + 30_000;
    while (out.readyAt === undefined) {
      if (performance.now() > end) throw new Error(`no chat 30 s after the kill: ${out.lastError ?? 'the socket never dropped'}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await reconnecting;
    await new Promise((r) => setTimeout(r, after));
  } finally {
    clearInterval(tick);
  }
  await new Promise((r) => setTimeout(r, 1500)); // the last acks
  sock?.ws.close();
  const all = [...sent.values()];
  const beforeKill = all.filter((m) => m.at < out.killedAt && m.rtt !== undefined).map((m) => m.rtt);
  const afterReady = all.filter((m) => m.at > out.readyAt + 100 && m.rtt !== undefined).map((m) => m.rtt);
  const stalled = all.filter((m) => m.ackedAt === undefined || m.ackedAt > out.killedAt).filter((m) => m.at < out.readyAt);
  return {
    dropSeen: out.closedAt - out.killedAt,
    chatBack: out.readyAt - out.killedAt,
    attempts: out.attempts - 1,
    sent: all.length,
    lost: all.filter((m) => m.ackedAt === undefined).length,
    delayed: stalled.length,
    longestWait: Math.max(0, ...stalled.map((m) => (m.ackedAt ?? performance.now()) - m.at)),
    rttBefore: beforeKill,
    rttAfter: afterReady,
    droppedAgain: Boolean(out.droppedAgain),
  };
}

/**
 * The same page in headless Chromium through the links, to confirm the scripted numbers: the
 * navigation's own timing, and when the widget was welcomed (its session in localStorage).
 */
async function browserJourneys(setups) {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium) || process.env.WORLD_BROWSER === '0') return [];
  const { chromium: pw } = await import('playwright-core');
  const browser = await pw.launch({ executablePath: chromium, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const out = [];
  try {
    for (const s of setups) {
      for (const [setup, port] of Object.entries(s.ports)) {
        const sample = async () => {
          // A fresh profile each time: no connection, session or cache from the previous page.
          const context = await browser.newContext({ ignoreHTTPSErrors: true });
          const page = await context.newPage();
          const t0 = Date.now();
          await page.goto(`https://localhost:${port}/`, { waitUntil: 'commit' });
          await page.waitForFunction("localStorage.getItem('desk:w_demo:session') !== null", undefined, { polling: 10, timeout: 30_000 });
          const chatReady = Date.now() - t0;
          const nav = await page.evaluate(
            "(() => { const n = performance.getEntriesByType('navigation')[0]; return { connect: n.connectEnd - n.connectStart, page: n.responseEnd - n.startTime }; })()",
          );
          await context.close();
          return { chatReady, ...nav };
        };
        await sample(); // warm-up, as for the scripted journeys
        out.push({ region: s.region, setup, ...(await sample()) });
        process.stderr.write(`world: chromium ${s.region} ${setup}: chat-ready ${out.at(-1).chatReady} ms\n`);
      }
    }
  } finally {
    await browser.close();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const cert = selfSigned(['localhost', '127.0.0.1']);
  writeFileSync(join(work, 'leaf.crt'), cert.cert);
  writeFileSync(join(work, 'leaf.key'), cert.key, { mode: 0o600 });

  // Desk: the core (seeded) in the core region; a regional node in every other region, reaching
  // the core over a link with its region's RTT to the core.
  const db = `sqlite:${join(work, 'desk.db')}`;
  const env = { ...process.env, DESK_REGIONAL_SECRET: 'world-regional-secret' };
  const desk = {}; // region → { port, child }
  const deskNode = async (region) => {
    const port = await freePort();
    const node = region === world.core ? 'desk-core' : `desk-${region}`;
    const args =
      region === world.core
        ? ['--db', db, '--seed']
        : ['--core', `http://127.0.0.1:${await link(world.rtt(region, world.core), desk[world.core].port)}`, '--journal', join(work, `journal-${region}.db`)];
    const child = run(node, ['desk/dist/main.js', '--port', String(port), '--node', node, '--log-level', 'warn', ...args], { env });
    await waitPort(port);
    desk[region] = { port, child };
  };
  await deskNode(world.core);
  for (const region of world.regions.keys()) if (region !== world.core) await deskNode(region);

  // The core's own front (setup a): TLS next to Desk, no cache.
  const frontPort = await freePort();
  await outpost('core-front', frontPort, edgeYaml({ pop: 'core', region: world.core, port: frontPort, admin: await freePort(), origin: desk[world.core].port, cache: false }));

  // A link from each client region to every region's Desk node: the metro RTT within a region.
  const hops = new Map();
  const hop = async (from, to) => {
    const key = `${from}>${to}`;
    if (!hops.has(key)) hops.set(key, await link(from === to ? world.metroRttMs : world.rtt(from, to), desk[to].port));
    return hops.get(key);
  };

  // What the machine itself adds to every round trip (no links).
  const cost = {
    desk: await localCost(`ws://127.0.0.1:${desk[world.core].port}/ws?workspace=w_demo`),
    // A regional node's accept (its journal on disk) with no link to the client; its core is far.
    regional: await localCost(`ws://127.0.0.1:${desk[[...world.regions.keys()].find((r) => r !== world.core)].port}/ws?workspace=w_demo`),
    outpost: await localCost(`wss://127.0.0.1:${frontPort}/ws?workspace=w_demo`, cert),
  };

  const setups = [];
  for (const region of world.clients) {
    const toCore = region === world.core ? world.metroRttMs : world.rtt(region, world.core);
    const lastMile = world.rtt(region, region);
    // (a) the client straight to the core's front: its last mile, then across the world.
    const direct = await link(lastMile + (region === world.core ? 0 : toCore), frontPort);
    // (b) the client to its PoP (last mile); the PoP to the core.
    const popPort = await freePort();
    await outpost(`pop-${region}`, popPort, edgeYaml({ pop: region, region, port: popPort, admin: await freePort(), origin: await hop(region, world.core), cache: true }));
    const pop = await link(lastMile, popPort);
    // (c) the client to its PoP; the PoP steers to the nearest healthy Desk node.
    const origins = {};
    for (const to of world.regions.keys()) origins[to] = await hop(region, to);
    const steerPort = await freePort();
    await outpost(`steer-${region}`, steerPort, edgeYaml({ pop: `${region}-s`, region, port: steerPort, admin: await freePort(), cache: true, steering: origins }));
    const steer = await link(lastMile, steerPort);
    const far = lastMile + (region === world.core ? 0 : toCore);
    // The nearest Desk node of setup (c) is this region's; unless it is the core, its hello crosses to the core.
    const atlasToCore = region === world.core ? 0 : toCore;
    setups.push({ region, lastMile, far, toCore, toAtlas: world.metroRttMs, atlasToCore, ports: { direct, pop, steer } });
  }

  const results = [];
  for (const s of setups) {
    for (const [setup, port] of Object.entries(s.ports)) {
      // One journey first: PoPs in production are warm (keep-alive to the core, widget cached).
      await journey(port, cert.ca);
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await journey(port, cert.ca));
      results.push({ region: s.region, setup, lastMile: s.lastMile, far: s.far, toCore: s.toCore, toAtlas: s.toAtlas, atlasToCore: s.atlasToCore, runs });
      process.stderr.write(`world: ${s.region} ${setup}: chat-ready ${Math.round(runs.reduce((a, r) => a + r.chatReady, 0) / runs.length)} ms\n`);
    }
  }
  // The machine's scheduling on the links alone, measured right after the journeys, as busy as they were.
  const mile = world.rtt(world.clients.at(-1), world.clients.at(-1));
  cost.links = await linksAlone(mile, world.metroRttMs);
  cost.linksFloor = mile + world.metroRttMs;
  const browser = await browserJourneys(setups);

  // (d) The nearest Desk node (regional) of the failover region dies while its visitor chats.
  let failover;
  const fregion = process.env.WORLD_FAILOVER_REGION ?? world.clients.at(-1);
  const fsetup = setups.find((s) => s.region === fregion);
  if (fsetup && fregion !== world.core && process.env.WORLD_FAILOVER !== '0') {
    const dead = desk[fregion];
    const seen = await failoverJourney(fsetup.ports.steer, cert.ca, () => ((dead.child.killedOnPurpose = true), dead.child.kill('SIGKILL')));
    // The next nearest Desk node, as proximity orders them from this PoP.
    const here = world.regions.get(fregion).location;
    const nextRegion = [...world.regions.keys()].filter((r) => r !== fregion).sort((a, b) => distanceKm(here, world.regions.get(a).location) - distanceKm(here, world.regions.get(b).location))[0];
    // New visitors after the death (the monitor has had a second or more to see it).
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await journey(fsetup.ports.steer, cert.ca));
    const nextToCore = nextRegion === world.core ? 0 : world.rtt(nextRegion, world.core);
    failover = { region: fregion, next: nextRegion, lastMile: fsetup.lastMile, toNext: world.rtt(fregion, nextRegion), nextToCore, seen, runs };
    process.stderr.write(`world: failover ${fregion}: chat back ${Math.round(seen.chatBack)} ms after the kill, ${seen.lost} lost\n`);
  }

  const lastRun = join(OUT, 'last-run.json');
  const previous = existsSync(lastRun) ? JSON.parse(readFileSync(lastRun, 'utf8')) : undefined;
  const out = renderReport({ world, results, browser, failover, previous, cost, runs: RUNS, messages: MESSAGES });
  writeFileSync(join(OUT, 'RESULTS.md'), out.markdown);
  writeFileSync(join(OUT, 'load-time.svg'), out.svg);
  writeFileSync(lastRun, `${JSON.stringify({ date: new Date().toISOString(), summary: out.summary }, null, 1)}\n`);
  // Every journey's raw numbers, for a closer look at a tail (not kept in the repository).
  if (process.env.WORLD_SAMPLES) writeFileSync(process.env.WORLD_SAMPLES, `${JSON.stringify({ cost, results, failover }, null, 1)}\n`);
  process.stdout.write(out.markdown);
}

main().then(
  () => {
    stopping = true;
    process.exit(0);
  },
  (err) => {
    stopping = true;
    process.stderr.write(`world: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
