/**
 * The demo's mail catcher with a real Desk node: Desk sends through the catcher's SMTP port, the
 * catcher's page lists what was sent (text and a sandboxed HTML part), and an answer written on
 * the page goes back, as the recipient, to Desk's inbound listener and into the conversation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailCatcher, type CaughtMail, type MailCatcher } from '../src/email/mail-catcher.js';
import { seedDemo } from '../src/seed.js';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { openStore, type DeskStore } from '../src/store/index.js';
import { login, operator, until, visitor } from './support/desk-client.js';

let dir: string;
let store: DeskStore;
let node: DeskNode;
let catcher: MailCatcher;
let base: string;
let page: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'desk-catcher-'));
  store = await openStore(`sqlite:${path.join(dir, 'desk.db')}`);
  await seedDemo(store);
  catcher = await startMailCatcher({ smtpPort: 0, httpPort: 0, replyRelay: () => `smtp://127.0.0.1:${node.smtpPort}` });
  page = `http://127.0.0.1:${catcher.httpPort}`;
  node = await startDeskNode({
    port: 0,
    store,
    nodeId: 'catcher-1',
    publicDir: fileURLToPath(new URL('../public', import.meta.url)),
    log: pino({ level: 'silent' }),
    email: { smtpUrl: `smtp://127.0.0.1:${catcher.smtpPort}`, inbound: { port: 0 }, visitorDelayMs: 200, operatorDelayMs: 60_000, sweepMs: 40 },
  });
  base = `http://127.0.0.1:${node.port}`;
});

afterAll(async () => {
  await node?.close();
  await catcher?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const listed = async (): Promise<CaughtMail[]> => (await fetch(`${page}/api/messages`)).json() as Promise<CaughtMail[]>;

describe('the mail catcher', () => {
  it('shows the reply Desk emailed a visitor who left, in text and HTML, and takes the visitor’s answer back into the conversation', async () => {
    const op = await operator(base, await login(base));
    const v = await visitor(base);
    v.client.send({ type: 'visitor.email', email: 'lin@example.com' });
    v.client.send({ type: 'message.send', clientId: 'k_c1', body: 'Do you ship <b>to</b> Norway?' });
    await op.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_c1');
    await v.client.close(); // the visitor left: the answer goes by email after the delay
    op.client.send({ type: 'message.send', conversation: v.conversation, clientId: 'k_c2', body: 'We do, in 3 days & free.' });
    await op.client.next('message.ack');

    let mail: CaughtMail | undefined;
    await until(async () => (mail = (await listed()).find((m) => m.to.includes('lin@example.com'))) !== undefined, 5000, 'the email in the catcher');
    expect(mail!.text).toContain('We do, in 3 days & free.');
    expect(mail!.html).toContain('We do, in 3 days &amp; free.');
    expect(mail!.replyTo).toMatch(/^reply\+/);

    // The page lists it, escaped; its HTML part is served apart, under a sandboxing policy.
    const html = await (await fetch(page)).text();
    expect(html).toContain('We do, in 3 days &amp; free.');
    expect(html).toContain(`sandbox src="/messages/${mail!.id}/html"`);
    const part = await fetch(`${page}/messages/${mail!.id}/html`);
    expect(part.headers.get('content-security-policy')).toContain('sandbox');
    expect(await part.text()).toContain('We do, in 3 days &amp; free.');

    // The visitor answers from the page: it reaches the operator as the visitor's message, by email.
    const form = new URLSearchParams({ text: 'Great, ordering now.' });
    const sent = await fetch(`${page}/messages/${mail!.id}/reply`, { method: 'POST', body: form, redirect: 'manual' });
    expect(sent.status).toBe(303);
    const arrived = await op.client.next((e) => e.type === 'message.new' && e.message.body.includes('Great, ordering now.'));
    expect(arrived.message).toMatchObject({ conversation: v.conversation, via: 'email', author: { kind: 'visitor' } });
    await op.client.close();
  });

  it('in Chromium, the widget of a Desk that sends email offers it at any time: asked while someone is online, the address is kept', async () => {
    const op = await operator(base, await login(base)); // someone is online: email is offered, not asked for
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/`);
      await page.locator('.launcher').click();
      await page.locator('.status-text', { hasText: "We're online" }).waitFor();
      expect(await page.locator('.email').isHidden()).toBe(true);
      await page.locator('.email-ask').click();
      await page.locator('.email input').fill('ola@example.com');
      await page.locator('.email button[type="submit"]').click();
      await page.locator('.email-done', { hasText: "We'll email you at ola@example.com" }).waitFor();
      expect(await page.locator('.email-transcript').isVisible()).toBe(true);
      expect(await page.locator('.email-ask').isHidden()).toBe(true);
      const session = (await page.evaluate("localStorage.getItem('desk:w_demo:session')")) as string;
      await until(async () => (await store.visitorByToken(session))?.email === 'ola@example.com', 5000, 'the address stored');
    } finally {
      await browser.close();
      await op.client.close();
    }
  }, 60_000);

  it('refuses an answer to an unknown message or without text, and answers 404 elsewhere', async () => {
    expect((await fetch(`${page}/messages/999/reply`, { method: 'POST', body: 'text=hi' })).status).toBe(400);
    expect((await fetch(`${page}/messages/1/reply`, { method: 'POST', body: 'text=' })).status).toBe(400);
    expect((await fetch(`${page}/messages/999/html`)).status).toBe(404);
    expect((await fetch(`${page}/nope`)).status).toBe(404);
  });
});
