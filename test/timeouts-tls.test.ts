/**
 * limits.handshakeTimeout on the https listener: a client that opens a TCP connection and sends
 * nothing, or half a ClientHello, is closed once the bound passes (Node's default was 120 s), and
 * counted as a timeout; a normal TLS client is unaffected.
 */
import net from 'node:net';
import tls from 'node:tls';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Edge } from '../src/server/edge.js';
import { edgeConfig, startOrigin, startTestEdge, writeDevTls, type DevTlsFiles, type TestServer } from './helpers.js';

/** Opens a TCP connection, writes `bytes`, resolves with how long until the edge closed it (-1: it did not within `giveUpMs`). */
function heldFor(port: number, bytes: Buffer, giveUpMs = 8000): Promise<number> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.resume();
    const giveUp = setTimeout(() => {
      socket.destroy();
      resolve(-1);
    }, giveUpMs);
    socket.once('close', () => {
      clearTimeout(giveUp);
      resolve(Date.now() - started);
    });
    if (bytes.length) socket.write(bytes);
  });
}

/**
 * The start of a ClientHello: a TLS handshake record (type 22, TLS 1.0 record version) that
 * announces 512 bytes, of which only the handshake header and the client version follow.
 */
const HALF_CLIENT_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, ...Buffer.alloc(16, 7)]);

describe('TLS handshake timeout', () => {
  let origin: TestServer;
  let tlsFiles: DevTlsFiles;
  const edges: Edge[] = [];

  beforeAll(async () => {
    tlsFiles = writeDevTls();
    origin = await startOrigin((_req, res) => res.end('ok'));
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

  it('defaults to the documented 10 s', () => {
    expect(edgeConfig([origin.url]).limits.handshakeTimeout).toBe(10_000);
  });

  it('a silent client and a half ClientHello are closed after handshakeTimeout; a normal client is served', async () => {
    const edge = await edgeWith({ handshakeTimeout: '600ms' });
    const port = edge.addresses.https!.port;
    const [silent, half] = await Promise.all([heldFor(port, Buffer.alloc(0)), heldFor(port, HALF_CLIENT_HELLO)]);
    for (const ms of [silent, half]) {
      expect(ms, 'closed by the edge').toBeGreaterThan(0);
      expect(ms).toBeGreaterThanOrEqual(500);
    }
    const { values } = await edge.runtime.metrics.clientErrors.get();
    expect(values.find((v) => v.labels.kind === 'timeout')?.value).toBe(2);

    // A client that completes its handshake is served over the same listener.
    const status = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ port, host: '127.0.0.1', ca: tlsFiles.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] }, () => {
        socket.write('GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
      });
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(text.split('\r\n')[0]));
    });
    expect(status).toBe('HTTP/1.1 200 OK');
  });
});
