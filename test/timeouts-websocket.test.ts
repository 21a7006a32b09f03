/**
 * WebSocket upgrades and the head timeouts: an upgrade request whose head is trickled is cut by
 * limits.headersTimeout like any request (plain and TLS listeners), while an upgraded WebSocket
 * that stays quiet past headersTimeout and requestTimeout is left alone (websocket.idleTimeout
 * governs it, test/websocket.test.ts).
 */
import net from 'node:net';
import tls from 'node:tls';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Edge } from '../src/server/edge.js';
import { edgeConfig, startTestEdge, startWsOrigin, writeDevTls, type DevTlsFiles, type WsOrigin } from './helpers.js';

const UPGRADE_HEAD = 'GET /chat HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/** Writes UPGRADE_HEAD one byte per 30 ms on `socket`; resolves with what came back once it closes. */
function trickle(socket: net.Socket): Promise<{ text: string; sent: number; closed: boolean }> {
  return new Promise((resolve) => {
    let sent = 0;
    let text = '';
    const timer = setInterval(() => {
      if (sent < UPGRADE_HEAD.length && !socket.destroyed) socket.write(UPGRADE_HEAD[sent++]);
    }, 30);
    socket.on('error', () => {});
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
    });
    const done = (closed: boolean) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ text, sent, closed });
    };
    const giveUp = setTimeout(() => done(false), 8000);
    socket.once('close', () => done(true));
  });
}

describe('WebSocket upgrades and head timeouts', () => {
  let origin: WsOrigin;
  let tlsFiles: DevTlsFiles;
  const edges: Edge[] = [];

  beforeAll(async () => {
    tlsFiles = writeDevTls();
    origin = await startWsOrigin();
  });
  afterEach(async () => {
    await Promise.all(edges.splice(0).map((e) => e.shutdown(200)));
  });
  afterAll(async () => {
    await origin.close();
    rmSync(tlsFiles.dir, { recursive: true, force: true });
  });

  async function edgeWith(limits: Record<string, unknown>): Promise<Edge> {
    const edge = await startTestEdge(
      edgeConfig([origin.url], {
        limits,
        listen: { http: '127.0.0.1:0', https: '127.0.0.1:0' },
        tls: { certificates: [{ cert: tlsFiles.certFile, key: tlsFiles.keyFile }] },
      }),
    );
    edges.push(edge);
    return edge;
  }

  it('an upgrade head trickled past headersTimeout gets 408 and is closed, on both listeners; the origin sees no upgrade', async () => {
    const edge = await edgeWith({ headersTimeout: '400ms', requestTimeout: '5s' });
    const before = origin.connections.length;
    const plain = net.connect(edge.addresses.http!.port, '127.0.0.1');
    const secure = tls.connect({ port: edge.addresses.https!.port, host: '127.0.0.1', ca: tlsFiles.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
    const results = await Promise.all([trickle(plain), trickle(secure)]);
    for (const r of results) {
      expect(r.closed, 'closed by the edge').toBe(true);
      expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(r.sent).toBeLessThan(UPGRADE_HEAD.length);
    }
    expect(origin.connections.length).toBe(before);
  });

  it('an open WebSocket quiet past headersTimeout and requestTimeout stays open', async () => {
    const edge = await edgeWith({ headersTimeout: '300ms', requestTimeout: '600ms' });
    const ws = new WebSocket(`ws://127.0.0.1:${edge.addresses.http!.port}/chat`, { headers: { host: 'a.test' } });
    ws.on('error', () => {});
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('close', reject);
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    ws.send('still here');
    expect(await echoed).toBe('still here');
    ws.close();
  });
});
