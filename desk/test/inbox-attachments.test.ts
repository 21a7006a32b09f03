/**
 * Files and emoji in the inbox, in Chromium (playwright-core) against a real Desk node on port 0
 * that takes attachments (LocalStorage in a temporary directory): a visitor's image shows in the
 * thread as a preview and in the list as "📎 photo.png"; the operator attaches a PDF with the
 * paperclip and sends it with words, and the visitor gets the same bytes; a file refused by type
 * or size never goes up; a message of files alone sent while offline keeps its files and goes
 * once with the same ids when the network is back; the emoji picker works from the keyboard; axe
 * finds nothing serious with images, files, the tray and the picker on screen, light and dark; the
 * inbox fits a 360 px phone with all of it.
 *
 * Page-side checks are strings: the test typecheck has no DOM lib. Set SCREENSHOT_DIR to keep
 * screenshots (inbox-attachments*.png, inbox-emoji.png, inbox-phone-360*.png).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../src/attachments/local-storage.js';
import { seedDemo } from '../src/seed.js';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { openStore } from '../src/store/open.js';
import type { DeskStore } from '../src/store/types.js';
import { violations } from './support/axe.js';
import { type Visitor, visitor } from './support/desk-client.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PUBLIC = fileURLToPath(new URL('../dist/public', import.meta.url));
const SHOTS = process.env.SCREENSHOT_DIR;
/** The visitor's conversation (the first test makes it), which the others open. */
let conversation = '';
const DESKTOP = { width: 1440, height: 860 };
const PHONE = { width: 360, height: 740 };

const PHOTO = photoPng(240, 160);
const PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% the invoice, as a test sees it\n%%EOF\n');

let store: DeskStore;
let node: DeskNode;
let browser: Browser;
let base: string;
let dir: string;

beforeAll(async () => {
  store = await openStore('sqlite::memory:');
  await seedDemo(store);
  dir = mkdtempSync(join(tmpdir(), 'desk-inbox-files-'));
  node = await startDeskNode({ port: 0, store, nodeId: 'inbox-files', publicDir: PUBLIC, log: pino({ level: 'silent' }), attachments: { storage: new LocalStorage(dir) } });
  base = `http://127.0.0.1:${node.port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await node?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Scheme = 'light' | 'dark';

/** The inbox signed in; with `conversation`, that one opened (from the URL's hash, as a link to it does). */
async function signedIn(viewport: { width: number; height: number }, colorScheme: Scheme = 'light', conversation = ''): Promise<Page> {
  const context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  await page.goto(`${base}/inbox.html${conversation && `#${conversation}`}`);
  await page.locator('#signin-email').fill('ada@acme.test');
  await page.locator('#signin-password').fill('demo-password');
  await page.locator('#signin-submit').click();
  await page.locator('.filter[data-filter="open"]').waitFor();
  return page;
}

/** The conversation with the photo and the invoice, opened; the thread's image loaded, the welcome's policy known (the paperclip shows). */
async function openThread(viewport: { width: number; height: number }, colorScheme: Scheme = 'light'): Promise<Page> {
  const page = await signedIn(viewport, colorScheme, conversation);
  await page.locator('.msg .file-chip', { hasText: 'invoice.pdf' }).waitFor();
  await page.locator('.attach-button').waitFor();
  await imageLoaded(page);
  return page;
}

/**
 * The thread's first image, decoded (0 until then). Polled from here: page.waitForFunction with a
 * string polls by eval in the page, which the inbox's CSP refuses (no 'unsafe-eval').
 */
const naturalWidth = (page: Page) => page.evaluate("document.querySelector('.att-image img') ? document.querySelector('.att-image img').naturalWidth : 0") as Promise<number>;

async function imageLoaded(page: Page): Promise<void> {
  await expect.poll(() => naturalWidth(page)).toBeGreaterThan(0);
}

/** A file in the tray, uploaded. */
async function attach(page: Page, file: { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
  await page.locator('#composer-file').setInputFiles(file);
  await page.locator('.tray-item:not(.uploading)', { hasText: file.name }).waitFor();
}

/** Where a link of the inbox leads. */
async function resolved(link: Locator): Promise<string> {
  return new URL((await link.getAttribute('href')) ?? '', `${base}/inbox.html`).href;
}

/** Files the node has stored (whatever its layout under the directory). */
const stored = () => (readdirSync(dir, { recursive: true }) as string[]).filter((name) => statSync(join(dir, name)).isFile()).sort();

describe('files in the inbox', () => {
  let v: Visitor;

  it("shows a visitor's image as a preview in the thread, and in the list as 📎 and its name", async () => {
    const page = await signedIn(DESKTOP);
    v = await visitor(base);
    conversation = v.conversation;
    const res = await fetch(`${base}/api/attachments?${new URLSearchParams({ workspace: 'w_demo', conversation: v.conversation, name: 'photo.png' })}`, {
      method: 'POST',
      headers: { 'x-desk-visitor': v.session, 'content-type': 'image/png' },
      body: PHOTO,
    });
    expect(res.status).toBe(201);
    const { attachment } = (await res.json()) as { attachment: { id: string; url: string } };
    v.client.send({ type: 'message.send', clientId: 'k_photo', body: '', attachments: [attachment.id] });
    await v.client.next('message.ack');

    const row = page.locator('.conv', { hasText: '📎 photo.png' });
    await row.waitFor();
    expect(await row.locator('.conv-excerpt').textContent()).toBe('📎 photo.png');
    await row.click();
    const link = page.locator('.msg.in a.att-image');
    await link.waitFor();
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await resolved(link)).toBe(base + attachment.url);
    const img = link.locator('img');
    expect(await img.getAttribute('alt')).toBe('photo.png');
    expect(await img.getAttribute('loading')).toBe('lazy');
    // Loaded under the inbox's CSP (img-src 'self'), decoded: a real PNG, 240 × 160.
    await expect.poll(() => naturalWidth(page)).toBe(240);
    // A message of files alone: no empty bubble.
    expect(
      await page
        .locator('.msg.in')
        .filter({ has: page.locator('.att-image') })
        .locator('.msg-body')
        .count(),
    ).toBe(0);
    await page.context().close();
  }, 60_000);

  it('sends a PDF the operator picks, with words: the visitor gets the message and the same bytes', async () => {
    expect(v, 'needs the first test').toBeTruthy();
    const page = await signedIn(DESKTOP, 'light', conversation);
    await page.locator('.msg.in .att-image').waitFor();
    // The list's summary names no files; the thread, once loaded, does.
    await page.locator('.conv[aria-selected="true"] .conv-excerpt', { hasText: '📎 photo.png' }).waitFor();
    const send = page.locator('#composer-send');
    expect(await send.isDisabled()).toBe(true);
    // The paperclip opens a file input that takes what the welcome allows, several at once.
    await page.locator('button[aria-label="Attach a file"]').waitFor();
    const input = page.locator('#composer-file');
    expect(await input.getAttribute('accept')).toContain('application/pdf');
    expect(await input.getAttribute('multiple')).toBe('');
    expect(await input.isHidden()).toBe(true);

    await attach(page, { name: 'invoice.pdf', mimeType: 'application/pdf', buffer: PDF });
    expect(await page.locator('.tray-item', { hasText: 'invoice.pdf' }).textContent()).toContain(`${PDF.length} B`);
    expect(await send.isEnabled()).toBe(true);
    await page.locator('#composer-input').fill('Here is your invoice');
    await page.locator('#composer-input').press('Enter');

    const got = await v.client.next((e) => e.type === 'message.new' && e.message.body === 'Here is your invoice');
    expect(got.message.attachments).toEqual([{ id: expect.stringMatching(/^f_/), name: 'invoice.pdf', type: 'application/pdf', size: PDF.length, url: expect.stringMatching(/^\/files\//) }]);
    const file = await fetch(base + got.message.attachments[0].url);
    expect(Buffer.from(await file.arrayBuffer()).equals(PDF)).toBe(true);

    // In the thread: the words, then the file as a chip link; the tray is empty again, Send off.
    const chip = page.locator('.msg.out', { hasText: 'Here is your invoice' }).locator('a.file-chip');
    await chip.waitFor();
    expect(await chip.textContent()).toBe(`invoice.pdf${PDF.length} B`);
    expect(await resolved(chip)).toBe(base + got.message.attachments[0].url);
    expect(await chip.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await page.locator('.tray').isHidden()).toBe(true);
    expect(await send.isDisabled()).toBe(true);
    await page.context().close();
  }, 60_000);

  it('refuses a file of a type not accepted, or too large, at once and says why: nothing goes up', async () => {
    const page = await openThread(DESKTOP);
    const uploads: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/attachments')) uploads.push(r.url());
    });
    const before = stored();
    await page.locator('#composer-file').setInputFiles({ name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<script>alert(1)</script>') });
    const error = page.locator('#composer-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('“page.html” can’t be attached: files of this type are not accepted.');
    expect(await error.getAttribute('role')).toBe('alert');
    await page.locator('#composer-file').setInputFiles({ name: 'huge.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(10 * 1024 * 1024 + 1, 0x25) });
    await page.locator('#composer-error', { hasText: 'too large' }).waitFor();
    expect(await error.textContent()).toBe('“huge.pdf” is too large: at most 10 MB per file.');
    expect(await page.locator('.tray').isHidden()).toBe(true);
    expect(await page.locator('#composer-send').isDisabled()).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(uploads).toEqual([]);
    expect(stored()).toEqual(before);
    await page.context().close();
  }, 60_000);

  it('a message of files alone, sent offline, keeps its files and goes once, same ids, when the network is back', async () => {
    const page = await openThread(DESKTOP);
    await attach(page, { name: 'receipt.png', mimeType: 'image/png', buffer: PHOTO });
    await page.locator('.tray-thumb').waitFor();
    await page.context().setOffline(true);
    await page.locator('#conn:not([hidden])').waitFor();
    await page.locator('#composer-send').click();
    const pending = page.locator('.msg.out[data-state="sending"]');
    await pending.locator('a.att-image img[alt="receipt.png"]').waitFor();
    expect(await pending.locator('.msg-body').count()).toBe(0);
    await page.context().setOffline(false);
    const got = await v.client.next((e) => e.type === 'message.new' && e.message.attachments[0]?.name === 'receipt.png', 20_000);
    expect(got.message.body).toBe('');
    await page.locator('.msg.out[data-state="stored"] a.att-image img[alt="receipt.png"]').waitFor();
    await v.client.none((e) => e.type === 'message.new' && e.message.attachments[0]?.name === 'receipt.png', 500);
    const messages = await store.messagesAfter(v.conversation, 0);
    expect(messages.filter((m) => m.attachments.some((a) => a.name === 'receipt.png'))).toHaveLength(1);
    await page.context().close();
  }, 60_000);

  it('the emoji picker inserts at the caret from the keyboard, and Escape gives focus back to its button', async () => {
    const page = await openThread(DESKTOP);
    const input = page.locator('#composer-input');
    await input.fill('Thanks ');
    const button = page.locator('.emoji-button');
    expect(await button.getAttribute('aria-label')).toBe('Insert an emoji');
    await button.focus();
    await page.keyboard.press('Enter');
    const panel = page.locator('.emoji-panel');
    await panel.waitFor();
    expect(await panel.getAttribute('aria-label')).toBe('Emoji');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('😀');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await panel.waitFor({ state: 'hidden' });
    expect(await input.inputValue()).toBe('Thanks 😊');
    expect(await page.locator('#composer-send').isEnabled()).toBe(true);

    await button.focus();
    await page.keyboard.press('Enter');
    await panel.waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    expect(await page.evaluate("document.activeElement.classList.contains('emoji-button')")).toBe(true);
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await input.inputValue()).toBe('Thanks 😊');
    if (SHOTS) {
      await button.click();
      await panel.waitFor();
      await page.screenshot({ path: join(SHOTS, 'inbox-emoji.png') });
    }
    await page.context().close();
  }, 60_000);

  for (const scheme of ['light', 'dark'] as const) {
    it(`has no serious or critical axe violation with an image and a file in the thread, the tray and the picker, ${scheme}`, async () => {
      const page = await openThread(DESKTOP, scheme);
      expect(await violations(page)).toEqual([]);
      await attach(page, { name: 'order-1042-invoice.pdf', mimeType: 'application/pdf', buffer: PDF });
      await attach(page, { name: 'photo.png', mimeType: 'image/png', buffer: PHOTO });
      await page.locator('#composer-input').fill('Both attached, the invoice and the photo of the parcel.');
      await page.locator('#composer-file').setInputFiles({ name: 'notes.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ') });
      await page.locator('#composer-error').waitFor();
      expect(await violations(page)).toEqual([]);
      if (SHOTS) await page.screenshot({ path: join(SHOTS, scheme === 'dark' ? 'inbox-attachments-dark.png' : 'inbox-attachments.png') });
      await page.locator('.emoji-button').click();
      await page.locator('.emoji-panel').waitFor();
      expect(await violations(page)).toEqual([]);
      await page.context().close();
    }, 60_000);
  }

  for (const scheme of ['light', 'dark'] as const) {
    it(`fits a 360 px phone with the new composer, ${scheme}: nothing past the edge, no sideways scroll`, async () => {
      const page = await signedIn(PHONE, scheme);
      const width = () => page.evaluate('document.documentElement.scrollWidth') as Promise<number>;
      // The right edge of the furthest visible element under `selector`.
      const widest = (selector: string) =>
        page.evaluate(`Math.max(0, ...[...document.querySelectorAll('${selector}')].map((e) => e.getBoundingClientRect()).filter((r) => r.width > 0).map((r) => r.right))`) as Promise<number>;
      const row = page.locator(`.conv[data-id="${conversation}"]`);
      await row.waitFor();
      expect(await width()).toBeLessThanOrEqual(PHONE.width);
      expect(await widest('.col-list *')).toBeLessThanOrEqual(PHONE.width);
      await row.click();
      await page.locator('.attach-button').waitFor();
      await page.locator('.msg .file-chip', { hasText: 'invoice.pdf' }).waitFor();
      await imageLoaded(page);
      await attach(page, { name: 'a-rather-long-name-for-the-shipping-label-of-order-1042.pdf', mimeType: 'application/pdf', buffer: PDF });
      await attach(page, { name: 'photo.png', mimeType: 'image/png', buffer: PHOTO });
      await page.locator('#composer-input').fill('Here you go');
      expect(await width()).toBeLessThanOrEqual(PHONE.width);
      expect(await widest('#app *')).toBeLessThanOrEqual(PHONE.width);
      // Every composer control is on screen.
      for (const control of ['.emoji-button', '.attach-button', '#composer-send']) expect(await widest(control), control).toBeLessThanOrEqual(PHONE.width);
      if (SHOTS) await page.screenshot({ path: join(SHOTS, scheme === 'dark' ? 'inbox-phone-360-dark.png' : 'inbox-phone-360.png') });
      await page.locator('.emoji-button').click();
      await page.locator('.emoji-panel').waitFor();
      expect(await width()).toBeLessThanOrEqual(PHONE.width);
      expect(await widest('.emoji-panel, .emoji-panel *')).toBeLessThanOrEqual(PHONE.width);
      if (SHOTS && scheme === 'dark') await page.screenshot({ path: join(SHOTS, 'inbox-phone-360-emoji-dark.png') });
      await page.context().close();
    }, 60_000);
  }

  afterAll(async () => {
    await v?.client.close();
  });
});

/**
 * A real PNG (RFC 2083): a small landscape, sky, sun and hills, so that a browser decodes it and a
 * screenshot shows something; 8-bit RGB, no filtering, one zlib stream.
 */
function photoPng(width: number, height: number): Buffer {
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const hill = height * 0.7 + Math.sin(x / 23) * 12 + Math.cos(x / 9) * 3;
      const sun = (x - width * 0.72) ** 2 + (y - height * 0.3) ** 2 < (height * 0.13) ** 2;
      const rgb = y > hill ? [46 + (y - hill), 125, 70] : sun ? [255, 196, 61] : [90 + y / 2, 150 + y / 3, 235];
      for (const [i, c] of rgb.entries()) rows[row + 1 + x * 3 + i] = Math.min(255, Math.round(c));
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter method, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
