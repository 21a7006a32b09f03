/**
 * Email replies end to end over real SMTP both ways: a real smtp-server in the test catches what
 * Desk sends, nodemailer sends into Desk's inbound listener, a Desk node (startDeskNode) on a
 * temporary SQLite file, visitors and operators as real WebSockets. Delays are short; timing is
 * only asserted as "not before the delay".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../src/seed.js';
import { LocalStorage } from '../src/attachments/local-storage.js';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { openStore, type DeskStore } from '../src/store/index.js';
import { api, login, operator, sleep, until, visitor, type DeskClient } from './support/desk-client.js';

const DOMAIN = 'desk.localhost';
const DELAY = 300;
const SWEEP = 40;
const MAX_SIZE = 64 * 1024;

interface Caught {
  at: number;
  to: string[];
  mail: ParsedMail;
}

let dir: string;
let store: DeskStore;
let node: DeskNode;
let base: string;
let token: string;
let catcher: SMTPServer;
const caught: Caught[] = [];

function emailOptions(catcherPort: number) {
  return { smtpUrl: `smtp://127.0.0.1:${catcherPort}`, inbound: { port: 0 }, visitorDelayMs: DELAY, operatorDelayMs: DELAY, sweepMs: SWEEP, maxSize: MAX_SIZE };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'desk-email-'));
  store = await openStore(`sqlite:${path.join(dir, 'desk.db')}`);
  await seedDemo(store);
  catcher = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          caught.push({ at: Date.now(), to: session.envelope.rcptTo.map((r) => r.address), mail });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((r) => catcher.listen(0, '127.0.0.1', r));
  node = await startDeskNode({
    port: 0,
    store,
    nodeId: 'mail-1',
    log: pino({ level: 'silent' }),
    email: emailOptions((catcher.server.address() as AddressInfo).port),
    attachments: { storage: new LocalStorage(path.join(dir, 'files')) },
  });
  base = `http://127.0.0.1:${node.port}`;
  token = await login(base);
});

afterAll(async () => {
  await node?.close();
  await new Promise<void>((r) => (catcher ? catcher.close(() => r()) : r()));
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The first caught email to `to` after index `from` that matches. */
async function mailTo(to: string, match: (c: Caught) => boolean = () => true, from = 0, ms = 5000): Promise<Caught> {
  let hit: Caught | undefined;
  await until(() => (hit = caught.slice(from).find((c) => c.to.includes(to) && match(c))) !== undefined, ms, `an email to ${to}`);
  return hit!;
}

function mailsTo(to: string, from = 0): Caught[] {
  return caught.slice(from).filter((c) => c.to.includes(to));
}

/** A raw SMTP session: the server's reply to each line (the greeting first is skipped). */
async function smtpDialog(port: number, lines: string[]): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  const replies: string[] = [];
  let waiting: (() => void) | undefined;
  socket.on('data', (d) => {
    buffer += String(d);
    // A reply ends with a line "ddd text" (a space after the code, RFC 5321 §4.2.1).
    for (let m: RegExpExecArray | null; (m = /^(\d{3}) .*\r\n/m.exec(buffer)); ) {
      replies.push(buffer.slice(m.index, m.index + m[0].length).trim());
      buffer = buffer.slice(m.index + m[0].length);
      waiting?.();
    }
  });
  const reply = async (n: number) => {
    while (replies.length < n) await new Promise<void>((r) => (waiting = r));
    return replies[n - 1]!;
  };
  await reply(1);
  const out: string[] = [];
  for (const [i, line] of lines.entries()) {
    socket.write(`${line}\r\n`);
    out.push(await reply(i + 2));
  }
  socket.destroy();
  return out;
}

/** nodemailer into Desk's inbound listener. */
function inbound() {
  return nodemailer.createTransport({ host: '127.0.0.1', port: node.smtpPort!, secure: false, ignoreTLS: true });
}

/** A visitor with an email address and one message in a new conversation. */
async function visitorWithEmail(email: string): Promise<{ client: DeskClient; conversation: string; replyToken: string }> {
  const v = await visitor(base);
  v.client.send({ type: 'visitor.email', email });
  v.client.send({ type: 'message.send', clientId: `k-${Math.random()}`, body: 'Where is my order?' });
  await v.client.next('message.ack');
  await until(async () => (await store.getVisitor((await store.getConversation(v.conversation))!.visitorId))?.email === email);
  const conv = (await store.getConversation(v.conversation))!;
  return { client: v.client, conversation: v.conversation, replyToken: conv.replyToken };
}

async function reply(conversation: string, body: string, note = false): Promise<{ seq: number; createdAt: number }> {
  const r = await api(base, token, 'POST', `/api/conversations/${conversation}/messages`, { body, clientId: `op-${Math.random()}`, note });
  expect(r.status).toBe(201);
  return r.body.message;
}

describe('operator replies by email', () => {
  it('emails a reply the visitor has not seen after the delay, in one thread, and takes the email reply back in real time', async () => {
    const eve = 'eve@example.com';
    const { client, conversation, replyToken } = await visitorWithEmail(eve);
    const address = `reply+${replyToken}@${DOMAIN}`;
    const first = await reply(conversation, 'Hello Eve, it left today.');

    const m1 = await mailTo(eve);
    expect(m1.at - first.createdAt).toBeGreaterThanOrEqual(DELAY);
    expect(m1.mail.from?.value[0]).toEqual({ name: 'Acme Shop', address });
    expect(m1.mail.replyTo?.value[0]?.address).toBe(address);
    expect(m1.mail.to && !Array.isArray(m1.mail.to) && m1.mail.to.value[0]?.address).toBe(eve);
    expect(m1.mail.subject).toBe('Your conversation with Acme Shop');
    expect(m1.mail.messageId).toMatch(new RegExp(`^<[\\w-]+@${DOMAIN}>$`));
    expect(m1.mail.inReplyTo).toBeUndefined();
    expect(m1.mail.text).toContain('Hello Eve, it left today.');
    expect((await store.getConversation(conversation))?.emailSubject).toBe('Your conversation with Acme Shop');

    // The visitor answers by email, quoting: the operators get the new part at once, via email.
    const op = await operator(base, token);
    await inbound().sendMail({
      from: `Eve <${eve}>`,
      to: address,
      subject: `Re: ${m1.mail.subject}`,
      messageId: '<eve-1@mail.example>',
      inReplyTo: m1.mail.messageId,
      references: [m1.mail.messageId!],
      text: `Great, thanks!\n\nOn Sat, 28 Nov 2026, Acme Shop <${address}> wrote:\n> Hello Eve, it left today.\n`,
    });
    const news = await op.client.next((e) => e.type === 'message.new' && e.message.conversation === conversation && e.message.via === 'email');
    expect(news.message).toMatchObject({ body: 'Great, thanks!', author: { kind: 'visitor' }, via: 'email' });
    expect((await client.next((e) => e.type === 'message.new' && e.message.via === 'email')).message.body).toBe('Great, thanks!');
    const stored = await store.messageByEmailId('<eve-1@mail.example>');
    expect(stored?.email).toMatchObject({ from: eve, inReplyTo: m1.mail.messageId });

    // The next reply continues the thread: In-Reply-To the visitor's email, References the chain.
    const before = caught.length;
    await reply(conversation, 'Glad to help.');
    const m2 = await mailTo(eve, () => true, before);
    expect(m2.mail.subject).toBe('Re: Your conversation with Acme Shop');
    expect(m2.mail.inReplyTo).toBe('<eve-1@mail.example>');
    expect(m2.mail.references).toEqual([m1.mail.messageId, '<eve-1@mail.example>']);
    expect(m2.mail.messageId).not.toBe(m1.mail.messageId);
    await client.close();
    await op.client.close();
  });

  it('a reply with a file is emailed with its link, escaped in the HTML part', async () => {
    const fay = 'fay@example.com';
    const { client, conversation } = await visitorWithEmail(fay);
    const up = await fetch(`${base}/api/attachments?conversation=${conversation}&name=${encodeURIComponent('label <1>.pdf')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf' },
      body: '%PDF-1.7 a shipping label',
    });
    const { attachment } = (await up.json()) as { attachment: { id: string } };
    const r = await api(base, token, 'POST', `/api/conversations/${conversation}/messages`, { body: 'Your label:', clientId: 'op-file', attachments: [attachment.id] });
    expect(r.status).toBe(201);
    const mail = await mailTo(fay);
    const href = `${base}/files/${attachment.id}/label%20%3C1%3E.pdf`;
    expect(mail.mail.text).toContain(`Your label:\n📎 label <1>.pdf (25 B): ${href}`);
    expect(mail.mail.html).toContain(`<a href="${href}" style="color:#4338ca">label &lt;1&gt;.pdf</a>`);
    await client.close();
  });

  it('does not email a reply the visitor read in the widget, nor a note', async () => {
    const ann = 'ann@example.com';
    const { client, conversation } = await visitorWithEmail(ann);
    await reply(conversation, 'internal: check the warehouse', true);
    const read = await reply(conversation, 'Seen it?');
    client.send({ type: 'read', upToSeq: read.seq });
    await until(async () => (await store.getConversation(conversation))!.visitorReadSeq === read.seq);
    await sleep(DELAY + SWEEP * 5);
    expect(mailsTo(ann)).toEqual([]);
    await client.close();
  });

  it('emails each reply once when two nodes sweep one database', async () => {
    const other = await openStore(`sqlite:${path.join(dir, 'desk.db')}`);
    const second = await startDeskNode({ port: 0, store: other, nodeId: 'mail-2', log: pino({ level: 'silent' }), email: emailOptions((catcher.server.address() as AddressInfo).port) });
    try {
      const bob = 'bob@example.com';
      const { client, conversation } = await visitorWithEmail(bob);
      await reply(conversation, 'One email, please.');
      await mailTo(bob);
      await sleep(SWEEP * 10);
      expect(mailsTo(bob)).toHaveLength(1);
      await client.close();
    } finally {
      await second.close();
      await other.close();
    }
  });
});

describe('operators by email', () => {
  it('emails every operator a visitor message nobody read after the delay; answering it writes as that operator, and only that operator', async () => {
    const before = caught.length;
    const { client, conversation, replyToken } = await visitorWithEmail('cy@example.com');
    const sent = (await store.messagesAfter(conversation, 0))[0]!;
    const forUs = (c: Caught) => c.mail.subject?.includes(conversation) === true;
    const ada = await mailTo('ada@acme.test', forUs, before);
    const grace = await mailTo('grace@acme.test', forUs, before);
    expect(ada.at - sent.createdAt).toBeGreaterThanOrEqual(DELAY);
    expect([ada.to, grace.to]).toEqual([['ada@acme.test'], ['grace@acme.test']]);
    expect(ada.mail.text).toContain('Where is my order?');
    expect(ada.mail.headers.get('auto-submitted')).toBe('auto-generated');
    const graceAddress = grace.mail.replyTo!.value[0]!.address!;
    expect(graceAddress).toMatch(new RegExp(`^reply\\+${replyToken}\\.[0-9a-f]{20}@${DOMAIN}$`));
    expect(ada.mail.replyTo!.value[0]!.address).not.toBe(graceAddress); // signed per operator

    const send = inbound();
    await send.sendMail({ from: 'Grace <grace@acme.test>', to: graceAddress, subject: 'Re: x', text: 'On it, Cy.\n\n-- \nGrace' });
    const news = await client.next((e) => e.type === 'message.new' && e.message.via === 'email');
    expect(news.message).toMatchObject({ body: 'On it, Cy.', author: { kind: 'operator', name: 'Grace' } });

    // Ada cannot use Grace's address; the visitor writing "From: grace" to the plain address stays the visitor.
    await expect(send.sendMail({ from: 'ada@acme.test', to: graceAddress, subject: 'Re: x', text: 'as Grace?' })).rejects.toMatchObject({ responseCode: 550 });
    await send.sendMail({ from: 'grace@acme.test', to: `reply+${replyToken}@${DOMAIN}`, subject: 'Re: x', text: 'spoofed' });
    const spoofed = await client.next((e) => e.type === 'message.new' && e.message.body === 'spoofed');
    expect(spoofed.message.author.kind).toBe('visitor');
    expect((await store.messagesAfter(conversation, 0)).map((m) => m.body)).not.toContain('as Grace?');
    await client.close();
  });

  it('emails only the assignee when there is one', async () => {
    const before = caught.length;
    const { client, conversation } = await visitorWithEmail('di@example.com');
    const ops = await store.listOperators('w_demo');
    const grace = ops.find((o) => o.email === 'grace@acme.test')!;
    expect((await api(base, token, 'POST', `/api/conversations/${conversation}/assign`, { operator: grace.id })).status).toBe(200);
    const mail = await mailTo('grace@acme.test', (c) => c.mail.subject?.includes(conversation) === true, before);
    expect(mail.to).toEqual(['grace@acme.test']);
    await client.close();
  });
});

describe('inbound email', () => {
  it('routes by token first, then In-Reply-To, then References', async () => {
    const a = await visitorWithEmail('a@example.com');
    const b = await visitorWithEmail('b@example.com');
    await reply(b.conversation, 'to b');
    const bMail = await mailTo('b@example.com');
    const send = inbound();
    // Token of A wins over In-Reply-To of B.
    await send.sendMail({ from: 'a@example.com', to: `reply+${a.replyToken}@${DOMAIN}`, inReplyTo: bMail.mail.messageId, messageId: '<r1@x.test>', subject: 's', text: 'by token' });
    // A bare reply@ address: In-Reply-To, then References.
    await send.sendMail({ from: 'b@example.com', to: `reply@${DOMAIN}`, inReplyTo: bMail.mail.messageId, messageId: '<r2@x.test>', subject: 's', text: 'by in-reply-to' });
    await send.sendMail({ from: 'b@example.com', to: `reply@${DOMAIN}`, references: ['<unknown@x.test>', bMail.mail.messageId!], messageId: '<r3@x.test>', subject: 's', text: 'by references' });
    expect((await store.messageByEmailId('<r1@x.test>'))?.conversationId).toBe(a.conversation);
    expect((await store.messageByEmailId('<r2@x.test>'))?.conversationId).toBe(b.conversation);
    expect((await store.messageByEmailId('<r3@x.test>'))?.conversationId).toBe(b.conversation);
    // A bare reply@ that matches nothing is refused after DATA.
    await expect(send.sendMail({ from: 'z@example.com', to: `reply@${DOMAIN}`, inReplyTo: '<nothing@x.test>', subject: 's', text: 'lost' })).rejects.toMatchObject({
      responseCode: 550,
    });
    await a.client.close();
    await b.client.close();
  });

  it('stores an email delivered twice once, and accepts but drops auto-replies', async () => {
    const { client, conversation, replyToken } = await visitorWithEmail('dup@example.com');
    const to = `reply+${replyToken}@${DOMAIN}`;
    const send = inbound();
    const mail = { from: 'dup@example.com', to, subject: 's', messageId: '<dup-1@x.test>', text: 'only once' };
    const r1 = await send.sendMail(mail);
    const r2 = await send.sendMail(mail);
    expect([r1.response, r2.response].every((r) => r.startsWith('250'))).toBe(true);
    const auto = await send.sendMail({ from: 'dup@example.com', to, subject: 'Out of office', headers: { 'Auto-Submitted': 'auto-replied' }, text: 'I am away' });
    expect(auto.response).toMatch(/^250/);
    await send.sendMail({ from: 'dup@example.com', to, subject: 'Digest', headers: { Precedence: 'bulk' }, text: 'news' });
    const bodies = (await store.messagesAfter(conversation, 0)).map((m) => m.body);
    expect(bodies.filter((b) => b === 'only once')).toHaveLength(1);
    expect(bodies).not.toContain('I am away');
    expect(bodies).not.toContain('news');
    await client.close();
  });

  it('refuses unknown recipients at RCPT (550 5.1.1), huge email (552) and unparseable email (554)', async () => {
    const { client, replyToken } = await visitorWithEmail('bad@example.com');
    const send = inbound();
    for (const to of [`reply+nosuchtoken1234@${DOMAIN}`, `sales@${DOMAIN}`, `reply+${replyToken}@other.example`]) {
      const err = await send.sendMail({ from: 'x@example.com', to, subject: 's', text: 'hi' }).then(
        () => undefined,
        (e: { responseCode?: number; response?: string; command?: string }) => e,
      );
      expect(err, to).toMatchObject({ responseCode: 550, command: 'RCPT TO' });
      expect(err?.response).toContain('5.1.1');
    }
    const to = `reply+${replyToken}@${DOMAIN}`;
    await expect(send.sendMail({ from: 'x@example.com', to, subject: 's', text: 'x'.repeat(MAX_SIZE * 2) })).rejects.toMatchObject({ responseCode: 552 });
    // A client that declares no SIZE is cut at the end of DATA.
    const dialog = await smtpDialog(node.smtpPort!, [
      'EHLO test',
      'MAIL FROM:<x@example.com>',
      `RCPT TO:<${to}>`,
      'DATA',
      `From: x@example.com\r\nSubject: big\r\n\r\n${'y'.repeat(MAX_SIZE * 2)}\r\n.`,
      'QUIT',
    ]);
    expect(dialog[4]).toMatch(/^552 /);
    // Raw messages: no header block at all, and no sender.
    await expect(send.sendMail({ envelope: { from: 'x@example.com', to }, raw: 'just some words\r\nwithout headers\r\n' })).rejects.toMatchObject({ responseCode: 554 });
    await expect(send.sendMail({ envelope: { from: 'x@example.com', to }, raw: 'Subject: hi\r\n\r\nno from\r\n' })).rejects.toMatchObject({ responseCode: 554 });
    await client.close();
  });
});

describe('transcripts', () => {
  /** The confirmation link in a caught email. */
  const linkIn = (c: Caught) => /http:\/\/\S+\/email\/confirm\?\S+/.exec(c.mail.text ?? '')?.[0];

  it('emails a confirmation link to an unconfirmed address first; once confirmed, the conversation without notes', async () => {
    const fay = 'fay@example.com';
    const { client, conversation } = await visitorWithEmail(fay);
    await reply(conversation, 'secret: VIP customer', true);
    await reply(conversation, 'It ships Monday.');
    client.send({ type: 'read', upToSeq: 99 });
    const before = caught.length;
    const r = await api(base, token, 'POST', `/api/conversations/${conversation}/transcript`);
    expect(r).toEqual({ status: 202, body: { to: fay, confirmation: true } });
    const confirm = await mailTo(fay, (c) => c.mail.subject?.startsWith('Confirm') === true, before);
    expect(confirm.mail.text).not.toContain('It ships Monday.');
    const link = linkIn(confirm)!;
    expect(link.startsWith(`${base}/email/confirm?`)).toBe(true);

    // Opening the link shows a button (a scanner that fetches it confirms nothing); a forged one is refused.
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('<form method="post">');
    expect((await store.getVisitor((await store.getConversation(conversation))!.visitorId))?.emailVerified).toBe(false);
    const forged = new URL(link);
    forged.searchParams.set('e', 'mallory@example.com');
    expect((await fetch(forged, { method: 'POST' })).status).toBe(400);
    expect(mailsTo(fay, before)).toHaveLength(1);

    expect((await fetch(link, { method: 'POST' })).status).toBe(200);
    const t1 = await mailTo(fay, (c) => c.mail.text?.includes('It ships Monday.') === true, before);
    expect(t1.mail.text).toContain('Where is my order?');
    expect(t1.mail.text).not.toContain('VIP');

    // Confirmed: the next request sends the transcript itself.
    const mark = caught.length;
    client.send({ type: 'transcript.request' });
    expect(await client.next('transcript.sent')).toMatchObject({ conversation, to: fay, confirmation: false });
    const t2 = await mailTo(fay, () => true, mark);
    expect(t2.mail.text).toContain('It ships Monday.');
    expect(t2.mail.text).not.toContain('VIP');

    // Another address typed is unconfirmed again.
    client.send({ type: 'visitor.email', email: 'fay.new@example.com' });
    await until(async () => (await store.getVisitor((await store.getConversation(conversation))!.visitorId))?.email === 'fay.new@example.com');
    client.send({ type: 'transcript.request' });
    expect(await client.next('transcript.sent')).toMatchObject({ to: 'fay.new@example.com', confirmation: true });
    await client.close();
  });

  it('limits the emails one visitor and one address get (rate_limited)', async () => {
    const target = 'victim@example.com';
    const before = caught.length;
    const a = await visitorWithEmail(target);
    for (let i = 0; i < 3; i++) {
      a.client.send({ type: 'transcript.request' });
      expect(await a.client.next('transcript.sent')).toMatchObject({ to: target, confirmation: true });
    }
    for (let i = 0; i < 5; i++) a.client.send({ type: 'transcript.request' });
    for (let i = 0; i < 5; i++) expect(await a.client.next('error')).toMatchObject({ code: 'rate_limited' });
    // Another visitor (session) typing the same address gets nothing sent there either; REST too.
    const b = await visitorWithEmail(target);
    b.client.send({ type: 'transcript.request' });
    expect(await b.client.next('error')).toMatchObject({ code: 'rate_limited' });
    const limited = await fetch(`${base}/api/conversations/${b.conversation}/transcript`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // The first visitor moving to fresh addresses runs into its own window (5 in all).
    for (const [i, email] of ['x1@example.com', 'x2@example.com', 'x3@example.com'].entries()) {
      a.client.send({ type: 'visitor.email', email });
      await until(async () => (await store.getVisitor((await store.getConversation(a.conversation))!.visitorId))?.email === email);
      a.client.send({ type: 'transcript.request' });
      if (i < 2) expect(await a.client.next('transcript.sent')).toMatchObject({ to: email });
      else expect(await a.client.next('error')).toMatchObject({ code: 'rate_limited' });
    }
    await sleep(200);
    expect(mailsTo(target, before).filter((c) => c.mail.subject?.startsWith('Confirm'))).toHaveLength(3);
    expect(mailsTo('x3@example.com', before)).toEqual([]);
    await a.client.close();
    await b.client.close();
  });

  it('refuses a transcript when the visitor left no address', async () => {
    const v = await visitor(base);
    v.client.send({ type: 'transcript.request' });
    expect(await v.client.next('error')).toMatchObject({ code: 'bad_event' });
    expect((await api(base, token, 'POST', `/api/conversations/${v.conversation}/transcript`)).status).toBe(400);
    await v.client.close();
  });
});
