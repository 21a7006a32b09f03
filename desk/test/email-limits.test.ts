/**
 * Issue 14, item 6 (and the low item on Message-ID routing): Desk's inbound SMTP routes by the
 * recipient before it reads a message, announces and enforces SIZE, caps its clients (in all and
 * per IP address), parses only what it will store and with bounded work, and a Message-ID routes
 * only within the workspaces whose domain the email was sent to. A real Desk node on a temporary
 * SQLite file, nodemailer and raw SMTP sockets from several 127.0.0.x source addresses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../src/seed.js';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { openStore, type DeskStore } from '../src/store/index.js';

const DOMAIN = 'desk.localhost';
const MAX_SIZE = 10 * 1024 * 1024;
const BIG_HTML = `<html><body><p>Hello &amp; welcome</p>${'<div>spam spam spam</div>'.repeat((9 * 1024 * 1024) / 25)}</body></html>`;

let dir: string;
let store: DeskStore;
let node: DeskNode;
let base: string;
/** Raw SMTP sockets, destroyed before the node closes even when a test failed half-way. */
const sockets: net.Socket[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'desk-email-limits-'));
  store = await openStore(`sqlite:${path.join(dir, 'desk.db')}`);
  await seedDemo(store);
  await store.createWorkspace({ id: 'w_other', name: 'Other', allowedOrigins: [], emailDomain: 'other.localhost', webhookSecret: 'other-secret' });
  node = await startDeskNode({
    port: 0,
    store,
    nodeId: 'mail-limits',
    log: pino({ level: 'silent' }),
    email: { inbound: { port: 0 }, maxSize: MAX_SIZE, maxClients: 5, maxClientsPerIp: 2 },
  });
  base = `http://127.0.0.1:${node.port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await node?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A conversation of the demo workspace with one Message-ID in its email thread. */
async function conversationWithThread(threadId: string): Promise<{ id: string; replyToken: string }> {
  const v = await store.createVisitor({ workspaceId: 'w_demo', token: `t-${Math.random()}`.replace('.', ''), meta: {} });
  const conv = await store.openConversation('w_demo', v.id);
  await store.addThreadEmail(conv.id, threadId);
  return conv;
}

/** nodemailer into the node's listener, from `localAddress` (127.0.0.x). */
function sender(localAddress = '127.0.0.1') {
  return nodemailer.createTransport({ host: '127.0.0.1', port: node.smtpPort!, secure: false, ignoreTLS: true, localAddress });
}

/** A raw SMTP connection: `reply()` gives the next whole reply (all its lines), `say(line)` sends a line and gives the reply. */
async function smtp(localAddress = '127.0.0.1') {
  const socket = net.connect({ port: node.smtpPort!, host: '127.0.0.1', localAddress });
  sockets.push(socket);
  socket.on('error', () => {});
  let buffer = '';
  const replies: string[] = [];
  let wake: (() => void) | undefined;
  socket.on('data', (d) => {
    buffer += String(d);
    // A reply's last line has a space after the code (RFC 5321 §4.2.1); earlier ones a hyphen.
    for (let m: RegExpExecArray | null; (m = /^\d{3} .*\r\n/m.exec(buffer)); ) {
      replies.push(buffer.slice(0, m.index + m[0].length));
      buffer = buffer.slice(m.index + m[0].length);
    }
    wake?.();
  });
  const closed = new Promise<void>((r) => socket.once('close', () => (r(), wake?.())));
  let read = 0;
  const reply = async (): Promise<string> => {
    while (replies.length <= read) {
      if (socket.destroyed) return '';
      await Promise.race([new Promise<void>((r) => (wake = r)), closed]);
    }
    return replies[read++]!;
  };
  return { socket, reply, closed, say: (line: string) => (socket.write(`${line}\r\n`), reply()) };
}

const health = async () => (await fetch(`${base}/healthz`)).status;

describe('inbound SMTP limits', () => {
  it('announces SIZE in EHLO and refuses a MAIL FROM that declares more', async () => {
    const c = await smtp('127.0.0.20');
    expect(await c.reply()).toMatch(/^220 /);
    expect(await c.say('EHLO test')).toMatch(new RegExp(`^250[- ]SIZE ${MAX_SIZE}\r$`, 'm'));
    expect(await c.say(`MAIL FROM:<x@example.com> SIZE=${MAX_SIZE + 1}`)).toMatch(/^552 /);
    c.socket.destroy();
  });

  it('refuses big mails to unknown tokens and to reply@ of a domain no workspace has at RCPT TO, never reading them, and /healthz answers meanwhile', async () => {
    const recipients = [`reply+nosuchtoken0001@${DOMAIN}`, 'reply@any.example', `reply+nosuchtoken0002@${DOMAIN}`, 'reply@evil.example'];
    const sends = recipients.map((to, i) =>
      sender(`127.0.0.${i + 2}`)
        .sendMail({ from: 'x@example.com', to, subject: 'big', html: BIG_HTML })
        .then(
          () => undefined,
          (e: { responseCode?: number; command?: string }) => e,
        ),
    );
    const statuses = await Promise.all([health(), health()]);
    const results = await Promise.all(sends);
    expect(statuses).toEqual([200, 200]);
    for (const [i, err] of results.entries()) expect(err, recipients[i]).toMatchObject({ responseCode: 550, command: 'RCPT TO' });
    // Raw: with every recipient refused there is no transaction to send data into.
    const c = await smtp('127.0.0.21');
    await c.reply();
    await c.say('EHLO test');
    expect(await c.say('MAIL FROM:<x@example.com>')).toMatch(/^250 /);
    expect(await c.say('RCPT TO:<reply@any.example>')).toMatch(/^550 5\.1\.1/);
    expect(await c.say('DATA')).toMatch(/^5\d\d /);
    c.socket.destroy();
    expect(await health()).toBe(200);
  });

  it('stores a huge HTML-only reply to a known token as bounded text, and /healthz answers while it is taken', async () => {
    const conv = await conversationWithThread('<big-html@desk.localhost>');
    const sent = sender('127.0.0.22').sendMail({ from: 'big@example.com', to: `reply+${conv.replyToken}@${DOMAIN}`, subject: 'Re: x', messageId: '<big-1@example.com>', html: BIG_HTML });
    expect(await health()).toBe(200);
    expect((await sent).response).toMatch(/^250 /);
    const stored = await store.messageByEmailId('<big-1@example.com>');
    expect(stored?.body.startsWith('Hello & welcome')).toBe(true);
    expect(stored?.body).not.toContain('<div>');
    expect([...stored!.body].length).toBeLessThanOrEqual(5000);
  });

  it('refuses a message past SIZE with 552', async () => {
    const conv = await conversationWithThread('<too-big@desk.localhost>');
    const err = await sender('127.0.0.23')
      .sendMail({ from: 'x@example.com', to: `reply+${conv.replyToken}@${DOMAIN}`, subject: 's', text: 'y'.repeat(MAX_SIZE + 1024) })
      .then(
        () => undefined,
        (e: { responseCode?: number }) => e,
      );
    expect(err).toMatchObject({ responseCode: 552 });
  });

  it('caps clients per IP address (421) and in all (421)', async () => {
    const open = async (ip: string) => {
      const c = await smtp(ip);
      return { c, greeting: await c.reply() };
    };
    const held = [await open('127.0.0.10'), await open('127.0.0.10')];
    const third = await open('127.0.0.10');
    expect(held.map((h) => h.greeting)).toEqual([expect.stringMatching(/^220 /), expect.stringMatching(/^220 /)]);
    expect(third.greeting).toMatch(/^421 4\.7\.0/);
    await third.c.closed;
    // Five at once from three addresses is the cap (maxClients 5): the sixth is refused.
    held.push(await open('127.0.0.11'), await open('127.0.0.11'), await open('127.0.0.12'));
    expect(held.map((h) => h.greeting.slice(0, 4))).toEqual(['220 ', '220 ', '220 ', '220 ', '220 ']);
    const sixth = await open('127.0.0.13');
    expect(sixth.greeting).toMatch(/^421 /);
    for (const h of held) h.c.socket.destroy();
    await Promise.all(held.map((h) => h.c.closed));
    // The slots come back when clients leave (the server notices the close a moment later).
    let again = '';
    for (let i = 0; i < 50 && !again.startsWith('220 '); i++) {
      const x = await open('127.0.0.10');
      again = x.greeting;
      x.c.socket.destroy();
      if (!again.startsWith('220 ')) await new Promise((r) => setTimeout(r, 50));
    }
    expect(again).toMatch(/^220 /);
  });
});

describe('inbound routing by Message-ID', () => {
  it('matches an In-Reply-To only to a conversation of the workspace whose domain the email was sent to', async () => {
    const conv = await conversationWithThread('<thread-a@desk.localhost>');
    const send = sender('127.0.0.24');
    // Sent to the other workspace's bare address, quoting Acme's thread: not routed into Acme.
    const err = await send
      .sendMail({ from: 'eve@example.com', to: 'reply@other.localhost', inReplyTo: '<thread-a@desk.localhost>', messageId: '<cross-1@example.com>', subject: 's', text: 'cross' })
      .then(
        () => undefined,
        (e: { responseCode?: number }) => e,
      );
    expect(err).toMatchObject({ responseCode: 550 });
    expect(await store.messageByEmailId('<cross-1@example.com>')).toBeUndefined();
    // To Acme's bare address it routes.
    await send.sendMail({ from: 'eve@example.com', to: `reply@${DOMAIN}`, inReplyTo: '<thread-a@desk.localhost>', messageId: '<same-1@example.com>', subject: 's', text: 'same' });
    expect((await store.messageByEmailId('<same-1@example.com>'))?.conversationId).toBe(conv.id);
  });
});
