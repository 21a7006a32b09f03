/**
 * Attachments over real sockets (server/attachments.ts): a visitor and an operator upload, send
 * and download; the headers that keep a file from running; and what a stranger can send: types
 * not allowed, bytes that lie about their type, too large (declared and streamed), no session,
 * someone else's conversation or file, other sites, too many, a client that leaves midway.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../src/attachments/local-storage.js';
import { seedDemo } from '../src/seed.js';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { openStore, type DeskStore } from '../src/store/index.js';
import { login, operator, until, visitor } from './support/desk-client.js';

const MAX = 64 * 1024;
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);
const PDF = Buffer.from('%PDF-1.7\n% a tiny document\n');

let store: DeskStore;
let node: DeskNode;
let bare: DeskNode;
let base: string;
let dir: string;

beforeAll(async () => {
  store = await openStore('sqlite::memory:');
  await seedDemo(store);
  // A second workspace that only allows one site, for CORS.
  await store.createWorkspace({ id: 'w_strict', name: 'Strict', allowedOrigins: ['https://shop.example'], emailDomain: 'strict.example', webhookSecret: 'x' });
  dir = mkdtempSync(path.join(tmpdir(), 'desk-attach-'));
  node = await startDeskNode({ port: 0, store, nodeId: 'attach', log: pino({ level: 'silent' }), attachments: { storage: new LocalStorage(dir), maxBytes: MAX } });
  bare = await startDeskNode({ port: 0, store, nodeId: 'no-attach', log: pino({ level: 'silent' }) });
  base = `http://127.0.0.1:${node.port}`;
});

afterAll(async () => {
  await node?.close();
  await bare?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

function upload(q: Record<string, string>, body: Buffer | string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${base}/api/attachments?${new URLSearchParams(q)}`, { method: 'POST', headers, body });
}

function files(): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

/**
 * A raw HTTP/1.1 exchange: what a client that does not follow the rules sends, what comes back,
 * and whether the server closed the connection (rather than our waiting out `waitMs`).
 */
function raw(port: number, text: string | Buffer, waitMs = 3000): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    let timedOut = false;
    sock.on('data', (d) => (got += d));
    sock.on('close', () => resolve({ text: got, closedByServer: !timedOut }));
    sock.on('error', () => {});
    sock.write(text);
    setTimeout(() => ((timedOut = true), sock.destroy()), waitMs);
  });
}

describe('attachments', () => {
  it('a visitor uploads an image and sends it; both sides get it; it is served safely', async () => {
    const v = await visitor(base);
    expect(v.welcome.attachments).toEqual({ maxBytes: MAX, types: expect.arrayContaining(['image/png', 'application/pdf']) });
    const token = await login(base);
    const op = await operator(base, token);
    expect(op.welcome.attachments).toMatchObject({ maxBytes: MAX });

    const res = await upload({ workspace: 'w_demo', conversation: v.conversation, name: 'My photo.png' }, PNG, { 'content-type': 'image/png', 'x-desk-visitor': v.session });
    expect(res.status).toBe(201);
    const { attachment } = (await res.json()) as { attachment: { id: string; name: string; url: string; size: number; type: string } };
    expect(attachment).toEqual({ id: expect.stringMatching(/^f_/), name: 'My photo.png', type: 'image/png', size: PNG.length, url: `/files/${attachment.id}/My%20photo.png` });

    v.client.send({ type: 'message.send', clientId: 'k_photo', body: '', attachments: [attachment.id] });
    const ack = await v.client.next('message.ack');
    expect(ack.clientId).toBe('k_photo');
    const seen = await op.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_photo');
    expect(seen.message).toMatchObject({ body: '', attachments: [{ id: attachment.id, name: 'My photo.png', type: 'image/png', size: PNG.length, url: attachment.url }] });

    const file = await fetch(base + attachment.url);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(PNG)).toBe(true);
    expect(Object.fromEntries(file.headers)).toMatchObject({
      'content-type': 'image/png',
      'content-disposition': `inline; filename="My photo.png"; filename*=UTF-8''My%20photo.png`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': expect.stringContaining('sandbox'),
      'cache-control': 'public, max-age=31536000, immutable',
      'content-length': String(PNG.length),
    });
    const etag = file.headers.get('etag')!;
    expect((await fetch(base + attachment.url, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const head = await fetch(base + attachment.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(PNG.length));
    // The history carries it too.
    const again = await visitor(base, { session: v.session });
    expect(again.welcome.messages.at(-1).attachments[0].id).toBe(attachment.id);
    for (const c of [v.client, op.client, again.client]) await c.close();
  });

  it('an operator attaches a PDF to a reply: a download, never inline', async () => {
    const v = await visitor(base);
    v.client.send({ type: 'message.send', clientId: 'k_q', body: 'Can I have the invoice?' });
    await v.client.next('message.ack');
    const token = await login(base);
    const res = await fetch(`${base}/api/attachments?${new URLSearchParams({ conversation: v.conversation, name: 'invoice.html' })}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf' },
      body: PDF,
    });
    expect(res.status).toBe(201);
    const { attachment } = (await res.json()) as { attachment: { id: string; name: string; url: string } };
    // Named for its type: an .html name never reaches a browser as such.
    expect(attachment.name).toBe('invoice.html.pdf');
    const sent = await fetch(`${base}/api/conversations/${v.conversation}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'k_invoice', body: 'Here it is', attachments: [attachment.id] }),
    });
    expect(sent.status).toBe(201);
    const got = await v.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_invoice');
    expect(got.message.attachments).toHaveLength(1);
    const file = await fetch(base + attachment.url);
    expect(file.headers.get('content-type')).toBe('application/pdf');
    expect(file.headers.get('content-disposition')).toMatch(/^attachment; /);
    await v.client.close();
  });

  it('refuses types not allowed and bytes that lie about their type (415), keeping nothing', async () => {
    const v = await visitor(base);
    const before = files().length;
    const q = { workspace: 'w_demo', conversation: v.conversation, name: 'x' };
    const auth = { 'x-desk-visitor': v.session };
    for (const type of ['text/html', 'image/svg+xml', 'application/javascript', 'application/octet-stream']) {
      const res = await upload(q, '<html><script>alert(1)</script></html>', { ...auth, 'content-type': type });
      expect(res.status, type).toBe(415);
    }
    const lie = await upload(q, '<html><script>alert(1)</script></html>', { ...auth, 'content-type': 'image/png' });
    expect(lie.status).toBe(415);
    expect(((await lie.json()) as { error: { message: string } }).error.message).toBe('this file is not image/png');
    expect((await upload(q, '', { ...auth, 'content-type': 'text/plain' })).status).toBe(400);
    expect((await upload({ workspace: 'w_demo', conversation: v.conversation }, PNG, { ...auth, 'content-type': 'image/png' })).status).toBe(400);
    expect(files().length).toBe(before);
    await v.client.close();
  });

  it('refuses too large, declared (before reading) or streamed, keeping nothing', async () => {
    const v = await visitor(base);
    const before = files().length;
    const target = `/api/attachments?workspace=w_demo&conversation=${v.conversation}&name=big.txt`;
    // Declared: answered at once, the body never read.
    const declared = await raw(node.port, `POST ${target} HTTP/1.1\r\nHost: x\r\nX-Desk-Visitor: ${v.session}\r\nContent-Type: text/plain\r\nContent-Length: ${MAX + 1}\r\n\r\n`);
    expect(declared.text).toMatch(/^HTTP\/1.1 413/);
    expect(declared.closedByServer).toBe(true);
    // Streamed (chunked, no length): cut when it passes the limit.
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    const body = Buffer.concat(Array.from({ length: 6 }, () => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])));
    const streamed = await raw(
      node.port,
      Buffer.concat([
        Buffer.from(`POST ${target} HTTP/1.1\r\nHost: x\r\nX-Desk-Visitor: ${v.session}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n`),
        body,
        Buffer.from('0\r\n\r\n'),
      ]),
    );
    expect(streamed.text).toMatch(/^HTTP\/1.1 413/);
    expect(streamed.closedByServer).toBe(true);
    expect(files().length).toBe(before);
    await v.client.close();
  });

  it('a client that leaves midway leaves no file and the node serves on', async () => {
    const v = await visitor(base);
    const before = files().length;
    await raw(
      node.port,
      `POST /api/attachments?workspace=w_demo&conversation=${v.conversation}&name=half.txt HTTP/1.1\r\nHost: x\r\nX-Desk-Visitor: ${v.session}\r\nContent-Type: text/plain\r\nContent-Length: 10000\r\n\r\n${'a'.repeat(3000)}`,
      300,
    );
    await until(() => files().length === before, 3000, 'partial file removed');
    expect(readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.part'))).toBe(false);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await v.client.close();
  });

  it('who may upload: a session of this workspace, into its own conversation', async () => {
    const a = await visitor(base);
    const b = await visitor(base);
    const png = { 'content-type': 'image/png' };
    expect((await upload({ workspace: 'w_demo', conversation: a.conversation, name: 'x.png' }, PNG, png)).status).toBe(401);
    expect((await upload({ workspace: 'w_demo', conversation: a.conversation, name: 'x.png' }, PNG, { ...png, 'x-desk-visitor': 'nope' })).status).toBe(401);
    expect((await upload({ workspace: 'w_other', conversation: a.conversation, name: 'x.png' }, PNG, { ...png, 'x-desk-visitor': a.session })).status).toBe(401);
    expect((await upload({ workspace: 'w_demo', conversation: b.conversation, name: 'x.png' }, PNG, { ...png, 'x-desk-visitor': a.session })).status).toBe(403);
    expect((await upload({ workspace: 'w_demo', conversation: a.conversation, name: 'x.png' }, PNG, { ...png, authorization: 'Bearer forged' })).status).toBe(401);
    // b's file cannot be sent by a, nor into another conversation.
    const res = await upload({ workspace: 'w_demo', conversation: b.conversation, name: 'b.png' }, PNG, { ...png, 'x-desk-visitor': b.session });
    const { attachment } = (await res.json()) as { attachment: { id: string } };
    a.client.send({ type: 'message.send', clientId: 'k_steal', body: 'mine now', attachments: [attachment.id] });
    expect(await a.client.next('error')).toMatchObject({ code: 'bad_event', message: 'unknown attachment', ref: 'k_steal' });
    a.client.send({ type: 'message.send', clientId: 'k_many', body: 'x', attachments: Array.from({ length: 11 }, (_, i) => `f_${i}`) });
    expect(await a.client.next('error')).toMatchObject({ code: 'bad_event', ref: 'k_many' });
    // Files are served by id only: a made-up one is 404, a path that is not one too.
    expect((await fetch(`${base}/files/f_0000000000000000000000/x.png`)).status).toBe(404);
    expect((await fetch(`${base}/files/../../etc/passwd`)).status).toBe(404);
    expect((await fetch(`${base}/files/f_%ZZ/x`)).status).toBe(404);
    expect((await fetch(`${base}/files/${attachment.id}/x.png`, { method: 'DELETE' })).status).toBe(404);
    for (const c of [a.client, b.client]) await c.close();
  });

  it('CORS: the workspace’s sites may upload from the widget, others are refused', async () => {
    const preflight = (origin: string) =>
      fetch(`${base}/api/attachments?workspace=w_strict`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-desk-visitor' },
      });
    const ok = await preflight('https://shop.example');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(ok.headers.get('access-control-allow-headers')).toContain('x-desk-visitor');
    expect((await preflight('https://evil.example')).status).toBe(403);
    // The demo workspace allows any site.
    const any = await fetch(`${base}/api/attachments?workspace=w_demo`, { method: 'OPTIONS', headers: { origin: 'https://anywhere.example' } });
    expect(any.headers.get('access-control-allow-origin')).toBe('https://anywhere.example');
  });

  it('too many uploads from one visitor: 429 with Retry-After', async () => {
    const v = await visitor(base);
    const q = { workspace: 'w_demo', conversation: v.conversation, name: 'n.txt' };
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await upload(q, `note ${i}`, { 'content-type': 'text/plain', 'x-desk-visitor': v.session })).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(201));
    expect(statuses.slice(10)).toEqual([429, 429]);
    const limited = await upload(q, 'again', { 'content-type': 'text/plain', 'x-desk-visitor': v.session });
    expect(limited.headers.get('retry-after')).toBe('6');
    await v.client.close();
  });

  it('a node without attachment storage takes none and says so', async () => {
    const v = await visitor(`http://127.0.0.1:${bare.port}`);
    expect(v.welcome.attachments).toBeNull();
    const res = await fetch(`http://127.0.0.1:${bare.port}/api/attachments?workspace=w_demo&conversation=${v.conversation}&name=x.png`, {
      method: 'POST',
      headers: { 'content-type': 'image/png', 'x-desk-visitor': v.session },
      body: PNG,
    });
    expect(res.status).toBe(401); // /api/ without an operator session: nothing here for a visitor
    await v.client.close();
  });
});
