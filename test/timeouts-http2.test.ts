/**
 * Request timeouts on the https listener (src/server/request-timeouts.ts): HTTP/2 streams get
 * limits.requestTimeout and limits.bodyIdleTimeout (a slow body, or no body at all while PINGs keep
 * the session busy, used to hold its origin request for good); HTTP/2 sessions without a stream
 * are closed after keepAliveTimeout, PINGs or not (Node's session timer already ignored them: a
 * guard against a change there); HTTP/1.1 bodies get bodyIdleTimeout on both listeners, and
 * HTTP/1.1 over TLS the same head timeout as plain HTTP/1.1 (held before too: a guard).
 */
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Edge } from '../src/server/edge.js';
import { edgeConfig, startOrigin, startTestEdge, waitFor, writeDevTls, type DevTlsFiles, type TestServer } from './helpers.js';

interface StreamResult {
  /** The :status the edge answered, or 0 when the stream was reset without one. */
  status: number;
  /** The RST_STREAM code (0 = NO_ERROR) the stream closed with. */
  rstCode: number;
  ms: number;
}

/** Resolves when `stream` closes (or after `giveUpMs`, then with status -1). */
function outcome(stream: http2.ClientHttp2Stream, giveUpMs = 8000): Promise<StreamResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let status = 0;
    stream.on('response', (h) => {
      status = Number(h[':status']);
    });
    stream.on('error', () => {});
    stream.resume();
    const giveUp = setTimeout(() => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      resolve({ status: -1, rstCode: -1, ms: Date.now() - started });
    }, giveUpMs);
    stream.once('close', () => {
      clearTimeout(giveUp);
      resolve({ status, rstCode: stream.rstCode ?? 0, ms: Date.now() - started });
    });
  });
}

describe('HTTP/2 and HTTP/1.1 request timeouts', () => {
  let origin: TestServer;
  let tlsFiles: DevTlsFiles;
  /** Paths whose request the origin saw go before its body ended. */
  const abortedAtOrigin: string[] = [];
  /** Requests the origin holds (seen, response not closed): what a slow client used to pin. */
  let originInflight = 0;
  /** Paths the origin got whole (the body ended). */
  const completeAtOrigin: string[] = [];
  const edges: Edge[] = [];
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    tlsFiles = writeDevTls();
    origin = await startOrigin((req, res) => {
      originInflight++;
      res.once('close', () => originInflight--);
      if (req.url?.startsWith('/late')) {
        // Answers a bodyless request after a while: not the client's slowness.
        setTimeout(() => res.end('late'), 1200);
        return;
      }
      req.on('data', () => {});
      req.on('error', () => {});
      req.on('aborted', () => abortedAtOrigin.push(req.url!));
      req.on('end', () => {
        completeAtOrigin.push(req.url!);
        res.end('ok');
      });
    });
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0)) c();
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

  function h2(edge: Edge): http2.ClientHttp2Session {
    const session = http2.connect(`https://127.0.0.1:${edge.addresses.https!.port}`, { ca: tlsFiles.ca });
    session.on('error', () => {});
    cleanups.push(() => session.destroy());
    return session;
  }

  /** PING and SETTINGS frames every 100 ms on `session`, the way a client keeps a connection looking alive. */
  function keepPinging(session: http2.ClientHttp2Session): void {
    const timer = setInterval(() => {
      if (!session.closed && !session.destroyed) {
        session.ping(() => {});
        session.settings({ enablePush: false });
      }
    }, 100);
    cleanups.push(() => clearInterval(timer));
  }

  it('a POST body trickled past requestTimeout gets 408; the origin request is aborted, the origin holds nothing', async () => {
    const edge = await edgeWith({ requestTimeout: '1s', bodyIdleTimeout: '10s' });
    const session = h2(edge);
    keepPinging(session);
    const stream = session.request({ ':method': 'POST', ':path': '/trickle', 'content-type': 'text/plain' }, { endStream: false });
    // One byte every 100 ms: never idle, never done.
    const timer = setInterval(() => {
      if (!stream.closed) stream.write('x');
    }, 100);
    cleanups.push(() => clearInterval(timer));
    const r = await outcome(stream);
    expect(r.status).toBe(408);
    expect(r.ms).toBeGreaterThanOrEqual(900);
    await waitFor('the origin to see its request aborted', () => abortedAtOrigin.includes('/trickle'));
    await waitFor('the origin to hold no request', () => originInflight === 0);
    expect(completeAtOrigin).not.toContain('/trickle');
    // The session itself is fine: the next request on it is served.
    const next = session.request({ ':path': '/after' });
    expect((await outcome(next)).status).toBe(200);
  });

  it('a POST that never sends its body, with PINGs, is cut after bodyIdleTimeout', async () => {
    const edge = await edgeWith({ requestTimeout: '20s', bodyIdleTimeout: '600ms' });
    const session = h2(edge);
    keepPinging(session);
    const stream = session.request({ ':method': 'POST', ':path': '/silent', 'content-length': '100' }, { endStream: false });
    const r = await outcome(stream);
    expect(r.status).toBe(408);
    expect(r.ms).toBeGreaterThanOrEqual(500);
    // undici writes the head with the first body byte: the origin may never have seen this one.
    await waitFor('the origin to hold no request', () => originInflight === 0);
    expect(completeAtOrigin).not.toContain('/silent');
  });

  it('a stream whose request ended is not cut while its origin takes longer than requestTimeout', async () => {
    const edge = await edgeWith({ requestTimeout: '500ms', bodyIdleTimeout: '500ms' });
    const session = h2(edge);
    const r = await outcome(session.request({ ':path': '/late' }));
    expect(r.status).toBe(200);
    // A POST whose whole body arrived in time is no slow client either.
    const post = session.request({ ':method': 'POST', ':path': '/late-post' }, { endStream: false });
    post.end('hello');
    expect((await outcome(post)).status).toBe(200);
  });

  it('a session without streams is closed after keepAliveTimeout although the client PINGs', async () => {
    const edge = await edgeWith({ keepAliveTimeout: '600ms' });
    const session = h2(edge);
    keepPinging(session);
    const started = Date.now();
    await new Promise((r) => session.once('connect', r));
    const r = await outcome(session.request({ ':path': '/one' }));
    expect(r.status).toBe(200);
    const closed = await new Promise<boolean>((resolve) => {
      const giveUp = setTimeout(() => resolve(false), 8000);
      session.once('close', () => {
        clearTimeout(giveUp);
        resolve(true);
      });
    });
    expect(closed, 'the edge closed the idle session').toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('HTTP/1.1 chunked bodies that go silent get 408 after bodyIdleTimeout, on both listeners', async () => {
    const edge = await edgeWith({ requestTimeout: '20s', bodyIdleTimeout: '600ms' });
    const head = 'POST /quiet HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n';
    const plain = net.connect(edge.addresses.http!.port, '127.0.0.1');
    const secure = tls.connect({ port: edge.addresses.https!.port, host: '127.0.0.1', ca: tlsFiles.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
    const results = await Promise.all(
      [plain, secure].map(
        (socket) =>
          new Promise<{ text: string; ms: number; closed: boolean }>((resolve) => {
            cleanups.push(() => socket.destroy());
            const started = Date.now();
            let text = '';
            socket.on('error', () => {});
            socket.on('data', (c: Buffer) => {
              text += c.toString('latin1');
            });
            const giveUp = setTimeout(() => resolve({ text, ms: Date.now() - started, closed: false }), 8000);
            socket.once('close', () => {
              clearTimeout(giveUp);
              resolve({ text, ms: Date.now() - started, closed: true });
            });
            socket.write(head);
          }),
      ),
    );
    for (const r of results) {
      expect(r.closed).toBe(true);
      expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(r.ms).toBeGreaterThanOrEqual(500);
    }
  });

  it('HTTP/1.1 over TLS: a head trickled past headersTimeout gets 408, as on the plain listener', async () => {
    const edge = await edgeWith({ headersTimeout: '400ms', requestTimeout: '5s' });
    const socket = tls.connect({ port: edge.addresses.https!.port, host: '127.0.0.1', ca: tlsFiles.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
    cleanups.push(() => socket.destroy());
    const head = `GET / HTTP/1.1\r\nHost: a.test\r\nX-Slow: ${'s'.repeat(200)}\r\n\r\n`;
    let sent = 0;
    socket.once('secureConnect', () => {
      const timer = setInterval(() => {
        if (sent < head.length && !socket.destroyed) socket.write(head[sent++]);
      }, 30);
      cleanups.push(() => clearInterval(timer));
    });
    const r = await new Promise<{ text: string; closed: boolean }>((resolve) => {
      let text = '';
      socket.on('error', () => {});
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
      });
      const giveUp = setTimeout(() => resolve({ text, closed: false }), 8000);
      socket.once('close', () => {
        clearTimeout(giveUp);
        resolve({ text, closed: true });
      });
    });
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(sent).toBeLessThan(head.length);
  });
});
