/**
 * `limits.maxBodySize` over real sockets: a declared Content-Length over it gets 413 before the
 * origin sees anything (HTTP/1.1 then closes the connection); a chunked body, or an HTTP/2 body
 * without content-length, that grows past it gets 413 and the origin request is aborted with at
 * most the limit received; once the response has started the exchange is cut instead. A body
 * exactly at the limit passes whole, 0 means no limit, and a reload applies to the next request.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Edge } from '../src/server/edge.js';
import { formatSize } from '../src/upstream/body-limit.js';
import { edgeConfig, sendRaw, startOrigin, startTestEdge, waitFor, writeDevTls, type DevTlsFiles, type TestServer } from './helpers.js';

const LIMIT = 1000;

interface Seen {
  /** Body bytes the origin received. */
  bytes: number;
  /** The request ended with its whole body. */
  complete: boolean;
  /** The edge abandoned the request before its body ended. */
  aborted: boolean;
  /** How the body was framed: its content-length, or `chunked`. */
  framing: string | undefined;
}

async function bodyTooLargeCount(edge: Edge): Promise<number> {
  const { values } = await edge.runtime.metrics.clientErrors.get();
  return values.filter((v) => v.labels.kind === 'body_too_large').reduce((s, v) => s + v.value, 0);
}

/** `body` as one HTTP/1.1 chunk. */
const chunk = (body: string) => `${body.length.toString(16)}\r\n${body}\r\n`;

/**
 * Opens a connection, writes `head`, then each of `chunks` 20 ms apart (while the connection
 * lasts), and collects the answer until the edge closes the connection or `timeoutMs` passes.
 */
function trickle(port: number, head: string, chunks: string[], timeoutMs = 3000): Promise<{ text: string; closed: boolean; written: number }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let written = 0;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ text, closed, written });
    };
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.write(head);
    const timer = setInterval(() => {
      if (written < chunks.length && !socket.destroyed) socket.write(chunks[written++]);
    }, 20);
    const giveUp = setTimeout(() => finish(false), timeoutMs);
  });
}

describe('request body size limit (limits.maxBodySize)', () => {
  let origin: TestServer;
  let tlsFiles: DevTlsFiles;
  /** What the origin saw, by path. */
  const seen = new Map<string, Seen>();
  const edges: Edge[] = [];

  beforeAll(async () => {
    tlsFiles = writeDevTls();
    origin = await startOrigin((req, res) => {
      const s: Seen = { bytes: 0, complete: false, aborted: false, framing: req.headers['content-length'] ?? req.headers['transfer-encoding'] };
      seen.set(req.url!, s);
      // /early/…: the answer starts before the body is read (an echo).
      if (req.url!.startsWith('/early')) res.writeHead(200, { 'content-type': 'text/plain' }).write('started\n');
      req.on('data', (c: Buffer) => {
        s.bytes += c.length;
      });
      req.on('aborted', () => {
        s.aborted = true;
      });
      req.on('error', () => {});
      req.on('end', () => {
        s.complete = true;
        res.end(`got ${s.bytes}`);
      });
    });
  });
  afterEach(async () => {
    await Promise.all(edges.splice(0).map((e) => e.shutdown(500)));
  });
  afterAll(async () => {
    rmSync(tlsFiles.dir, { recursive: true, force: true });
    await origin.close();
  });

  function config(limits: Record<string, unknown>, https = false) {
    return edgeConfig([origin.url], {
      limits,
      ...(https ? { listen: { http: '127.0.0.1:0', https: '127.0.0.1:0' }, tls: { certificates: [{ cert: tlsFiles.certFile, key: tlsFiles.keyFile }] } } : {}),
    });
  }

  async function edgeWith(limits: Record<string, unknown>, https = false): Promise<Edge> {
    const edge = await startTestEdge(config(limits, https));
    edges.push(edge);
    return edge;
  }

  it('Expect: 100-continue gets 413 instead of 100 Continue when the declared body is over, 100 when it fits', async () => {
    const edge = await edgeWith({ maxBodySize: LIMIT });
    const port = edge.addresses.http!.port;
    const head = (n: number, path: string) => `POST ${path} HTTP/1.1\r\nHost: site.example\r\nContent-Type: text/plain\r\nContent-Length: ${n}\r\nExpect: 100-continue\r\n\r\n`;
    const over = await trickle(port, head(LIMIT + 1, '/continue-over'), [], 1500);
    expect(over.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(over.text).not.toMatch(/100 Continue/);
    expect(seen.has('/continue-over')).toBe(false);
    const fits = await trickle(port, head(10, '/continue-ok'), ['0123456789'], 1500);
    expect(fits.text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(fits.text).toMatch(/got 10$/);
  });

  /** An HTTP/2 session to the edge's https listener. */
  function h2(edge: Edge): http2.ClientHttp2Session {
    const session = http2.connect(`https://127.0.0.1:${edge.addresses.https!.port}`, { ca: tlsFiles.ca });
    session.on('error', () => {});
    return session;
  }

  /**
   * An HTTP/2 POST of `chunks` (written 20 ms apart while the stream is open, with `headers`):
   * the status and body, the stream's RST_STREAM code, and how many chunks were written.
   */
  function h2post(
    session: http2.ClientHttp2Session,
    path: string,
    chunks: Buffer[],
    headers: http2.OutgoingHttpHeaders = {},
  ): Promise<{ status: number; body: string; rstCode: number; written: number }> {
    return new Promise((resolve) => {
      const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'text/plain', ...headers });
      let status = 0;
      let body = '';
      stream.on('response', (h) => {
        status = Number(h[':status']);
      });
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => {
        body += c;
      });
      stream.on('error', () => {});
      stream.on('close', () => resolve({ status, body, rstCode: stream.rstCode ?? 0, written: i }));
      let i = 0;
      const next = () => {
        if (stream.destroyed || stream.closed) return;
        if (i === chunks.length) return void stream.end();
        stream.write(chunks[i++]);
        setTimeout(next, 20);
      };
      next();
    });
  }

  it('defaults to 100 MiB; 0 means no limit', async () => {
    expect(edgeConfig([origin.url]).limits.maxBodySize).toBe(100 * 1024 * 1024);
    expect(formatSize(100 * 1024 * 1024)).toBe('100 MiB');
    expect(formatSize(1000)).toBe('1000 bytes');

    const edge = await edgeWith({ maxBodySize: 0 });
    const big = 'x'.repeat(200_000);
    const r = await sendRaw(edge.addresses.http!.port, `POST /unlimited HTTP/1.1\r\nHost: a.test\r\nContent-Length: ${big.length}\r\nConnection: close\r\n\r\n${big}`);
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen.get('/unlimited')).toMatchObject({ bytes: big.length, complete: true });
  });

  it('a Content-Length over the limit gets 413 at once, the connection closes, and the origin sees nothing', async () => {
    const edge = await edgeWith({ maxBodySize: LIMIT });
    // Only the head and a first piece: the edge answers without waiting for the rest.
    const r = await sendRaw(edge.addresses.http!.port, `POST /declared HTTP/1.1\r\nHost: a.test\r\nContent-Type: text/plain\r\nContent-Length: ${LIMIT + 1}\r\n\r\n${'a'.repeat(100)}`);
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.text).toMatch(/\r\nconnection: close\r\n/i);
    const body = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)) as { error: { status: number; code: string; message: string } };
    expect(body.error).toMatchObject({ status: 413, code: 'body_too_large', message: 'The request body is larger than the 1000 bytes this site accepts.' });
    expect(seen.has('/declared')).toBe(false);
    expect(await bodyTooLargeCount(edge)).toBe(1);
  });

  it('a body exactly at the limit passes whole, with a Content-Length or chunked', async () => {
    const edge = await edgeWith({ maxBodySize: LIMIT });
    const port = edge.addresses.http!.port;
    const body = 'b'.repeat(LIMIT);
    const declared = await sendRaw(port, `POST /at-limit HTTP/1.1\r\nHost: a.test\r\nContent-Length: ${LIMIT}\r\nConnection: close\r\n\r\n${body}`);
    expect(declared.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(declared.text).toContain(`got ${LIMIT}`);
    expect(seen.get('/at-limit')).toMatchObject({ bytes: LIMIT, complete: true });

    const pieces = [chunk(body.slice(0, 400)), chunk(body.slice(400, 800)), chunk(body.slice(800)), '0\r\n\r\n'];
    const chunked = await trickle(port, 'POST /at-limit-chunked HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', pieces);
    expect(chunked.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen.get('/at-limit-chunked')).toMatchObject({ bytes: LIMIT, complete: true });
    expect(await bodyTooLargeCount(edge)).toBe(0);
  });

  it('a chunked body growing past the limit gets 413, the origin request is aborted with at most the limit received', async () => {
    const edge = await edgeWith({ maxBodySize: LIMIT });
    // 10 chunks of 300 bytes: the fourth crosses 1000.
    const pieces = [...Array.from({ length: 10 }, () => chunk('c'.repeat(300))), '0\r\n\r\n'];
    const r = await trickle(edge.addresses.http!.port, 'POST /chunked HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n', pieces);
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.text).toMatch(/\r\nconnection: close\r\n/i);
    expect(r.text).toContain('"code":"body_too_large"');
    expect(r.written).toBeLessThan(pieces.length);
    await waitFor('the origin to see its request aborted', () => seen.get('/chunked')?.aborted);
    const s = seen.get('/chunked')!;
    expect(s.complete).toBe(false);
    expect(s.bytes).toBeLessThanOrEqual(LIMIT);
    expect(await bodyTooLargeCount(edge)).toBe(1);
  });

  it('once the response has started, a body growing past the limit cuts the exchange; the origin gets at most the limit', async () => {
    const edge = await edgeWith({ maxBodySize: LIMIT });
    const pieces = [...Array.from({ length: 10 }, () => chunk('d'.repeat(300))), '0\r\n\r\n'];
    const r = await trickle(edge.addresses.http!.port, 'POST /early HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n', pieces);
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.text).toContain('started');
    // Cut: the chunked answer never got its last chunk.
    expect(r.text).not.toMatch(/\r\n0\r\n\r\n$/);
    await waitFor('the origin to see its request aborted', () => seen.get('/early')?.aborted);
    expect(seen.get('/early')!.bytes).toBeLessThanOrEqual(LIMIT);
    expect(await bodyTooLargeCount(edge)).toBe(1);
    // The edge is fine.
    const after = await sendRaw(edge.addresses.http!.port, 'GET /after HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
    expect(after.text).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('HTTP/2: a content-length over the limit gets 413 and only the stream ends; the session goes on', async () => {
    // The edge ends each refused stream itself (RST_STREAM NO_ERROR after the answer): no rapid reset.
    const edge = await edgeWith({ maxBodySize: LIMIT, http2MaxResetsPerSecond: 2 }, true);
    const session = h2(edge);
    try {
      for (let i = 0; i < 5; i++) {
        // 50 chunks would take a second: the edge asks the client to stop long before.
        const r = await h2post(
          session,
          `/h2-declared/${i}`,
          Array.from({ length: 50 }, () => Buffer.alloc(100, 'e')),
          { 'content-length': String(50 * 100) },
        );
        expect(r.status).toBe(413);
        expect(JSON.parse(r.body)).toMatchObject({ error: { status: 413, code: 'body_too_large' } });
        expect(r.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
        expect(r.written).toBeLessThan(10);
        expect(seen.has(`/h2-declared/${i}`)).toBe(false);
      }
      // Same session, a body within the limit.
      const ok = await h2post(session, '/h2-small', [Buffer.alloc(300, 'f')]);
      expect(ok.status).toBe(200);
      expect(seen.get('/h2-small')).toMatchObject({ bytes: 300, complete: true });
      expect(session.closed).toBe(false);
      expect(await bodyTooLargeCount(edge)).toBe(5);
    } finally {
      session.close();
    }
  });

  it('HTTP/2: a body without content-length growing past the limit gets 413, the origin gets at most the limit', async () => {
    const edge = await edgeWith({ maxBodySize: LIMIT }, true);
    const session = h2(edge);
    try {
      const r = await h2post(
        session,
        '/h2-stream',
        Array.from({ length: 10 }, () => Buffer.alloc(300, 'g')),
      );
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'body_too_large' } });
      await waitFor('the origin to see its request aborted', () => seen.get('/h2-stream')?.aborted);
      expect(seen.get('/h2-stream')!.bytes).toBeLessThanOrEqual(LIMIT);
      const ok = await h2post(session, '/h2-after', [Buffer.alloc(LIMIT, 'h')]);
      expect(ok.status).toBe(200);
      expect(seen.get('/h2-after')).toMatchObject({ bytes: LIMIT, complete: true });
      expect(session.closed).toBe(false);
    } finally {
      session.close();
    }
  });

  it('requests without a body reach the origin as before: content-length 0, not chunked', async () => {
    const edge = await edgeWith({ maxBodySize: LIMIT }, true);
    const r = await sendRaw(edge.addresses.http!.port, 'POST /no-body HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen.get('/no-body')).toMatchObject({ bytes: 0, complete: true, framing: '0' });
    const session = h2(edge);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/h2-no-body' }, { endStream: true });
        stream.on('response', (h) => resolve(Number(h[':status'])));
        stream.on('error', reject);
        stream.resume();
      });
      expect(status).toBe(200);
      expect(seen.get('/h2-no-body')).toMatchObject({ bytes: 0, complete: true, framing: '0' });
      // A body of unknown length goes on chunked, counted.
      expect((await h2post(session, '/h2-unknown', [Buffer.alloc(10, 'j')])).status).toBe(200);
      expect(seen.get('/h2-unknown')).toMatchObject({ bytes: 10, complete: true, framing: 'chunked' });
    } finally {
      session.close();
    }
  });

  it('a reload lowering the limit applies to the next request', async () => {
    const edge = await edgeWith({ maxBodySize: '1MiB' });
    const port = edge.addresses.http!.port;
    const post = (path: string) => sendRaw(port, `POST ${path} HTTP/1.1\r\nHost: a.test\r\nContent-Length: 2000\r\nConnection: close\r\n\r\n${'i'.repeat(2000)}`);
    expect((await post('/before-reload')).text).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen.get('/before-reload')).toMatchObject({ bytes: 2000, complete: true });
    edge.apply(config({ maxBodySize: '1KiB' }));
    const r = await post('/after-reload');
    expect(r.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.text).toContain('the 1 KiB this site accepts');
    expect(seen.has('/after-reload')).toBe(false);
  });
});
