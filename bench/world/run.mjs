/**
 * The world simulation (`npm run bench:world`): what an edge saves a user far from the core, on
 * one machine. The world (bench/world/world.yaml) gives regions and RTTs; every path between two
 * places is a latency link (link.mjs, in its own process). Then, for each client region, a
 * scripted visitor does what a browser does when a page with the chat box opens, over real TLS:
 *
 *   connect (TCP + TLS) → GET the page → GET /widget.js → open the WebSocket (new TCP + TLS +
 *   Upgrade) → visitor.hello / welcome (chat-ready) → first message and its ack → message round
 *   trips (send → ack).
 *
 * Setups, side by side in one run:
 *   (a) direct: the client talks to the core across the world (lastMile + core RTT). The core's
 *       own front (an Outpost node in the core region, cache off) terminates TLS next to Desk.
 *   (b) PoP: the client talks to an Outpost PoP in its region (last mile); the PoP terminates TLS,
 *       serves the widget from its cache and reaches the core over a link with the region↔core
 *       RTT on warm keep-alive connections.
 *
 * Writes bench/world/RESULTS.md (a table per region, with the physical floor of each number
 * beside it) and bench/world/load-time.svg. Knobs: WORLD_RUNS (journeys per region and setup, 5),
 * WORLD_MESSAGES (round trips per journey, 10), WORLD_FILE.
 *
 * Every process it starts is stopped on exit, error or Ctrl-C; the whole run is bounded
 * (WORLD_TIMEOUT, 10 minutes).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import WebSocket from 'ws';
import { selfSigned } from '../../dist/tls/dev-certs.js';
import { loadWorld } from './world.mjs';
import { renderReport } from './report.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUNS = Number(process.env.WORLD_RUNS ?? 5);
const MESSAGES = Number(process.env.WORLD_MESSAGES ?? 10);
const TIMEOUT_MS = Number(process.env.WORLD_TIMEOUT ?? 600) * 1000;
const world = loadWorld(process.env.WORLD_FILE ?? join(ROOT, 'bench/world/world.yaml'));
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

async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

function run(name, args, opts = {}) {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d) => (out = (out + d).slice(-4000)));
  child.stderr.on('data', (d) => (out = (out + d).slice(-4000)));
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (!stopping && code !== 0) process.stderr.write(`world: ${name} exited (${code ?? signal})\n${out}\n`);
  });
  return child;
}
let stopping = false;

async function waitPort(port, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

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

function edgeYaml({ pop, region, port, admin, origin, cache }) {
  return `pop: { id: ${pop}, region: ${region} }
listen: { https: 127.0.0.1:${port}, admin: 127.0.0.1:${admin} }
workers: 1
log: { level: warn, access: false }
tls: { certificates: [{ cert: ${join(work, 'leaf.crt')}, key: ${join(work, 'leaf.key')} }] }
security: { level: "off" }
upstream: { keepAliveTimeout: 5m }
pools:
  core: { origins: [{ name: desk-core, address: "http://127.0.0.1:${origin}" }] }
loadBalancers: [{ hostname: "*", defaultPools: [core] }]
rules:
${cache ? `  - { match: "*/api/*", cache: bypass }
  - { match: "*/widget.js", cache: everything, edgeTtl: 1h, originCacheControl: false }
  - { match: "*", cache: everything }` : '  - { match: "*", cache: bypass }'}
`;
}

// ---------------------------------------------------------------------------------------------
// The journey

const ms = (t0) => performance.now() - t0;

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
    const ws = new WebSocket(`wss://127.0.0.1:${port}/ws?workspace=w_demo`, { ca, servername: 'localhost', headers: { origin, host: `localhost:${port}` } });
    const inbox = [];
    const waiters = [];
    ws.on('message', (d) => {
      const ev = JSON.parse(String(d));
      const i = waiters.findIndex((w) => w.match(ev));
      if (i >= 0) waiters.splice(i, 1)[0].resolve(ev);
      else inbox.push(ev);
    });
    const next = (match) =>
      new Promise((resolve, reject) => {
        const i = inbox.findIndex(match);
        if (i >= 0) return resolve(inbox.splice(i, 1)[0]);
        const timer = setTimeout(() => reject(new Error('no answer within 15 s')), 15_000);
        waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    steps.socket = ms(t);
    t = performance.now();
    ws.send(JSON.stringify({ type: 'visitor.hello', workspace: 'w_demo', page: `${origin}/` }));
    await next((e) => e.type === 'visitor.welcome');
    steps.hello = ms(t);
    steps.chatReady = ms(t0);

    const send = async (i) => {
      const s = performance.now();
      const clientId = `k_${process.pid}_${Math.random().toString(36).slice(2)}_${i}`;
      ws.send(JSON.stringify({ type: 'message.send', clientId, body: `message ${i}` }));
      await next((e) => e.type === 'message.ack' && e.clientId === clientId);
      return ms(s);
    };
    steps.firstMessage = await send(0);
    steps.messages = [];
    for (let i = 1; i <= MESSAGES; i++) steps.messages.push(await send(i));
    ws.close();
    return steps;
  } finally {
    await client.close().catch(() => {});
  }
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
          const nav = await page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0]; return { connect: n.connectEnd - n.connectStart, page: n.responseEnd - n.startTime }; })()");
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

  // The core: Desk and its front, in the core region.
  const deskPort = await freePort();
  run('desk-core', ['desk/dist/main.js', '--port', String(deskPort), '--db', `sqlite:${join(work, 'desk.db')}`, '--node', 'desk-core', '--seed', '--log-level', 'warn']);
  await waitPort(deskPort);
  const frontPort = await freePort();
  await outpost('core-front', frontPort, edgeYaml({ pop: 'core', region: world.core, port: frontPort, admin: await freePort(), origin: deskPort, cache: false }));

  const setups = [];
  for (const region of world.clients) {
    // In the core's region the PoP sits next to the core: no link between them.
    const toCore = region === world.core ? 0 : world.rtt(region, world.core);
    const lastMile = world.rtt(region, region);
    // (a) the client straight to the core's front: its last mile, then across the world.
    const direct = await link(lastMile + toCore, frontPort);
    // (b) the client to its PoP (last mile); the PoP to the core (region ↔ core).
    const popOrigin = region === world.core ? deskPort : await link(toCore, deskPort);
    const popPort = await freePort();
    await outpost(`pop-${region}`, popPort, edgeYaml({ pop: region, region, port: popPort, admin: await freePort(), origin: popOrigin, cache: true }));
    const pop = await link(lastMile, popPort);
    setups.push({ region, lastMile, toCore, ports: { direct, pop } });
  }

  const results = [];
  for (const s of setups) {
    for (const [setup, port] of Object.entries(s.ports)) {
      // One journey first: PoPs in production are warm (keep-alive to the core, widget cached).
      await journey(port, cert.ca);
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await journey(port, cert.ca));
      results.push({ region: s.region, setup, lastMile: s.lastMile, toCore: s.toCore, runs });
      process.stderr.write(`world: ${s.region} ${setup}: chat-ready ${Math.round(runs.reduce((a, r) => a + r.chatReady, 0) / runs.length)} ms\n`);
    }
  }
  const browser = await browserJourneys(setups);
  const out = renderReport({ world, results, browser, runs: RUNS, messages: MESSAGES });
  writeFileSync(join(ROOT, 'bench/world/RESULTS.md'), out.markdown);
  writeFileSync(join(ROOT, 'bench/world/load-time.svg'), out.svg);
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
