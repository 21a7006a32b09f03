/**
 * "I'm Under Attack" in a real browser: headless Chromium (Debian's, driven by playwright-core)
 * opens a page under attack mode, runs the proof of work in its Web Worker, posts the answer,
 * lands on the origin's page with a clearance cookie, and that page's WebSocket then connects
 * through the edge. Two tabs at once both get through (no challenge loop).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import pino from 'pino';
import { startEdge, type Edge } from '../src/server/edge.js';
import { edgeConfig, edgeUrl, startWsOrigin, type WsOrigin } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// The origin's page: opens a WebSocket back to where it came from and shows the echo.
const APP = `<!doctype html><html><head><meta charset="utf-8"><title>Desk demo</title></head><body>
<h1 id="title">Origin page</h1><p id="ws">connecting</p>
<script>
const ws = new WebSocket('ws://' + location.host + '/ws');
ws.onopen = () => ws.send('whoami');
ws.onmessage = (e) => { document.getElementById('ws').textContent = 'ws: ' + e.data; };
ws.onerror = () => { document.getElementById('ws').textContent = 'ws failed'; };
</script></body></html>`;

let origin: WsOrigin;
let edge: Edge;
let browser: Browser;
let pageHits = 0;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  origin = await startWsOrigin({
    onRequest: (req, res) => {
      pageHits++;
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(req.url === '/favicon.ico' ? '' : APP);
    },
  });
  edge = await startEdge(edgeConfig([origin.url], { security: { level: 'under_attack', challenge: { difficulty: 14 } } }), { log: pino({ level: 'silent' }) });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await edge?.shutdown(1000);
  await origin?.close();
});

describe('under attack, in Chromium', () => {
  it('solves the challenge in the page, reaches the origin, and its WebSocket connects', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const statuses: number[] = [];
    page.on('response', (r) => {
      if (r.request().isNavigationRequest()) statuses.push(r.status());
    });
    const before = pageHits;
    await page.goto(`${edgeUrl(edge)}/app?from=test`);
    if (process.env.SCREENSHOT_DIR) {
      mkdirSync(process.env.SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, 'challenge.png') });
    }
    await page.waitForSelector('#title', { timeout: 30_000 });
    await page.waitForFunction("document.getElementById('ws')?.textContent?.startsWith('ws')", undefined, { timeout: 10_000 });
    expect(await page.textContent('#ws')).toBe('ws: ws-origin');
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/app?from=test');
    // The interstitial (503), then the answer's redirect landing on the origin's page (200).
    expect(statuses[0]).toBe(503);
    expect(statuses.at(-1)).toBe(200);
    expect(pageHits).toBeGreaterThan(before);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === '__outpost_clearance')).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    // Later navigations go straight through.
    const again = await page.goto(`${edgeUrl(edge)}/app?again=1`);
    expect(again?.status()).toBe(200);
    await context.close();
  }, 60_000);

  it('two tabs challenged at the same time both get through, without a loop', async () => {
    const context = await browser.newContext();
    const [a, b] = await Promise.all([context.newPage(), context.newPage()]);
    const navigations = { a: 0, b: 0 };
    a.on('framenavigated', (f) => {
      if (f === a.mainFrame()) navigations.a++;
    });
    b.on('framenavigated', (f) => {
      if (f === b.mainFrame()) navigations.b++;
    });
    await Promise.all([a.goto(`${edgeUrl(edge)}/tab/a`), b.goto(`${edgeUrl(edge)}/tab/b`)]);
    await Promise.all([a.waitForSelector('#title', { timeout: 30_000 }), b.waitForSelector('#title', { timeout: 30_000 })]);
    await Promise.all([a, b].map((p) => p.waitForFunction("document.getElementById('ws')?.textContent === 'ws: ws-origin'", undefined, { timeout: 10_000 })));
    // Each tab: the interstitial, then its page; nothing more after a few seconds.
    await new Promise((r) => setTimeout(r, 1500));
    expect(navigations.a).toBeLessThanOrEqual(2);
    expect(navigations.b).toBeLessThanOrEqual(2);
    expect(new URL(a.url()).pathname).toBe('/tab/a');
    expect(new URL(b.url()).pathname).toBe('/tab/b');
    await context.close();
  }, 60_000);
});
