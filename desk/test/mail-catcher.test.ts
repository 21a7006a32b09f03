/**
 * The demo's mail catcher with a real Desk node: Desk sends through the catcher's SMTP port, the
 * catcher's page lists what was sent (text and a sandboxed HTML part), and an answer written on
 * the page goes back, as the recipient, to Desk's inbound listener and into the conversation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import nodemailer from 'nodemailer';
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
    publicDir: fileURLToPath(new URL('../dist/public', import.meta.url)),
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

describe('the mail catcher, fed what a stranger may send', () => {
  let hostile: MailCatcher;
  beforeAll(async () => {
    hostile = await startMailCatcher({ smtpPort: 0, httpPort: 0, maxSize: 2048, timeoutMs: 300 });
  });
  afterAll(async () => {
    await hostile?.close();
  });

  /** Writes `bytes` on a new connection; what came back, and whether the server closed it within `ms`. */
  const raw = (port: number, bytes: string | Buffer, ms = 3000) =>
    new Promise<{ text: string; closed: boolean }>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ text, closed: false });
      }, ms);
      socket.on('data', (d) => {
        text += d.toString('latin1');
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ text, closed: true });
      });
      socket.on('error', () => {});
      if (bytes.length) socket.write(bytes);
    });

  it('the page: malformed bytes 400, a target that is not a URL 400, an oversized form 413, a slow request cut', async () => {
    const page = hostile.httpPort;
    expect((await raw(page, Buffer.from([0x16, 0x03, 0x01, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]))).text).toMatch(/^HTTP\/1\.1 400 /);
    const notUrl = await raw(page, 'GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(notUrl.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(notUrl.closed).toBe(true);
    const big = await raw(page, `POST /messages/1/reply HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\ntext=${'a'.repeat(70_000)}`);
    expect(big.text).toMatch(/^HTTP\/1\.1 413 /);
    const slow = await raw(page, 'GET / HTTP/1.1\r\nHost: x\r\n'); // the head never ends
    expect(slow.closed).toBe(true);
  });

  it('SMTP: garbage is answered and dropped, an oversized message refused (552), a silent client cut; the catcher goes on', async () => {
    // Bytes before the greeting: refused (421) and closed.
    const early = await raw(hostile.smtpPort, Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0d, 0x0a]));
    expect(early.text).toMatch(/^421 /);
    expect(early.closed).toBe(true);
    // After the greeting, garbage lines get 5xx answers.
    const garbage = await new Promise<string>((resolve) => {
      const socket = net.connect(hostile.smtpPort, '127.0.0.1');
      let text = '';
      socket.on('data', (d) => {
        text += d.toString('latin1');
        if (text.startsWith('220 ') && !socket.writableEnded) socket.end(Buffer.concat([Buffer.from('EHLO x\r\n'), Buffer.from([0, 1, 2, 0xff, 0xfe]), Buffer.from('\r\nNOT A COMMAND\r\n')]));
      });
      socket.on('close', () => resolve(text));
      socket.on('error', () => {});
    });
    expect(garbage).toMatch(/^220 /);
    expect(garbage).toMatch(/\r\n5\d\d /);
    const silent = await raw(hostile.smtpPort, '');
    expect(silent.closed).toBe(true);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: hostile.smtpPort, secure: false, ignoreTLS: true });
    await expect(transport.sendMail({ from: 'a@x.test', to: 'b@x.test', subject: 'big', text: 'x'.repeat(4096) })).rejects.toMatchObject({ responseCode: 552 });
    await transport.sendMail({ from: 'a@x.test', to: 'b@x.test', subject: 'still here', text: 'fine' });
    transport.close();
    expect(hostile.messages.map((m) => m.subject)).toEqual(['still here']);
    const list = (await (await fetch(`http://127.0.0.1:${hostile.httpPort}/api/messages`)).json()) as CaughtMail[];
    expect(list.map((m) => m.subject)).toEqual(['still here']);
  });
});
