import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import pino from 'pino';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { seedDemo } from '../src/seed.js';
import { openStore } from '../src/store/open.js';
import type { DeskStore } from '../src/store/types.js';
import { violations } from './support/axe.js';
import { until, visitor } from './support/desk-client.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PUBLIC = fileURLToPath(new URL('../dist/public', import.meta.url));
const SHOTS = process.env.SCREENSHOT_DIR;

let store: DeskStore;
let node: DeskNode;
let browser: Browser;
let base: string;
let conversation: string;
const cspViolations: string[] = [];

beforeAll(async () => {
  store = await openStore('sqlite::memory:');
  await seedDemo(store);
  node = await startDeskNode({ port: 0, store, nodeId: 'inbox-labels', publicDir: PUBLIC, log: pino({ level: 'silent' }) });
  base = `http://127.0.0.1:${node.port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const v = await visitor(base);
  v.client.send({ type: 'message.send', clientId: 'k_labels', body: 'My invoice shows the wrong VAT number' });
  await v.client.next('message.ack');
  conversation = v.conversation;
  await v.client.close();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await node?.close();
  await store?.close();
});

async function signIn(viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await page.goto(`${base}/inbox.html`);
  await page.locator('#signin-email').fill('ada@acme.test');
  await page.locator('#signin-password').fill('demo-password');
  await page.locator('#signin-submit').click();
  await page.locator('.filter[data-filter="open"]').waitFor();
  return page;
}

/** Waits for the page (a loaded machine runs four Chromium suites at once). */
const poll = <T>(f: () => T | Promise<T>) => expect.poll(f, { timeout: 5000 });

const stored = async () => (await store.getConversation(conversation))!;

describe('inbox labels and snooze', () => {
  it('labels, snoozes and wakes a conversation from the details panel', async () => {
    const page = await signIn({ width: 1440, height: 860 });
    const row = page.locator(`.conv[data-id="${conversation}"]`);
    await row.click();
    await page.locator('#label-input').waitFor();

    await page.locator('#label-input').fill('billing');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator('#label-input').fill('  VIP ');
    await page.locator('#label-input').press('Enter');
    await until(async () => (await stored()).labels.join() === 'billing,VIP', 5000, 'two labels stored');
    await poll(() => row.locator('.label-chip').allTextContents()).toEqual(['billing', 'VIP']);
    await poll(() => page.locator('.label-list .label-chip').allTextContents()).toEqual(['billing', 'VIP']);

    await page.getByRole('button', { name: 'Remove label billing' }).click();
    await until(async () => (await stored()).labels.join() === 'VIP', 5000, 'one label removed');
    await poll(() => row.locator('.label-chip').allTextContents()).toEqual(['VIP']);
    for (const l of ['refund', 'priority', 'eu']) {
      await page.locator('#label-input').fill(l);
      await page.locator('#label-input').press('Enter');
      await poll(() => page.locator('.label-list .label-chip').count()).toBeGreaterThan(0);
      await until(async () => (await stored()).labels.includes(l), 5000, `label ${l}`);
    }
    // At most three in the row, then "+n".
    await poll(() => row.locator('.label-chip').allTextContents()).toEqual(['VIP', 'refund', 'priority', '+1']);

    // The snooze menu, by keyboard: opens on its first item, arrows move, Escape closes onto the button.
    const button = page.locator('#snooze-button');
    await button.focus();
    await button.press('Enter');
    await poll(() => page.evaluate('document.activeElement?.dataset.snooze')).toBe('hour');
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    await page.keyboard.press('ArrowDown');
    await poll(() => page.evaluate('document.activeElement?.dataset.snooze')).toBe('tomorrow');
    await page.keyboard.press('End');
    await poll(() => page.evaluate('document.activeElement?.dataset.snooze')).toBe('monday');
    expect(await violations(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await poll(() => page.locator('#snooze-menu').isHidden()).toBe(true);
    await poll(() => page.evaluate('document.activeElement?.id')).toBe('snooze-button');

    const before = Date.now();
    await button.click();
    await page.getByRole('menuitem', { name: /1 hour/ }).click();
    await until(async () => ((await stored()).snoozedUntil ?? 0) >= before + 3_600_000 - 1000, 5000, 'snoozed for an hour');
    await page.locator('.snooze-until').waitFor();
    expect(await page.locator('.snooze-until').textContent()).toMatch(/^Snoozed until /);
    await poll(() => row.count()).toBe(0); // out of Open
    await page.locator('.filter[data-filter="snoozed"]').click();
    await row.waitFor();
    expect(await page.locator('.filter[data-filter="snoozed"] .count').textContent()).toBe('1');
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'inbox-labels.png') });

    await page.getByRole('button', { name: 'Wake' }).click();
    await until(async () => (await stored()).snoozedUntil == null, 5000, 'awake');
    await poll(() => row.count()).toBe(0); // out of Snoozed
    await page.locator('.filter[data-filter="open"]').click();
    await row.waitFor();
    await page.locator('#snooze-button').waitFor();
    await page.context().close();
  }, 60_000);

  it('shows a server refusal as a toast', async () => {
    const page = await signIn({ width: 1440, height: 860 });
    await page.locator(`.conv[data-id="${conversation}"]`).click();
    await page.locator('#label-input').waitFor();
    // Past the input's maxlength, as a script could: the server refuses it.
    await page.evaluate(`(() => { const i = document.getElementById('label-input'); i.removeAttribute('maxlength'); i.value = '${'x'.repeat(41)}'; })()`);
    await page.locator('#label-input').press('Enter');
    await page.locator('#toast.show').waitFor();
    expect((await stored()).labels).not.toContain('x'.repeat(41));
    await page.context().close();
  }, 30_000);

  it('fits a 360 px phone with labels in the list', async () => {
    const page = await signIn({ width: 360, height: 740 });
    await page.locator(`.conv[data-id="${conversation}"] .conv-labels`).waitFor();
    const wide = await page.evaluate(
      `[...document.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > 361).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 10)`,
    );
    expect(wide).toEqual([]);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    const box = await page.locator(`.conv[data-id="${conversation}"]`).boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(360);
    await page.context().close();
  }, 30_000);

  it('broke no Content-Security-Policy rule', () => {
    expect(cspViolations).toEqual([]);
  });
});
