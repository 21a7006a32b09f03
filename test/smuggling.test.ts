/**
 * The http listener against hand-written bytes on raw sockets: framing that could smuggle a
 * request past the edge (RFC 9112 §6.1, §6.3) is refused with 400 and the connection closed,
 * and the origin never sees any of it; malformed or oversize heads get 400/431; slow heads are
 * cut; and the legitimate corners of HTTP/1.1 (pipelining, Connection-named hop-by-hop headers,
 * Expect: 100-continue) still work.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Edge } from '../src/server/edge.js';
import { edgeConfig, sendRaw, startOrigin, startTestEdge, type TestServer } from './helpers.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits the bytes of one or more HTTP/1.1 responses (Content-Length or chunked bodies). */
function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) throw new Error(`incomplete response head: ${JSON.stringify(rest.slice(0, 200))}`);
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    rest = rest.slice(end + 4);
    let body = '';
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        const size = parseInt(rest.slice(0, lineEnd), 16);
        rest = rest.slice(lineEnd + 2);
        if (size === 0) {
          rest = rest.slice(rest.indexOf('\r\n') + 2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    } else {
      const length = Number(headers['content-length'] ?? 0);
      body = rest.slice(0, length);
      rest = rest.slice(length);
    }
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body });
  }
  return out;
}

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

describe('request smuggling and malformed requests', () => {
  let origin: TestServer;
  let edge: Edge;
  let port: number;
  /** Every request the origin received. */
  const seen: Seen[] = [];

  beforeAll(async () => {
    origin = await startOrigin((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        const s = { method: req.method!, url: req.url!, headers: req.headers as Record<string, string>, body };
        seen.push(s);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(s));
      });
    });
    edge = await startTestEdge(edgeConfig([origin.url], { limits: { maxHeaderSize: 4096, headersTimeout: '500ms' } }));
    port = edge.addresses.http!.port;
  });
  afterAll(async () => {
    await edge.shutdown(1000);
    await origin.close();
  });

  /** Sends `bytes`; the edge must answer `status`, close the connection, and forward nothing. */
  async function expectRefused(bytes: string, status: number): Promise<RawResponse> {
    const before = seen.length;
    const ex = await sendRaw(port, bytes);
    expect(ex.closed, 'the edge closes the connection').toBe(true);
    const responses = parseResponses(ex.text);
    expect(responses.map((r) => r.status)).toEqual([status]);
    expect(seen.length, 'the origin saw nothing').toBe(before);
    return responses[0];
  }

  it('Content-Length with Transfer-Encoding (CL.TE): 400, closed, nothing forwarded', async () => {
    const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n';
    const r = await expectRefused(`POST /front HTTP/1.1\r\nHost: a.test\r\nContent-Length: ${5 + smuggled.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`, 400);
    expect(r.headers.connection).toBe('close');
    expect(JSON.parse(r.body)).toEqual({ error: { status: 400, code: 'malformed', pop: 'test' } });
  });

  it('Transfer-Encoding before Content-Length (TE.CL): 400', async () => {
    await expectRefused('POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n', 400);
  });

  it('obfuscated Transfer-Encoding: 400', async () => {
    for (const te of ['xchunked', 'chunked, identity', 'identity']) {
      await expectRefused(`POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: ${te}\r\n\r\n0\r\n\r\n`, 400);
    }
  });

  it('two different Content-Lengths: 400', async () => {
    await expectRefused('POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde', 400);
    await expectRefused('POST / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3, 5\r\n\r\nabcde', 400);
  });

  it('obs-fold (a header line continued on the next): 400', async () => {
    await expectRefused('GET / HTTP/1.1\r\nHost: a.test\r\nX-Folded: a\r\n b\r\n\r\n', 400);
  });

  it('bad request lines: 400', async () => {
    for (const line of ['GET', 'GET / HTTP/1.1 extra', 'GET /\tHTTP/1.1', 'G(T / HTTP/1.1', 'GET / HTTP/9.1x']) {
      await expectRefused(`${line}\r\nHost: a.test\r\n\r\n`, 400);
    }
  });

  it('bad header names, whitespace before the colon, NUL in a value: 400', async () => {
    const before = await edge.runtime.metrics.clientErrors.get();
    const malformed = () => before.values.find((v) => v.labels.kind === 'malformed')?.value ?? 0;
    const start = malformed();
    for (const header of ['Bad Name: x', 'Bad(name): x', 'X-A : x', 'X-A: a\x00b']) {
      await expectRefused(`GET / HTTP/1.1\r\nHost: a.test\r\n${header}\r\n\r\n`, 400);
    }
    const after = (await edge.runtime.metrics.clientErrors.get()).values.find((v) => v.labels.kind === 'malformed')?.value ?? 0;
    expect(after - start).toBe(4);
  });

  it('headers larger than limits.maxHeaderSize: 431', async () => {
    const r = await expectRefused(`GET / HTTP/1.1\r\nHost: a.test\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`, 431);
    expect(JSON.parse(r.body).error.code).toBe('header_overflow');
    // Many small headers add up the same way.
    const many = Array.from({ length: 200 }, (_, i) => `X-H${i}: ${'b'.repeat(20)}\r\n`).join('');
    await expectRefused(`GET / HTTP/1.1\r\nHost: a.test\r\n${many}\r\n`, 431);
  });

  it('HTTP/1.1 without Host: 400', async () => {
    await expectRefused('GET / HTTP/1.1\r\nX-A: b\r\n\r\n', 400);
  });

  it('two Host headers: 400 (RFC 9112 §3.2), nothing forwarded', async () => {
    const before = seen.length;
    const ex = await sendRaw(port, 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: close\r\n\r\n');
    const [r] = parseResponses(ex.text);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.code).toBe('bad_host');
    expect(seen.length).toBe(before);
  });

  it('a slowloris client (headers byte by byte past limits.headersTimeout) is cut off', async () => {
    const before = seen.length;
    // 300 bytes at one per 40 ms would take 12 s; headersTimeout is 500 ms.
    const head = `GET /slow HTTP/1.1\r\nHost: a.test\r\nX-Slow: ${'s'.repeat(250)}\r\n\r\n`;
    const result = await new Promise<{ text: string; sent: number }>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < head.length) socket.write(head[sent++]);
      }, 40);
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ text, sent });
      });
    });
    expect(result.sent).toBeLessThan(head.length); // closed while the head was still arriving
    if (result.text) expect(parseResponses(result.text).map((r) => r.status)).toEqual([408]);
    expect(seen.length).toBe(before);
  });

  it('pipelined requests on one connection are answered in order', async () => {
    const ex = await sendRaw(
      port,
      'POST /one HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\nfirst' + 'GET /two HTTP/1.1\r\nHost: a.test\r\n\r\n' + 'GET /three HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n',
    );
    expect(ex.closed).toBe(true);
    const responses = parseResponses(ex.text);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const bodies = responses.map((r) => JSON.parse(r.body) as Seen);
    expect(bodies.map((b) => [b.method, b.url, b.body])).toEqual([
      ['POST', '/one', 'first'],
      ['GET', '/two', ''],
      ['GET', '/three', ''],
    ]);
  });

  it('hop-by-hop headers, and the ones Connection names, never reach the origin', async () => {
    const ex = await sendRaw(
      port,
      'GET /hop HTTP/1.1\r\nHost: a.test\r\nConnection: close, X-Secret, X-Other\r\nX-Secret: 1\r\nX-Other: 2\r\n' +
        'Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-T\r\nX-Visible: yes\r\n\r\n',
    );
    const [r] = parseResponses(ex.text);
    expect(r.status).toBe(200);
    const got = (JSON.parse(r.body) as Seen).headers;
    for (const name of ['x-secret', 'x-other', 'keep-alive', 'proxy-connection', 'te', 'trailer']) {
      expect(got, name).not.toHaveProperty(name);
    }
    expect(got['x-visible']).toBe('yes');
    expect(got.connection).not.toMatch(/secret/i);
  });

  it('Expect: 100-continue: the body is sent after 100 Continue and reaches the origin', async () => {
    const result = await new Promise<{ interim: string; final: string }>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      let interim = '';
      socket.on('error', reject);
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        if (!interim && text.includes('\r\n\r\n')) {
          // Nothing is sent until the edge says continue.
          interim = text.slice(0, text.indexOf('\r\n\r\n') + 4);
          text = text.slice(interim.length);
          socket.write('hello');
        }
      });
      socket.on('close', () => resolve({ interim, final: text }));
      socket.write('POST /upload HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
    });
    expect(result.interim).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const [r] = parseResponses(result.final);
    expect(r.status).toBe(200);
    const got = JSON.parse(r.body) as Seen;
    expect(got.body).toBe('hello');
    expect(got.headers).not.toHaveProperty('expect');
  });
});
