/**
 * The shield's connection-level limits over real sockets, clients told apart by loopback
 * address (127.0.0.2 the abusive one, 127.0.0.3 a normal one): open connections and new
 * connections per second per client (closed at once, no answer), slow heads and slow bodies
 * (cut by headersTimeout / requestTimeout while others are served), HTTP/2 rapid reset
 * (GOAWAY ENHANCE_YOUR_CALM, the process and other clients unharmed) and the HTTP/2 stream
 * limit the edge announces. Oversize heads (431) and a lone slowloris are in smuggling.test.ts.
 */
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Edge } from '../src/server/edge.js';
import { edgeConfig, startOrigin, startTestEdge, waitFor, writeDevTls, type DevTlsFiles, type TestServer } from './helpers.js';

const ATTACKER = '127.0.0.2';
const NORMAL = '127.0.0.3';

interface Exchange {
  /** What came back, latin1. */
  text: string;
  /** The edge closed (end, reset) before the client gave up. */
  closed: boolean;
  socket: net.Socket;
}

/**
 * Opens a connection from `localAddress`, writes `bytes`, and resolves once a complete response
 * head + `Content-Length` body has arrived (the socket stays open), the edge closed it, or
 * `timeoutMs` passed.
 */
function exchange(port: number, localAddress: string, bytes: string, timeoutMs = 3000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ text, closed, socket });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text)?.[1];
      if (end >= 0 && length !== undefined && text.length >= end + 4 + Number(length)) finish(false);
    });
    socket.write(bytes);
  });
}

const GET = 'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n';

/** A GET from `localAddress` on a fresh connection: the status, or 0 when the edge closed it unanswered. */
async function get(port: number, localAddress: string): Promise<number> {
  const ex = await exchange(port, localAddress, 'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
  ex.socket.destroy();
  return ex.text ? Number(ex.text.split(' ')[1]) : 0;
}

/** A node:http2 client session to the edge's https `port`, from `localAddress`. */
function h2connect(port: number, ca: string, localAddress = '127.0.0.1'): http2.ClientHttp2Session {
  const session = http2.connect(`https://127.0.0.1:${port}`, {
    createConnection: () => tls.connect({ socket: net.connect({ host: '127.0.0.1', port, localAddress }), ca, ALPNProtocols: ['h2'] }),
  });
  session.on('error', () => {});
  return session;
}

async function refusedCount(edge: Edge, reason: string, listener?: string): Promise<number> {
  const { values } = await edge.runtime.metrics.connectionsRefused.get();
  return values.filter((v) => v.labels.reason === reason && (!listener || v.labels.listener === listener)).reduce((s, v) => s + v.value, 0);
}

async function clientErrorCount(edge: Edge, kind: string): Promise<number> {
  const { values } = await edge.runtime.metrics.clientErrors.get();
  return values.filter((v) => v.labels.kind === kind).reduce((s, v) => s + v.value, 0);
}

describe('connection limits', () => {
  let origin: TestServer;
  let tlsFiles: DevTlsFiles;
  /** Request bodies the origin received in full, by path. */
  const bodies = new Map<string, string>();
  /** Requests the origin saw end before their body did. */
  const abortedAtOrigin: string[] = [];
  const edges: Edge[] = [];
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    tlsFiles = writeDevTls();
    origin = await startOrigin((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('aborted', () => abortedAtOrigin.push(req.url!));
      req.on('error', () => {});
      req.on('end', () => {
        bodies.set(req.url!, body);
        res.setHeader('content-type', 'text/plain');
        res.end('ok');
      });
    });
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(edges.splice(0).map((e) => e.shutdown(500)));
  });
  afterAll(async () => {
    await origin.close();
    rmSync(tlsFiles.dir, { recursive: true, force: true });
  });

  async function edgeWith(limits: Record<string, unknown>, https = false): Promise<Edge> {
    const edge = await startTestEdge(
      edgeConfig([origin.url], {
        limits,
        ...(https ? { listen: { http: '127.0.0.1:0', https: '127.0.0.1:0' }, tls: { certificates: [{ cert: tlsFiles.certFile, key: tlsFiles.keyFile }] } } : {}),
      }),
    );
    edges.push(edge);
    return edge;
  }

  it('a client past clientConnections has its extra connections closed unanswered; another client is served', async () => {
    const edge = await edgeWith({ clientConnections: 3, clientConnectionRate: 0 });
    const port = edge.addresses.http!.port;
    // Three keep-alive connections from the attacker, each served and held open.
    const held = await Promise.all([1, 2, 3].map(() => exchange(port, ATTACKER, GET)));
    sockets.push(...held.map((h) => h.socket));
    expect(held.map((h) => h.text.split(' ')[1])).toEqual(['200', '200', '200']);
    expect(edge.runtime.connections.open(ATTACKER)).toBe(3);

    const extra = await Promise.all([1, 2, 3].map(() => exchange(port, ATTACKER, GET)));
    for (const ex of extra) expect(ex).toMatchObject({ closed: true, text: '' });
    expect(await refusedCount(edge, 'too-many-connections', 'http')).toBe(3);
    // Nothing read, so nothing counts as a client error.
    expect(await clientErrorCount(edge, 'malformed')).toBe(0);

    expect(await get(port, NORMAL)).toBe(200);
    // A closed connection makes room again.
    held[0].socket.destroy();
    await waitFor('the gate to release the closed connection', () => edge.runtime.connections.open(ATTACKER) === 2);
    expect(await get(port, ATTACKER)).toBe(200);
  });

  it('applies to the https listener too, before the TLS handshake', async () => {
    const edge = await edgeWith({ clientConnections: 1, clientConnectionRate: 0 }, true);
    const port = edge.addresses.https!.port;
    const first = h2connect(port, tlsFiles.ca, ATTACKER);
    await new Promise((r) => first.once('connect', r));
    expect(edge.runtime.connections.open(ATTACKER)).toBe(1);
    const second = h2connect(port, tlsFiles.ca, ATTACKER);
    const failed = await new Promise<boolean>((resolve) => {
      second.once('error', () => resolve(true));
      second.once('connect', () => resolve(false));
    });
    second.destroy();
    expect(failed).toBe(true);
    expect(await refusedCount(edge, 'too-many-connections', 'https')).toBe(1);
    // The TLS socket the refused connection was wrapped in is not also counted as a hang-up.
    expect(await clientErrorCount(edge, 'reset')).toBe(0);
    first.close();
  });

  it('new connections faster than clientConnectionRate are cut; a normal client is served', async () => {
    // 5 per second, a burst of as many again: 10 at once.
    const edge = await edgeWith({ clientConnections: 0, clientConnectionRate: 5 });
    const port = edge.addresses.http!.port;
    const statuses = await Promise.all(Array.from({ length: 40 }, () => get(port, ATTACKER)));
    // Answered: 200, or the shield's challenge once the client is past half its budget (a security-level signal).
    const served = statuses.filter((s) => s > 0).length;
    const cut = statuses.filter((s) => s === 0).length;
    expect(served + cut).toBe(40);
    // The budget is 10, plus one per 200 ms the flood took (generously: a slow shared machine).
    expect(served).toBeGreaterThanOrEqual(10);
    expect(served).toBeLessThanOrEqual(20);
    expect(await refusedCount(edge, 'too-fast', 'http')).toBe(cut);
    expect(edge.runtime.connections.burst(ATTACKER)).toBe(true);
    expect(edge.runtime.connections.burst(NORMAL)).toBe(false);
    expect(await get(port, NORMAL)).toBe(200);
  });

  it('slowloris: heads trickled byte by byte are cut after headersTimeout while another client is served', async () => {
    const edge = await edgeWith({ headersTimeout: '300ms', requestTimeout: '2s' });
    const port = edge.addresses.http!.port;
    const head = `GET /slow HTTP/1.1\r\nHost: a.test\r\nX-Slow: ${'s'.repeat(400)}\r\n\r\n`;
    const started = Date.now();
    // Ten slow clients at 1 byte / 30 ms: the heads would take 13 s.
    const slow = Array.from(
      { length: 10 },
      () =>
        new Promise<{ sent: number; ms: number; text: string }>((resolve) => {
          const socket = net.connect({ host: '127.0.0.1', port, localAddress: ATTACKER });
          sockets.push(socket);
          let sent = 0;
          let text = '';
          const timer = setInterval(() => {
            if (sent < head.length) socket.write(head[sent++]);
          }, 30);
          socket.on('data', (c: Buffer) => {
            text += c.toString('latin1');
          });
          socket.on('error', () => {});
          const done = () => {
            clearInterval(timer);
            clearTimeout(giveUp);
            socket.destroy();
            resolve({ sent, ms: Date.now() - started, text });
          };
          const giveUp = setTimeout(done, 8000);
          socket.on('close', done);
        }),
    );
    // Meanwhile a normal client is served, again and again.
    const normal: number[] = [];
    for (let i = 0; i < 5; i++) {
      normal.push(await get(port, NORMAL));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(normal).toEqual([200, 200, 200, 200, 200]);
    const results = await Promise.all(slow);
    for (const r of results) {
      expect(r.sent).toBeLessThan(head.length);
      // 300 ms plus Node's check interval (100 ms here), with a wide margin for a busy machine.
      expect(r.ms).toBeLessThan(5000);
      if (r.text) expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    }
    expect(bodies.has('/slow')).toBe(false);
    expect(await clientErrorCount(edge, 'timeout')).toBe(10);
  });

  it('slow POST: a body trickled past requestTimeout is cut, the origin never gets it whole, another client is served', async () => {
    const edge = await edgeWith({ headersTimeout: '300ms', requestTimeout: '700ms' });
    const port = edge.addresses.http!.port;
    const started = Date.now();
    const slowPost = new Promise<{ sent: number; ms: number; text: string; closed: boolean }>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port, localAddress: ATTACKER });
      sockets.push(socket);
      // 1000 bytes at 1 / 30 ms would take 30 s.
      socket.write('POST /slow-post HTTP/1.1\r\nHost: a.test\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n');
      let sent = 0;
      let text = '';
      const timer = setInterval(() => {
        if (!socket.destroyed) {
          socket.write('b');
          sent++;
        }
      }, 30);
      const done = (closed: boolean) => {
        clearInterval(timer);
        clearTimeout(giveUp);
        socket.destroy();
        resolve({ sent, ms: Date.now() - started, text, closed });
      };
      const giveUp = setTimeout(() => done(false), 8000);
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
      });
      socket.on('error', () => {});
      socket.on('close', () => done(true));
    });
    const normal = await exchange(port, NORMAL, 'POST /normal-post HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    expect(normal.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(bodies.get('/normal-post')).toBe('hello');
    const r = await slowPost;
    expect(r.closed, `closed by the edge (it sent ${JSON.stringify(r.text)})`).toBe(true);
    if (r.text) expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.sent).toBeLessThan(1000);
    expect(r.ms).toBeGreaterThanOrEqual(600);
    expect(r.ms).toBeLessThan(7000);
    expect(bodies.has('/slow-post')).toBe(false);
    await waitFor('the origin to see the slow request go', () => abortedAtOrigin.includes('/slow-post'));
  });

  it('a keep-alive connection is closed after maxRequestsPerConnection requests', async () => {
    const edge = await edgeWith({ maxRequestsPerConnection: 2 });
    const port = edge.addresses.http!.port;
    const first = await exchange(port, NORMAL, GET);
    sockets.push(first.socket);
    expect(first.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(first.text).toMatch(/\r\nconnection: keep-alive\r\n/i);
    // The second (last) request on the same connection is answered with Connection: close, then the edge hangs up.
    // (Node alone would only write the header and keep the connection until keepAliveTimeout.)
    const second = await new Promise<{ text: string; closed: boolean }>((resolve) => {
      let text = '';
      const giveUp = setTimeout(() => resolve({ text, closed: false }), 5000);
      first.socket.removeAllListeners('data');
      first.socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
      });
      first.socket.once('close', () => {
        clearTimeout(giveUp);
        resolve({ text, closed: true });
      });
      first.socket.write(GET);
    });
    expect(second.closed).toBe(true);
    expect(second.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(second.text).toMatch(/\r\nconnection: close\r\n/i);
  });

  it('HTTP/2 rapid reset: the session goes with GOAWAY ENHANCE_YOUR_CALM; the process and other clients are fine', async () => {
    const edge = await edgeWith({ http2MaxResetsPerSecond: 50 }, true);
    const port = edge.addresses.https!.port;
    const attacker = h2connect(port, tlsFiles.ca, ATTACKER);
    let goaway: number | undefined;
    attacker.on('goaway', (code) => {
      goaway ??= code;
    });
    const closed = new Promise<void>((r) => attacker.once('close', () => r()));
    await new Promise((r) => attacker.once('connect', r));
    let sent = 0;
    // Open and cancel at once, in a tight loop, until the edge hangs up (2000 at most).
    await new Promise<void>((resolve) => {
      const loop = () => {
        for (let i = 0; i < 50; i++) {
          if (attacker.closed || attacker.destroyed || sent >= 2000) return resolve();
          try {
            const stream = attacker.request({ ':path': `/rr/${sent}` });
            stream.on('error', () => {});
            stream.close(http2.constants.NGHTTP2_CANCEL);
            sent++;
          } catch {
            return resolve();
          }
        }
        setImmediate(loop);
      };
      loop();
    });
    const hungUp = await Promise.race([closed.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 8000))]);
    if (!hungUp) attacker.destroy();
    expect(hungUp, 'the attacker saw its session close').toBe(true);
    await waitFor("the edge to let go of the attacker's connection", () => edge.runtime.connections.open(ATTACKER) === 0);
    // Ours: nghttp2's own guard (a burst of 1000, then GOAWAY INTERNAL_ERROR) would say 2.
    expect(goaway).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(await refusedCount(edge, 'h2-rapid-reset', 'https')).toBe(1);

    // Another client: served over HTTP/2, and it may cancel a few streams without harm.
    const other = h2connect(port, tlsFiles.ca, NORMAL);
    for (let i = 0; i < 10; i++)
      other
        .request({ ':path': `/cancel/${i}` })
        .on('error', () => {})
        .close(http2.constants.NGHTTP2_CANCEL);
    const statuses = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          new Promise<number>((resolve, reject) => {
            const req = other.request({ ':path': `/fine/${i}` });
            req.on('response', (h) => resolve(Number(h[':status'])));
            req.on('error', reject);
            req.resume();
          }),
      ),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(other.closed).toBe(false);
    other.close();
  });

  it('HTTP/2: limits.http2MaxStreams is the SETTINGS_MAX_CONCURRENT_STREAMS clients see, and a reload changes it for new sessions', async () => {
    const edge = await edgeWith({ http2MaxStreams: 7 }, true);
    const settingsOf = async () => {
      const session = h2connect(edge.addresses.https!.port, tlsFiles.ca);
      await new Promise((r) => session.once('remoteSettings', r));
      const max = session.remoteSettings.maxConcurrentStreams;
      session.close();
      return max;
    };
    expect(await settingsOf()).toBe(7);
    edge.apply(
      edgeConfig([origin.url], {
        limits: { http2MaxStreams: 9 },
        listen: { http: '127.0.0.1:0', https: '127.0.0.1:0' },
        tls: { certificates: [{ cert: tlsFiles.certFile, key: tlsFiles.keyFile }] },
      }),
    );
    expect(await settingsOf()).toBe(9);
  });
});
