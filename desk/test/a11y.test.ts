import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import pino from 'pino';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { seedDemo } from '../src/seed.js';
import { openStore } from '../src/store/open.js';
import type { DeskStore } from '../src/store/types.js';
import { violations } from './support/axe.js';
import { visitor } from './support/desk-client.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PUBLIC = fileURLToPath(new URL('../dist/public', import.meta.url));
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

let store: DeskStore;
let node: DeskNode;
let browser: Browser;
let base: string;

beforeAll(async () => {
  store = await openStore('sqlite::memory:');
  await seedDemo(store);
  node = await startDeskNode({ port: 0, store, nodeId: 'a11y', publicDir: PUBLIC, log: pino({ level: 'silent' }) });
  base = `http://127.0.0.1:${node.port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  // Two conversations with messages, so the inbox has a list and a thread to check.
  for (const body of ['Where is my order #1042?', 'Do you ship to Canada?']) {
    const v = await visitor(base);
    v.client.send({ type: 'message.send', clientId: `k_${body.length}`, body });
    await v.client.next('message.ack');
    await v.client.close();
  }
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await node?.close();
  await store?.close();
});

type Scheme = 'light' | 'dark';

async function signedIn(viewport: { width: number; height: number }, colorScheme: Scheme = 'light'): Promise<Page> {
  const context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  await page.goto(`${base}/inbox.html`);
  await page.locator('#signin-email').fill('ada@acme.test');
  await page.locator('#signin-password').fill('demo-password');
  await page.locator('#signin-submit').click();
  await page.locator('.conv', { hasText: 'Canada' }).waitFor();
  return page;
}

async function shop(viewport: { width: number; height: number }, colorScheme: Scheme = 'light'): Promise<Page> {
  const context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.locator('.launcher').waitFor();
  await page.waitForFunction("localStorage.getItem('desk:w_demo:session') !== null");
  await page.locator('.launcher').click();
  await page.locator('.panel textarea').waitFor();
  return page;
}

const width = (page: Page) => page.evaluate('document.documentElement.scrollWidth') as Promise<number>;

describe('the inbox', () => {
  for (const [name, viewport, scheme] of [
    ['desktop', DESKTOP, 'light'],
    ['a 390 px phone', PHONE, 'light'],
    ['desktop, dark', DESKTOP, 'dark'],
  ] as const) {
    it(`has no serious or critical axe violation on ${name}, the list and a conversation open`, async () => {
      const page = await signedIn(viewport, scheme);
      expect(await violations(page)).toEqual([]);
      await page.locator('.conv', { hasText: 'Canada' }).click();
      await page.locator('.msg', { hasText: 'Canada' }).waitFor();
      expect(await violations(page)).toEqual([]);
      if (scheme === 'dark') {
        expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(17, 19, 21)');
        if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/inbox-dark.png` });
      }
      await page.context().close();
    }, 60_000);
  }

  it('fits a 390 px phone: no sideways scrolling, in the list or in a conversation', async () => {
    const page = await signedIn(PHONE);
    expect(await width(page)).toBeLessThanOrEqual(PHONE.width);
    // Nothing cut inside either: no element of the list column is wider than the screen.
    const widest = "Math.max(...[...document.querySelectorAll('.col-list *')].map((e) => e.getBoundingClientRect().right))";
    expect(await page.evaluate(widest)).toBeLessThanOrEqual(PHONE.width);
    if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/inbox-phone.png` });
    await page.locator('.conv', { hasText: 'Canada' }).click();
    await page.locator('#composer-input').waitFor();
    expect(await width(page)).toBeLessThanOrEqual(PHONE.width);
    await page.context().close();
  }, 60_000);

  it('is one Tab stop for the conversation list, arrow keys move in it, and sign-in leaves focus in the app', async () => {
    const page = await signedIn(DESKTOP);
    await page.waitForFunction("document.activeElement && document.activeElement.closest('#conv-list') !== null");
    const tabbable = await page.evaluate("[...document.querySelectorAll('#conv-list .conv')].filter((e) => e.tabIndex >= 0).length");
    expect(tabbable).toBe(1);
    await page.keyboard.press('ArrowDown');
    const second = await page.evaluate("document.activeElement && document.activeElement.closest('.conv') && document.activeElement.closest('.conv').textContent");
    await page.keyboard.press('ArrowUp');
    const first = await page.evaluate("document.activeElement && document.activeElement.closest('.conv') && document.activeElement.closest('.conv').textContent");
    expect(first).not.toBe(second);
    await page.keyboard.press('Enter');
    await page.locator('.conv[aria-selected="true"]').waitFor();
    await page.context().close();
  }, 60_000);
});

describe('the widget', () => {
  for (const [name, viewport, scheme] of [
    ['desktop', DESKTOP, 'light'],
    ['a 390 px phone', PHONE, 'light'],
    ['desktop, dark (data-theme auto follows the system)', DESKTOP, 'dark'],
  ] as const) {
    it(`has no serious or critical axe violation on ${name}, open`, async () => {
      const page = await shop(viewport, scheme);
      const dark = "document.querySelector('[data-desk-widget]').shadowRoot.querySelector('.dk').classList.contains('theme-dark')";
      expect(await page.evaluate(dark)).toBe(scheme === 'dark');
      await page.locator('.panel textarea').fill('Hello there');
      await page.locator('.panel textarea').press('Enter');
      await page.locator('.msg.own[data-state="sent"]').waitFor();
      expect(await violations(page)).toEqual([]);
      // The messages are a list (its semantics kept) inside the live region.
      expect(await page.locator('[role="log"] > ol.list > li.msg').count()).toBeGreaterThan(0);
      if (process.env.SCREENSHOT_DIR && name !== 'desktop') await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/widget-${scheme === 'dark' ? 'dark' : 'phone'}.png` });
      await page.context().close();
    }, 60_000);
  }

  it('keeps focus inside while it covers a phone, and gives it back to the launcher when closed', async () => {
    const page = await shop(PHONE);
    const inside =
      "(() => { const host = document.querySelector('[data-desk-widget]'); const a = host && host.shadowRoot && host.shadowRoot.activeElement; return a ? a.closest('.panel') !== null : false; })()";
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate(inside), `Tab ${i + 1}`).toBe(true);
    }
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(inside)).toBe(true);
    await page.keyboard.press('Escape');
    await page.locator('.panel textarea').waitFor({ state: 'hidden' });
    expect(
      await page.evaluate(
        "(() => { const host = document.querySelector('[data-desk-widget]'); return host.shadowRoot.activeElement && host.shadowRoot.activeElement.classList.contains('launcher'); })()",
      ),
    ).toBe(true);
    await page.context().close();
  }, 60_000);
});
