/**
 * Desk behind the edge, as `npm start` runs it: examples/demo.yaml itself (pools, least-connections
 * steering, cookie affinity, page rules, shield), with only its ports and origin addresses moved to
 * free ones; two Desk nodes in the eu-west pool share a SQLite file (and fan out through it), the
 * core; one regional node in ap-southeast relays to them. In headless Chromium a visitor on the shop page and an operator in the inbox,
 * both through the edge, exchange messages; the widget is served from the edge's cache and the API
 * is not; then the visitor's node dies and its chat reconnects through the edge to another node,
 * nothing lost.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { startEdge, type Edge } from '../../src/server/edge.js';
import { seedDemo } from '../src/seed.js';
import { startRegionalNode, type RegionalNode } from '../src/regional/regional-node.js';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { openStore } from '../src/store/open.js';
import type { DeskStore } from '../src/store/types.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PUBLIC = fileURLToPath(new URL('../dist/public', import.meta.url));
const DEMO = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'desk-edge-'));
const dbFile = join(dir, 'desk.db');
const stores: DeskStore[] = [];
const nodes = new Map<string, DeskNode | RegionalNode>();
const SECRET = 'behind-edge-regional-secret';
let edge: Edge;
let browser: Browser;
let base: string;

async function startNode(name: string): Promise<DeskNode> {
  const store = await openStore(`sqlite:${dbFile}`);
  stores.push(store);
  if (stores.length === 1) await seedDemo(store);
  const node = await startDeskNode({ port: 0, store, nodeId: name, publicDir: PUBLIC, sharedSqlite: dbFile, log: pino({ level: 'silent' }), regionalSecret: SECRET });
  nodes.set(name, node);
  return node;
}

/** The demo's Singapore node: regional, relaying to the core's two nodes. */
async function startRegional(name: string, core: string[]): Promise<RegionalNode> {
  const node = await startRegionalNode({ port: 0, core, secret: SECRET, journal: join(dir, `${name}.journal.db`), nodeId: name, publicDir: PUBLIC, log: pino({ level: 'silent' }) });
  nodes.set(name, node);
  return node;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  for (const name of ['desk-fra-1', 'desk-fra-2']) await startNode(name);
  await startRegional(
    'desk-sin-1',
    ['desk-fra-1', 'desk-fra-2'].map((n) => `http://127.0.0.1:${nodes.get(n)!.port}`),
  );

  // The demo's config, on free ports: nothing else changes.
  const raw = YAML.parse(readFileSync(DEMO, 'utf8')) as Record<string, any>;
  raw.listen = { http: '127.0.0.1:0', admin: '127.0.0.1:0' };
  delete raw.tls;
  raw.workers = 1;
  raw.log = { level: 'silent', access: false };
  raw.cache.disk = { path: join(dir, 'cache'), maxSize: '64MiB' };
  raw.monitors.healthz.interval = '500ms';
  for (const pool of Object.values(raw.pools) as { origins: { name: string; address: string }[] }[]) {
    for (const o of pool.origins) o.address = `http://127.0.0.1:${nodes.get(o.name)!.port}`;
  }
  const file = join(dir, 'demo.yaml');
  writeFileSync(file, YAML.stringify(raw));
  const loaded = parseConfig(readFileSync(file, 'utf8'), file);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  edge = await startEdge(loaded.config, { log: pino({ level: 'silent' }) });
  base = `http://localhost:${edge.addresses.http!.port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await edge?.shutdown(0);
  await Promise.all([...nodes.values()].map((n) => n.close()));
  await Promise.all(stores.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

interface Side {
  context: BrowserContext;
  page: Page;
}

async function open(path: string, site = base): Promise<Side> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${site}${path}`);
  return { context, page };
}

/** The operator inbox, signed in as Ada. */
async function inbox(): Promise<Side> {
  const side = await open('/inbox.html');
  await side.page.locator('#signin-email').fill('ada@acme.test');
  await side.page.locator('#signin-password').fill('demo-password');
  await side.page.locator('#signin-submit').click();
  return side;
}

/** The shop page on `site` with the chat box open, its widget welcomed. */
async function shop(site: string): Promise<Side> {
  const visitor = await open('/', site);
  await visitor.page.locator('.launcher').waitFor();
  await visitor.page.waitForFunction("localStorage.getItem('desk:w_demo:session') !== null");
  await visitor.page.locator('.launcher').click();
  return visitor;
}

/** The visitor writes `said` (shown as sent); an operator opens it in the inbox and answers `answer`, which the visitor sees. */
async function exchange(visitor: Side, said: string, answer: string): Promise<Side> {
  await visitor.page.locator('.panel textarea').fill(said);
  await visitor.page.locator('.panel textarea').press('Enter');
  await visitor.page.locator('.msg.own[data-state="sent"]', { hasText: said }).waitFor();
  const operator = await inbox();
  await operator.page.locator('.conv', { hasText: said }).click();
  await operator.page.locator('.msg.in', { hasText: said }).waitFor();
  await operator.page.locator('#composer-input').fill(answer);
  await operator.page.locator('#composer-input').press('Enter');
  await visitor.page.locator('.msg.them', { hasText: answer }).waitFor();
  return operator;
}

/** The Desk node a browser is pinned to, from the edge's affinity cookie (`pool/origin|expiry`). */
async function pinnedNode(side: Side): Promise<string> {
  const cookie = (await side.context.cookies()).find((c) => c.name === '__outpost_lb');
  expect(cookie).toBeDefined();
  const pin = Buffer.from(cookie!.value.split('.')[0]!, 'base64url').toString();
  return pin.split('|')[0]!.split('/')[1]!;
}

describe('Desk behind the edge (the npm start demo config)', () => {
  it('the widget comes from the edge cache, the API is never cached', async () => {
    const first = await fetch(`${base}/widget.js`);
    await first.arrayBuffer();
    const second = await fetch(`${base}/widget.js`);
    expect(await second.text()).toContain('data-workspace');
    expect(second.headers.get('cache-status')).toMatch(/hit/);
    const login = () => fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ada@acme.test', password: 'demo-password' }) });
    const [a, b] = [await login(), await login()];
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.headers.get('cache-status') ?? '').not.toMatch(/hit/);
    expect(((await a.json()) as { token: string }).token).not.toBe(((await b.json()) as { token: string }).token);
  });

  it("a visitor and an operator talk through the edge; the visitor's node dies and the chat goes on elsewhere, nothing lost", async () => {
    const visitor = await shop(base);
    const operator = await exchange(visitor, 'Hello through the edge', 'Hi! Answered from the inbox.');

    // Both browsers are pinned to an eu-west node (proximity from the fra PoP); kill the visitor's.
    const pinned = await pinnedNode(visitor);
    expect(['desk-fra-1', 'desk-fra-2']).toContain(pinned);
    await nodes.get(pinned)!.close();
    nodes.delete(pinned);

    // Meanwhile the operator answers, once its inbox is connected (it was on the same node, maybe).
    await operator.page.locator('#conn').waitFor({ state: 'hidden', timeout: 20_000 });
    await operator.page.locator('#composer-input').fill('Still here after the node went away.');
    await operator.page.locator('#composer-input').press('Enter');
    await visitor.page.locator('.msg.them', { hasText: 'after the node went away' }).waitFor({ timeout: 20_000 });
    // The visitor writes again: it reaches the operator once.
    await visitor.page.locator('.panel textarea').fill('Great, thanks!');
    await visitor.page.locator('.panel textarea').press('Enter');
    await operator.page.locator('.msg.in', { hasText: 'Great, thanks!' }).waitFor({ timeout: 20_000 });
    expect(await operator.page.locator('.msg.in', { hasText: 'Great, thanks!' }).count()).toBe(1);
    expect(await visitor.page.locator('.msg.them', { hasText: 'after the node went away' }).count()).toBe(1);
    // The browser now sticks to a live node.
    expect(await pinnedNode(visitor)).not.toBe(pinned);
    await visitor.context.close();
    await operator.context.close();
  }, 60_000);

  it('a visitor on ap.localhost chats through the Singapore regional node, whose core is the node still alive', async () => {
    // The test before killed one of the two core nodes: the regional node now relays to the other.
    const visitor = await shop(base.replace('localhost', 'ap.localhost'));
    expect(await pinnedNode(visitor)).toBe('desk-sin-1');
    const operator = await exchange(visitor, 'Hello from Singapore', 'Hello Singapore, Frankfurt here.');
    expect(await operator.page.locator('.msg.in', { hasText: 'Hello from Singapore' }).count()).toBe(1);
    await visitor.context.close();
    await operator.context.close();
  }, 60_000);
});
