/**
 * Files and emoji in the widget, in Chromium against a real Desk node that keeps files in a
 * temporary directory (as browser.test.ts, plus attachment storage): the visitor picks a PNG, it
 * uploads and goes with their text, the operator gets it and the file is served byte for byte; an
 * operator's PDF shows as a chip link; a refused type says why and uploads nothing; a pasted
 * image is attached; a message waiting offline keeps its files and its resend names them; the emoji picker works by keyboard;
 * axe finds nothing serious with files in the thread and the tray, light and dark.
 *
 * Page-side checks are strings: the test typecheck has no DOM lib. Set SCREENSHOT_DIR to keep
 * screenshots (widget-attachments*.png, widget-emoji*.png).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../src/attachments/local-storage.js';
import { seedDemo } from '../src/seed.js';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { openStore } from '../src/store/open.js';
import type { DeskStore } from '../src/store/types.js';
import { sizeLabel } from '../web/shared/upload.js';
import { en } from '../web/widget/locales/en.js';
import { fr } from '../web/widget/locales/fr.js';
import { violations } from './support/axe.js';
import { type DeskClient, type Event, login, operator, until } from './support/desk-client.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PUBLIC = fileURLToPath(new URL('../dist/public', import.meta.url));
const SHOTS = process.env.SCREENSHOT_DIR;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** The widget's shadow root, page-side. */
const SHADOW = "document.querySelector('[data-desk-widget]').shadowRoot";

/** Page-side: scrolls the thread to its first day line (the greeting above it out of sight). */
const THREAD_TOP = `(() => { const log = ${SHADOW}.querySelector('.log'); log.scrollTop += log.querySelector('.list').getBoundingClientRect().top - log.getBoundingClientRect().top; })()`;

/** A real PNG (RGB, 8 bits): a sky over a hill with a sun, for the preview to show something. */
function png(width: number, height: number): Buffer {
  const row = width * 3 + 1;
  const raw = Buffer.alloc(row * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sun = (x - width * 0.7) ** 2 + (y - height * 0.35) ** 2 < (height * 0.14) ** 2;
      const hill = y > height * 0.62 + Math.sin(x / 23) * 9;
      const rgb = sun ? [255, 214, 102] : hill ? [70, 140 - y / 6, 90] : [120 + y / 2, 170 + y / 3, 235];
      raw.set(rgb, y * row + 1 + x * 3);
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const PNG = png(240, 160);
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n% an invoice\n'), Buffer.alloc(3 * 1024, 0x20), Buffer.from('\n%%EOF\n')]);

let store: DeskStore;
let node: DeskNode;
let browser: Browser;
let base: string;
let dir: string;
let token: string;
let ops: DeskClient;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  store = await openStore('sqlite::memory:');
  await seedDemo(store);
  dir = mkdtempSync(join(tmpdir(), 'desk-widget-files-'));
  node = await startDeskNode({ port: 0, store, nodeId: 'widget-files', publicDir: PUBLIC, log: pino({ level: 'silent' }), attachments: { storage: new LocalStorage(dir) } });
  base = `http://127.0.0.1:${node.port}`;
  token = await login(base);
  ops = (await operator(base, token)).client;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await ops?.close();
  await browser?.close();
  await node?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The demo shop, welcomed, the panel open. */
async function shop(opts: { viewport?: { width: number; height: number }; locale?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: opts.viewport ?? DESKTOP, locale: opts.locale ?? 'en-US' });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.locator('.launcher').waitFor();
  await page.waitForFunction("localStorage.getItem('desk:w_demo:session') !== null");
  await page.locator('.launcher').click();
  await page.locator('.panel textarea').waitFor();
  return { context, page };
}

const pick = (page: Page, name: string, mimeType: string, buffer: Buffer) => page.locator('.composer input[type="file"]').setInputFiles({ name, mimeType, buffer });

/** The uploads the page made. */
function uploadsOf(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/attachments')) seen.push(r.url());
  });
  return seen;
}

describe('files and emoji in the widget', () => {
  let v: { context: BrowserContext; page: Page };
  let conversation: string;
  let photo: { id: string; name: string; type: string; size: number; url: string };

  it('the visitor picks a PNG: it uploads, goes with their text, reaches the operator and is served as sent; the widget shows its preview', async () => {
    v = await shop();
    const { page } = v;
    const uploads = uploadsOf(page);
    await page.locator('.attach').waitFor();
    expect(await page.locator('.attach').getAttribute('aria-label')).toBe(en.attach);
    expect(await page.locator('.composer input[type="file"]').getAttribute('accept')).toContain('image/png');

    await pick(page, 'trail.png', 'image/png', PNG);
    const chip = page.locator('.tray .chip:not(.is-uploading)', { hasText: 'trail.png' });
    await chip.waitFor();
    expect(await chip.textContent()).toContain(sizeLabel(PNG.length));
    expect(uploads).toHaveLength(1);
    expect(uploads[0]).toMatch(/[?&]workspace=w_demo&conversation=c_[^&]+&name=trail\.png$/);

    // A file alone may be sent: the send button is on before any text.
    expect(await page.locator('.send').isEnabled()).toBe(true);
    const body = 'This is where the strap came loose.';
    await page.locator('.panel textarea').fill(body);
    await page.locator('.panel textarea').press('Enter');

    const got = await ops.next((e: Event) => e.type === 'message.new' && e.message.body === body, 10_000);
    conversation = got.message.conversation;
    expect(got.message.attachments).toEqual([
      { id: expect.stringMatching(/^f_/), name: 'trail.png', type: 'image/png', size: PNG.length, url: expect.stringMatching(/^\/files\/f_[\w-]+\/trail\.png$/) },
    ]);
    photo = got.message.attachments[0];
    const file = await fetch(base + photo.url);
    expect(file.status).toBe(200);
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await file.arrayBuffer()).equals(PNG)).toBe(true);

    // The widget: the sent message with its text and its preview, a link to the file; the tray empty.
    const sent = page.locator('.msg.own[data-state="sent"]', { hasText: 'strap came loose' });
    await sent.waitFor();
    const link = sent.locator('a.file-image');
    expect(await link.getAttribute('href')).toBe(base + photo.url);
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    const img = link.locator('img');
    expect(await img.getAttribute('alt')).toBe('trail.png');
    expect(await img.getAttribute('loading')).toBe('lazy');
    expect(await img.getAttribute('src')).toBe(base + photo.url);
    // Loaded from the Desk (a same-origin page's CSP allows it): the picture as sent.
    await until(async () => (await page.evaluate(`${SHADOW}.querySelector('.msg.own a.file-image img').naturalWidth`)) === 240, 5000, 'preview loaded');
    expect(await page.locator('.tray').isHidden()).toBe(true);
    expect(await page.locator('.send').isDisabled()).toBe(true);
  }, 60_000);

  it('an operator replies with a PDF: the widget shows a chip link with its name and size, and no empty bubble', async () => {
    expect(conversation, 'needs the first test').toBeTruthy();
    const up = await fetch(`${base}/api/attachments?${new URLSearchParams({ conversation, name: 'invoice-1042.pdf' })}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf' },
      body: PDF,
    });
    expect(up.status).toBe(201);
    const { attachment } = (await up.json()) as { attachment: { id: string; url: string } };
    const reply = await fetch(`${base}/api/conversations/${conversation}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: '', clientId: 'k_invoice_1042', attachments: [attachment.id] }),
    });
    expect(reply.status).toBe(201);

    const msg = v.page.locator('.msg.them', { has: v.page.locator('a.file') });
    await msg.waitFor();
    const link = msg.locator('a.file');
    expect(await link.getAttribute('href')).toBe(base + attachment.url);
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await link.locator('.file-name').textContent()).toBe('invoice-1042.pdf');
    expect(await link.locator('.file-size').textContent()).toBe(sizeLabel(PDF.length));
    expect(await link.locator('svg').getAttribute('aria-hidden')).toBe('true');
    expect(await msg.locator('.bubble').count()).toBe(0);
  }, 60_000);

  it('a file of a type Desk refuses: the localized reason, nothing uploaded, the text kept', async () => {
    const { page } = v;
    const uploads = uploadsOf(page);
    await page.locator('.panel textarea').fill('And here is the page');
    await pick(page, 'order.html', 'text/html', Buffer.from('<html><script>alert(1)</script></html>'));
    const error = page.locator('.tray-error');
    await error.waitFor();
    expect(await error.textContent()).toBe(en.fileType('order.html'));
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await page.locator('.tray .chip').count()).toBe(0);
    expect(await page.locator('.panel textarea').inputValue()).toBe('And here is the page');
    await new Promise((r) => setTimeout(r, 300));
    expect(uploads).toEqual([]);
    await page.locator('.panel textarea').fill('');

    // In French, the same refusal in French.
    const f = await shop({ locale: 'fr-FR' });
    expect(await f.page.locator('.attach').getAttribute('aria-label')).toBe(fr.attach);
    await pick(f.page, 'commande.html', 'text/html', Buffer.from('<html></html>'));
    await f.page.locator('.tray-error').waitFor();
    expect(await f.page.locator('.tray-error').textContent()).toBe(fr.fileType('commande.html'));
    await f.context.close();
  }, 60_000);

  it('an image pasted into the textarea is attached; × takes it out and gives focus back to the textarea', async () => {
    const { page } = v;
    await page.locator('.panel textarea').focus();
    // What a browser hands the page for a pasted screenshot: a file in clipboardData, no text.
    await page.evaluate(`(() => {
      const bytes = Uint8Array.from(atob('${PNG.toString('base64')}'), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
      ${SHADOW}.querySelector('textarea').dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    })()`);
    const chip = page.locator('.tray .chip:not(.is-uploading)', { hasText: 'image.png' });
    await chip.waitFor();
    expect(await page.locator('.panel textarea').inputValue()).toBe('');
    expect(await page.locator('.send').isEnabled()).toBe(true);
    const remove = chip.locator('.chip-remove');
    expect(await remove.getAttribute('aria-label')).toBe(en.removeFile('image.png'));
    await remove.click();
    await page.locator('.tray').waitFor({ state: 'hidden' });
    expect(await page.locator('.send').isDisabled()).toBe(true);
    expect(await page.evaluate(`${SHADOW}.activeElement && ${SHADOW}.activeElement.tagName`)).toBe('TEXTAREA');
  }, 60_000);

  it('a message sent offline keeps its files: shown pending with them, and the resend names them', async () => {
    const { page, context } = v;
    await pick(page, 'label.png', 'image/png', PNG);
    await page.locator('.tray .chip:not(.is-uploading)', { hasText: 'label.png' }).waitFor();
    await context.setOffline(true);
    await page.locator('.conn:not([hidden])').waitFor();
    await page.locator('.panel textarea').fill('The shipping label, sent from the train');
    await page.locator('.panel textarea').press('Enter');
    const pending = page.locator('.msg.own[data-state="sending"]', { hasText: 'from the train' });
    await pending.waitFor();
    expect(await pending.locator('a.file-image img').getAttribute('alt')).toBe('label.png');
    const outbox = JSON.parse((await page.evaluate("localStorage.getItem('desk:w_demo:outbox')")) as string) as { attachments?: { id: string; name: string }[] }[];
    expect(outbox).toHaveLength(1);
    expect(outbox[0]!.attachments).toEqual([expect.objectContaining({ id: expect.stringMatching(/^f_/), name: 'label.png' })]);

    await context.setOffline(false);
    const got = await ops.next((e: Event) => e.type === 'message.new' && e.message.body === 'The shipping label, sent from the train', 20_000);
    expect(got.message.attachments.map((a: { id: string }) => a.id)).toEqual([outbox[0]!.attachments![0]!.id]);
    await page.locator('.msg.own[data-state="sent"]', { hasText: 'from the train' }).waitFor({ timeout: 20_000 });
    expect(await page.evaluate("localStorage.getItem('desk:w_demo:outbox')")).toBeNull();
  }, 60_000);

  it('the emoji picker inserts at the caret by keyboard, and Escape closes it and gives focus back', async () => {
    const { page } = v;
    const input = page.locator('.panel textarea');
    await input.fill('Thanks ');
    const button = page.locator('.emoji-button');
    expect(await button.getAttribute('aria-label')).toBe(en.emoji);
    await button.focus();
    await page.keyboard.press('Enter');
    const panel = page.locator('.emoji-panel');
    await panel.waitFor();
    expect(await panel.getAttribute('aria-label')).toBe(en.emojiGrid);
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    // It floats above the composer, inside the widget's panel.
    const [grid, composer, widget] = await Promise.all(['.emoji-panel', '.composer', '.panel'].map((s) => page.locator(s).boundingBox()));
    expect(grid!.y + grid!.height).toBeLessThanOrEqual(composer!.y);
    expect(grid!.x).toBeGreaterThanOrEqual(widget!.x);
    expect(grid!.x + grid!.width).toBeLessThanOrEqual(widget!.x + widget!.width);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'widget-emoji.png') });

    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await panel.waitFor({ state: 'hidden' });
    expect(await input.inputValue()).toBe('Thanks 😊');
    // A pick leaves focus in the text: typing goes on.
    expect(await page.evaluate(`${SHADOW}.activeElement && ${SHADOW}.activeElement.tagName`)).toBe('TEXTAREA');

    await button.focus();
    await page.keyboard.press('Enter');
    await panel.waitFor();
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    expect(await page.evaluate(`${SHADOW}.activeElement && ${SHADOW}.activeElement.classList.contains('emoji-button')`)).toBe(true);
    // Only the grid closed: the chat stays open.
    expect(await page.locator('.panel textarea').isVisible()).toBe(true);
    expect(await input.inputValue()).toBe('Thanks 😊');
    await input.fill('');
  }, 60_000);

  it('axe finds nothing serious with an image and a file in the thread, a file in the tray and the emoji grid open, light and dark', async () => {
    const { page } = v;
    await pick(page, 'receipt-scan.png', 'image/png', PNG);
    await page.locator('.tray .chip:not(.is-uploading)', { hasText: 'receipt-scan.png' }).waitFor();
    await page.locator('.panel textarea').fill('One more photo, of the receipt');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.locator(scheme === 'dark' ? '.dk.theme-dark' : '.dk:not(.theme-dark)').waitFor({ state: 'attached' });
      // The thread from its first message: the visitor's photo, then the operator's PDF.
      await page.evaluate(THREAD_TOP);
      await page.locator('.panel textarea').focus();
      await page.mouse.move(0, 0);
      // Before axe, which scrolls what it checks into view.
      if (SHOTS) await page.screenshot({ path: join(SHOTS, scheme === 'dark' ? 'widget-attachments-dark.png' : 'widget-attachments.png') });
      expect(await violations(page), scheme).toEqual([]);
      await page.locator('.emoji-button').click();
      await page.locator('.emoji-panel').waitFor();
      expect(await violations(page), `${scheme}, emoji grid open`).toEqual([]);
      if (SHOTS && scheme === 'dark') await page.screenshot({ path: join(SHOTS, 'widget-emoji-dark.png') });
      await page.keyboard.press('Escape');
      await page.locator('.emoji-panel').waitFor({ state: 'hidden' });
    }

    // On a 390 px phone: the panel takes the screen, nothing is wider than it.
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize(PHONE);
    await page.locator('.dk:not(.theme-dark)').waitFor({ state: 'attached' });
    await page.evaluate(THREAD_TOP);
    await page.locator('.panel textarea').focus();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'widget-attachments-phone.png') });
    expect(await violations(page), 'phone').toEqual([]);
    await v.context.close();
  }, 90_000);
});
