/**
 * The contract every monitor type keeps (refused, black hole, abort: always a result, never a
 * throw, nothing left open), then what is particular to tcp and websocket.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { monitorSettings } from '../../test/support/monitor-settings.js';
import { WebSocketServer } from 'ws';
import { createDevCa, issueCert } from '../tls/dev-certs.js';
import { PROBES, createProbe } from './probes.js';
import type { MonitorSettings, MonitorType, ProbeTarget } from './types.js';
import { acceptFor } from './websocket.js';

const settings = (type: MonitorType, s: Partial<MonitorSettings> = {}): MonitorSettings => monitorSettings({ type, ...s });
const target = (url: string, extra: Partial<ProbeTarget> = {}): ProbeTarget => ({ address: new URL(url), ...extra });

interface Counted {
  port: number;
  open(): number;
  seen(): number;
  close(): Promise<void>;
}

/** Counts a server's connections, open and seen. */
async function listen(server: net.Server, event = 'connection'): Promise<Counted> {
  const open = new Set<net.Socket>();
  let seen = 0;
  server.on(event, (s: net.Socket) => {
    seen++;
    open.add(s);
    s.on('error', () => {});
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const c: Counted = {
    port: (server.address() as AddressInfo).port,
    open: () => open.size,
    seen: () => seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
  closers.push(c.close);
  return c;
}

/** Accepts TCP, reads and drops everything, never answers. */
const silent = () => listen(net.createServer((s) => s.resume()));

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function eventually(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

describe.each(Object.keys(PROBES) as MonitorType[])('contract: %s probe', (type) => {
  const probe = () => createProbe(settings(type));

  it('reports a refused connection', async () => {
    const port = await freePort();
    expect(await probe().check(target(`http://127.0.0.1:${port}`), AbortSignal.timeout(1000))).toMatchObject({ ok: false, reason: 'refused' });
  });

  it('settles at the timeout on a black hole (tcp: connects) and leaves no socket open', async () => {
    const hole = await silent();
    const started = Date.now();
    const r = await probe().check(target(`http://127.0.0.1:${hole.port}`), AbortSignal.timeout(150));
    expect(Date.now() - started).toBeLessThan(1000);
    if (type === 'tcp') expect(r.ok).toBe(true);
    else expect(r).toMatchObject({ ok: false, reason: 'timeout' });
    // The probe reached the hole (on a loaded machine the server may see it after the timeout).
    await eventually(() => hole.seen() === 1);
    await eventually(() => hole.open() === 0);
  });

  it('settles at once on an aborted signal', async () => {
    const hole = await silent();
    const c = new AbortController();
    c.abort();
    expect(await probe().check(target(`http://127.0.0.1:${hole.port}`), c.signal)).toMatchObject({ ok: false, reason: 'aborted' });
    const c2 = new AbortController();
    const pending = probe().check(target(`http://127.0.0.1:${hole.port}`), c2.signal);
    c2.abort(new DOMException('t', 'TimeoutError'));
    expect(await pending).toMatchObject({ ok: false, reason: 'timeout' });
    await eventually(() => hole.open() === 0);
  });

  it('never throws on a header node refuses to send', async () => {
    const port = await freePort();
    const r = await createProbe(settings(type, { headers: { 'x-bad': 'a\r\nb' } })).check(target(`http://127.0.0.1:${port}`), AbortSignal.timeout(1000));
    expect(r.ok).toBe(false);
    expect(typeof r.reason).toBe('string');
  });

  it('never throws, even for a name that does not resolve', async () => {
    const r = await probe().check(target('http://no-such-host.invalid:81'), AbortSignal.timeout(3000));
    expect(r.ok).toBe(false);
    expect(typeof r.reason).toBe('string');
  });
});

describe('tcp monitor', () => {
  it('passes on connect, sends nothing, closes; the monitor port overrides the address port', async () => {
    const received: Buffer[] = [];
    const server = await listen(net.createServer((s) => s.on('data', (d) => received.push(d))));
    const r = await createProbe(settings('tcp', { port: server.port })).check(target('http://127.0.0.1:1'), AbortSignal.timeout(1000));
    expect(r.ok).toBe(true);
    expect(r.rttMs).toBeGreaterThan(0);
    await eventually(() => server.open() === 0);
    expect(received).toEqual([]);
  });
});

describe('websocket monitor', () => {
  async function wsOrigin(server: http.Server | https.Server = http.createServer()) {
    const closes: number[] = [];
    const paths: string[] = [];
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws, req) => {
      paths.push(`${req.url} ${req.headers.host}`);
      ws.on('close', (code) => closes.push(code));
    });
    const c = await listen(server, server instanceof https.Server ? 'secureConnection' : 'connection');
    closers.unshift(() => new Promise<void>((r) => wss.close(() => r())));
    return { ...c, closes, paths };
  }

  it('completes a real handshake, then closes with 1000', async () => {
    const o = await wsOrigin();
    const r = await createProbe(settings('websocket', { path: '/ws?probe=1' })).check(target(`http://127.0.0.1:${o.port}`, { hostHeader: 'chat.example.com' }), AbortSignal.timeout(1000));
    expect(r).toMatchObject({ ok: true });
    expect(r.rttMs).toBeGreaterThan(0);
    expect(o.paths).toEqual(['/ws?probe=1 chat.example.com']);
    await eventually(() => o.closes.length === 1 && o.open() === 0);
    expect(o.closes).toEqual([1000]);
  });

  it('over TLS (wss) for an https origin', async () => {
    const ca = createDevCa();
    const o = await wsOrigin(https.createServer(issueCert(ca, ['127.0.0.1'])));
    const r = await createProbe(settings('websocket')).check(target(`https://127.0.0.1:${o.port}`, { tls: { rejectUnauthorized: true, ca: ca.cert } }), AbortSignal.timeout(2000));
    expect(r.ok).toBe(true);
    await eventually(() => o.open() === 0);
  });

  it('fails when the origin answers without upgrading', async () => {
    const server = http.createServer((_req, res) => res.end('no websockets here'));
    const o = await listen(server);
    expect(await createProbe(settings('websocket')).check(target(`http://127.0.0.1:${o.port}`), AbortSignal.timeout(1000))).toMatchObject({ ok: false, reason: 'status 200' });
    await eventually(() => o.open() === 0);
  });

  it('fails a 101 with a wrong Sec-WebSocket-Accept', async () => {
    const o = await listen(
      net.createServer((s) => {
        s.once('data', (head) => {
          const key = /sec-websocket-key: (\S+)/i.exec(head.toString())![1];
          const wrong = createHash('sha1').update(key).digest('base64');
          s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${wrong}\r\n\r\n`);
          s.resume();
        });
      }),
    );
    expect(await createProbe(settings('websocket')).check(target(`http://127.0.0.1:${o.port}`), AbortSignal.timeout(1000))).toMatchObject({ ok: false, reason: 'bad handshake: Sec-WebSocket-Accept' });
    await eventually(() => o.open() === 0);
  });

  it('an origin that takes the request head and never answers: timeout, nothing left open', async () => {
    let heads = 0;
    const o = await listen(net.createServer((s) => s.on('data', () => heads++)));
    const r = await createProbe(settings('websocket')).check(target(`http://127.0.0.1:${o.port}`), AbortSignal.timeout(150));
    expect(r).toMatchObject({ ok: false, reason: 'timeout' });
    expect(heads).toBeGreaterThan(0);
    await eventually(() => o.open() === 0);
  });

  it('computes Sec-WebSocket-Accept as RFC 6455 §1.3 does', () => {
    expect(acceptFor('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
});
