/**
 * The head bounds docs/shield.md promises for HTTP/2, over a real TLS + HTTP/2 session: a header
 * list over limits.maxHeaderSize gets 431, more fields than Node's 128 pairs a reset stream, and
 * neither reaches the origin nor ends the session for the requests after it.
 */
import http2 from 'node:http2';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Edge } from '../src/server/edge.js';
import { edgeConfig, startOrigin, startTestEdge, writeDevTls, type DevTlsFiles, type TestServer } from './helpers.js';

describe('HTTP/2 head bounds', () => {
  let origin: TestServer;
  let edge: Edge;
  let tls: DevTlsFiles;
  let session: http2.ClientHttp2Session;
  let originRequests = 0;

  beforeAll(async () => {
    origin = await startOrigin((_req, res) => {
      originRequests++;
      res.end('ok');
    });
    tls = writeDevTls();
    edge = await startTestEdge(
      edgeConfig([origin.url], {
        listen: { https: '127.0.0.1:0', admin: '127.0.0.1:0' },
        tls: { certificates: [{ cert: tls.certFile, key: tls.keyFile }] },
        limits: { maxHeaderSize: '8KiB' },
      }),
    );
    session = http2.connect(`https://127.0.0.1:${edge.addresses.https!.port}`, { ca: tls.ca, servername: 'localhost' });
    session.on('error', () => {});
  });
  afterAll(async () => {
    rmSync(tls.dir, { recursive: true, force: true });
    session?.close();
    await edge?.shutdown(100);
    await origin?.close();
  });

  const ask = (headers: Record<string, string>) =>
    new Promise<{ status?: number; rst?: number }>((resolve) => {
      const stream = session.request({ ':path': '/', ':authority': 'a.test', ...headers }, { endStream: true });
      let status: number | undefined;
      stream.on('response', (h) => {
        status = Number(h[':status']);
      });
      stream.on('error', () => {});
      stream.resume();
      stream.on('close', () => resolve({ status, rst: status === undefined ? stream.rstCode : undefined }));
    });

  it('a header list over maxHeaderSize gets 431 and never reaches the origin', async () => {
    const before = originRequests;
    expect((await ask({ 'x-big': 'x'.repeat(9000) })).status).toBe(431);
    expect(originRequests).toBe(before);
  });

  it('more than 128 header fields: the stream is reset (ENHANCE_YOUR_CALM), the session goes on', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 200; i++) many[`x-${i}`] = '1';
    const before = originRequests;
    expect(await ask(many)).toEqual({ status: undefined, rst: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM });
    expect(originRequests).toBe(before);
    expect((await ask({})).status).toBe(200);
  });
});
