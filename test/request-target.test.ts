/**
 * The request target, read once (issue 14, items 7 and 8, and the route phase's refusals): rules
 * match the normalised path, the origin gets origin-form with the routed authority, `OPTIONS *`
 * is the edge's to answer, and a request the edge cannot read closes its connection.
 */
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Edge } from '../src/server/edge.js';
import { edgeConfig, sendRaw, startOrigin, startTestEdge, waitFor, type TestServer } from './helpers.js';

describe('request target', () => {
  let origin: TestServer;
  let edge: Edge;
  let port: number;
  const seen: { url: string; host: string; method: string }[] = [];

  beforeAll(async () => {
    origin = await startOrigin((req: http.IncomingMessage, res) => {
      seen.push({ url: req.url!, host: req.headers.host!, method: req.method! });
      res.end(`origin saw ${req.url}`);
    });
    edge = await startTestEdge(
      edgeConfig([origin.url], {
        health: { passive: { consecutiveFailures: 2 } },
        rules: [{ match: '*/admin/*', forwardingUrl: { url: 'https://login.example/', status: 302 } }],
        security: { rateLimits: [{ match: '*/limited/*', requests: 1, period: '1m', action: 'block' }] },
      }),
    );
    port = edge.addresses.http!.port;
  });
  afterAll(async () => {
    await edge?.shutdown(100);
    await origin?.close();
  });

  const requestsCounted = async () => (await edge.runtime.metrics.requests.get()).values.reduce((n, v) => n + v.value, 0);
  const get = (target: string, host = 'a.example') => sendRaw(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

  it.each(['/admin/x', '/x/../admin/x', '/x/%2e%2e/admin/x', '//admin/x', '/x/.%2E/admin/./x', 'http://a.example/x/../admin/x'])('a rule for /admin/* matches %s', async (target) => {
    const r = await get(target);
    expect(r.text).toMatch(/^HTTP\/1\.1 302 /);
    expect(r.text).toMatch(/location: https:\/\/login\.example\//i);
  });

  it('a rate limit counts /limited/a and /x/../limited/a as one URL', async () => {
    expect((await get('/limited/a')).text).toMatch(/^HTTP\/1\.1 200 /);
    expect((await get('/x/../limited/a')).text).toMatch(/^HTTP\/1\.1 429 /);
    expect((await get('/limited/%61')).text).toMatch(/^HTTP\/1\.1 429 /);
  });

  it('the origin receives the normalised path in origin-form and the routed authority', async () => {
    seen.length = 0;
    const r = await get('/p/./q/../r%7e?x=/../y');
    expect(r.text).toContain('origin saw /p/r~?x=/../y');
    const abs = await get('http://b.example:8080/p/../z?k', 'a.example');
    expect(abs.text).toContain('origin saw /z?k');
    expect(seen.map((s) => [s.url, s.host])).toEqual([
      ['/p/r~?x=/../y', 'a.example'],
      ['/z?k', 'b.example:8080'],
    ]);
  });

  it('a WebSocket upgrade goes to the origin in origin-form; one whose target is not a URL is refused at the edge', async () => {
    const upgrades: string[] = [];
    origin.server.on('upgrade', (req: http.IncomingMessage, socket) => {
      upgrades.push(req.url!);
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    const upgrade = (target: string) =>
      sendRaw(port, `GET ${target} HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    expect((await upgrade('http://[')).text).toMatch(/^HTTP\/1\.1 400 /);
    expect((await upgrade('/%E0%A4%A')).text).toMatch(/^HTTP\/1\.1 400 /);
    expect((await upgrade('http://a.example/x/../ws?t=1')).text).toMatch(/^HTTP\/1\.1 403 /);
    expect(upgrades).toEqual(['/ws?t=1']);
  });

  it('refuses a malformed escape with 400 and closes the connection', async () => {
    seen.length = 0;
    const r = await sendRaw(port, 'GET /%E0%A4%A HTTP/1.1\r\nHost: a.example\r\n\r\nGET /second HTTP/1.1\r\nHost: a.example\r\n\r\n');
    expect(r.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(r.text).toMatch(/connection: close/i);
    expect(r.text).not.toContain('origin saw');
    expect(r.closed).toBe(true);
    expect(seen).toEqual([]);
  });

  it('answers OPTIONS * itself: the origin never sees it, and 30 of them count against no origin', async () => {
    seen.length = 0;
    for (let i = 0; i < 30; i++) {
      const r = await sendRaw(port, 'OPTIONS * HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n');
      expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
      expect(r.text).toMatch(/allow: GET, HEAD, POST/i);
    }
    expect(seen).toEqual([]);
    const { values } = await edge.runtime.metrics.upstreamErrors.get();
    expect(values.reduce((n, v) => n + v.value, 0)).toBe(0);
    // Passive health would have ejected the only origin after two failures: it still answers.
    expect((await get('/after')).text).toContain('origin saw /after');
  });

  it('refuses * for other methods', async () => {
    expect((await sendRaw(port, 'GET * HTTP/1.1\r\nHost: a.example\r\n\r\n')).text).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('a route-phase 400 (two Host headers) closes the connection: a request pipelined behind it is not served', async () => {
    seen.length = 0;
    const before = await requestsCounted();
    const r = await sendRaw(port, 'GET /one HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\nGET /second HTTP/1.1\r\nHost: a.example\r\n\r\n');
    expect(r.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(r.text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(r.closed).toBe(true);
    expect(seen).toEqual([]);
    // Both requests end (counted, logged, out of the in-flight count a graceful stop waits on).
    await waitFor('both requests observed', async () => (await requestsCounted()) === before + 2);
  });

  it.each(['HTTP/2.0', 'HTTP/0.9'])('answers a request line saying %s with 505 and closes: nothing forwarded, the worker up', async (version) => {
    seen.length = 0;
    // Node's HTTP/1.x parser takes these versions; a worker once read such a request as an HTTP/2 stream and died.
    const r = await sendRaw(port, `GET /v HTTP/${version.slice(5)}\r\nHost: a.example\r\n\r\nGET /after HTTP/1.1\r\nHost: a.example\r\n\r\n`);
    expect(r.text).toMatch(/^HTTP\/1\.1 505 /);
    expect(r.text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(r.closed).toBe(true);
    const upgrade = await sendRaw(
      port,
      `GET /ws HTTP/${version.slice(5)}\r\nHost: a.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    expect(upgrade.text).toMatch(/^HTTP\/1\.1 505 /);
    expect(seen).toEqual([]);
    expect((await get('/still-up')).text).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('refuses a transfer coding other than chunked with 501 (the body keeps no coding it lost)', async () => {
    seen.length = 0;
    const r = await sendRaw(port, 'POST /up HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    expect(r.text).toMatch(/^HTTP\/1\.1 501 /);
    expect(r.closed).toBe(true);
    expect(seen).toEqual([]);
  });

  it('refuses a request with more header fields than the edge reads (431), never forwards it with fields dropped', async () => {
    seen.length = 0;
    let head = 'GET /many HTTP/1.1\r\nHost: a.example\r\n';
    for (let i = 0; i < 2500; i++) head += `x${i}: 1\r\n`;
    const big = await startTestEdge(edgeConfig([origin.url], { limits: { maxHeaderSize: '64KiB' } }));
    try {
      const r = await sendRaw(big.addresses.http!.port, `${head}\r\n`);
      expect(r.text).toMatch(/^HTTP\/1\.1 431 /);
      expect(seen).toEqual([]);
    } finally {
      await big.shutdown(100);
    }
  });
});
