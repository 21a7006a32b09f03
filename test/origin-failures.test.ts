/**
 * What the client sees when an origin misbehaves, over real sockets: refused, reset, silent,
 * garbage, truncated and stalled origins each get a classified answer (502/504, or a cut body
 * once headers are out), are counted in outpost_upstream_errors_total by kind, and leave the
 * edge serving. Plus client aborts (the origin exchange is aborted too) and the route/balance
 * answers: 400, 421, 508, 530.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { Edge } from '../src/server/edge.js';
import type { OriginRuntime } from '../src/upstream/origin.js';
import { closedPort, edgeConfig, edgeUrl, sendRaw, startOrigin, startRawOrigin, startTestEdge, upstreamErrorCount, type RawServer, type TestServer } from './helpers.js';

interface ErrorJson {
  error: { status: number; code: string; message: string; pop: string; requestId: string };
}

/** A raw HTTP/1.1 response head with a Content-Length, followed by `sent` bytes of its body. */
function partialResponse(length: number, sent: number): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${length}\r\n\r\n${'x'.repeat(sent)}`;
}

describe('origin failures', () => {
  let ok: TestServer;
  let slow: TestServer;
  const raws: RawServer[] = [];
  let edge: Edge;
  let base: string;
  /** Origin side of the slow exchange: resolves when the origin sees the request go away. */
  let slowClosed: Promise<{ finished: boolean }> = new Promise(() => {});
  let truncatedSocket: Socket | undefined;

  beforeAll(async () => {
    ok = await startOrigin((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
    // A large response sent slowly: 64 KiB every 20 ms, 64 MiB in all (never finishes in a test).
    slow = await startOrigin((_req, res) => {
      let finishedResponse = false;
      slowClosed = new Promise((resolve) => {
        res.once('close', () => resolve({ finished: finishedResponse }));
      });
      res.once('finish', () => {
        finishedResponse = true;
      });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(64 * 1024 * 1024) });
      const chunk = Buffer.alloc(64 * 1024, 'z');
      const timer = setInterval(() => res.write(chunk), 20);
      res.once('close', () => clearInterval(timer));
    });
    const onRequest = (act: (socket: Socket) => void) => (socket: Socket) => socket.once('data', () => act(socket));
    const reset = await startRawOrigin(onRequest((s) => s.resetAndDestroy()));
    const hang = await startRawOrigin(onRequest(() => {}));
    const garbage = await startRawOrigin(onRequest((s) => s.end('SSH-2.0-OpenSSH_9.6 not http at all\r\n\r\n')));
    // Sends a tenth of its body, then closes when the test says (once the client has the headers).
    const truncated = await startRawOrigin(
      onRequest((s) => {
        truncatedSocket = s;
        s.write(partialResponse(1000, 100));
      }),
    );
    const stall = await startRawOrigin(onRequest((s) => s.write(partialResponse(100_000, 1000))));
    raws.push(reset, hang, garbage, truncated, stall);
    const refusedPort = await closedPort();

    const site = (name: string, address: string, extra: Record<string, unknown> = {}) => ({
      pool: [name, { origins: [{ name: 'o1', address, ...extra }] }] as const,
      lb: { hostname: `${name}.test`, defaultPools: [name] },
    });
    const sites = [
      site('ok', ok.url),
      site('slow', slow.url),
      site('refused', `http://127.0.0.1:${refusedPort}`),
      site('reset', reset.url),
      site('hang', hang.url),
      site('garbage', garbage.url),
      site('truncated', truncated.url),
      site('stall', stall.url),
      site('disabled', ok.url, { enabled: false }),
    ];
    edge = await startTestEdge(
      edgeConfig([], {
        upstream: { responseTimeout: '300ms', bodyTimeout: '300ms' },
        pools: Object.fromEntries(sites.map((s) => s.pool)),
        // No `*` balancer: unknown hosts get 421.
        loadBalancers: sites.map((s) => s.lb),
      }),
    );
    base = edgeUrl(edge);
  });

  afterAll(async () => {
    await edge.shutdown(1000);
    await Promise.all([ok.close(), slow.close(), ...raws.map((r) => r.close())]);
  });

  const get = (host: string, headers: Record<string, string> = {}) => request(`${base}/path`, { headers: { host, ...headers } });

  /** The edge is alive and still proxies. */
  async function expectServing(): Promise<void> {
    const r = await get('ok.test');
    expect(r.statusCode).toBe(200);
    const body = (await r.body.json()) as { url: string };
    expect(body.url).toBe('/path');
  }

  const originOf = (pool: string): OriginRuntime => edge.runtime.snapshot.origins.find((o) => o.pool === pool)!;

  it('refused connection: 502 JSON naming the pop and the request id', async () => {
    const before = await upstreamErrorCount(edge, 'refused', 'refused/o1');
    const r = await get('refused.test', { 'x-request-id': 'refused-req-1' });
    expect(r.statusCode).toBe(502);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-request-id']).toBe('refused-req-1');
    const body = (await r.body.json()) as ErrorJson;
    expect(body.error).toMatchObject({ status: 502, code: 'origin_refused', pop: 'test', requestId: 'refused-req-1' });
    expect(await upstreamErrorCount(edge, 'refused', 'refused/o1')).toBe(before + 1);
    // The same count as /metrics shows it.
    const text = await edge.runtime.metrics.registry.getSingleMetricAsString('outpost_upstream_errors_total');
    expect(text).toContain(`outpost_upstream_errors_total{origin="refused/o1",kind="refused"} ${before + 1}`);
    await expectServing();
  });

  it('refused connection: an HTML page for browsers', async () => {
    const r = await get('refused.test', { accept: 'text/html,application/xhtml+xml', 'x-request-id': 'refused-html-1' });
    expect(r.statusCode).toBe(502);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    const html = await r.body.text();
    expect(html).toContain('<h1>502 Bad Gateway</h1>');
    expect(html).toContain('<b>test</b>');
    expect(html).toContain('refused-html-1');
    expect(html).toContain('origin_refused');
  });

  it('reset before answering: 502', async () => {
    const before = await upstreamErrorCount(edge, 'reset', 'reset/o1');
    const r = await get('reset.test');
    expect(r.statusCode).toBe(502);
    expect(((await r.body.json()) as ErrorJson).error.code).toBe('origin_reset');
    expect(await upstreamErrorCount(edge, 'reset', 'reset/o1')).toBe(before + 1);
    await expectServing();
  });

  it('no answer within upstream.responseTimeout: 504', async () => {
    const before = await upstreamErrorCount(edge, 'timeout', 'hang/o1');
    const r = await get('hang.test');
    expect(r.statusCode).toBe(504);
    expect(((await r.body.json()) as ErrorJson).error).toMatchObject({ code: 'origin_timeout', pop: 'test' });
    expect(await upstreamErrorCount(edge, 'timeout', 'hang/o1')).toBe(before + 1);
    expect(originOf('hang').load.inflight).toBe(0);
    await expectServing();
  });

  it('garbage instead of HTTP: 502', async () => {
    const before = await upstreamErrorCount(edge, 'bad_response', 'garbage/o1');
    const r = await get('garbage.test');
    expect(r.statusCode).toBe(502);
    expect(((await r.body.json()) as ErrorJson).error.code).toBe('origin_bad_response');
    expect(await upstreamErrorCount(edge, 'bad_response', 'garbage/o1')).toBe(before + 1);
    await expectServing();
  });

  it('origin closes mid-body: the client gets the headers and a cut body, not a hang', async () => {
    const before = await upstreamErrorCount(edge, 'reset', 'truncated/o1');
    const r = await get('truncated.test');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-length']).toBe('1000');
    truncatedSocket!.destroy();
    await expect(r.body.arrayBuffer()).rejects.toThrow();
    expect(await upstreamErrorCount(edge, 'reset', 'truncated/o1')).toBe(before + 1);
    expect(originOf('truncated').load.inflight).toBe(0);
    await expectServing();
  });

  it('origin stalls mid-body past upstream.bodyTimeout: the client response is cut', async () => {
    const before = await upstreamErrorCount(edge, 'body_timeout', 'stall/o1');
    const r = await get('stall.test');
    expect(r.statusCode).toBe(200);
    await expect(r.body.arrayBuffer()).rejects.toThrow();
    expect(await upstreamErrorCount(edge, 'body_timeout', 'stall/o1')).toBe(before + 1);
    expect(originOf('stall').load.inflight).toBe(0);
    await expectServing();
  });

  it('a client that leaves mid-response makes the edge abort the origin request', async () => {
    const origin = originOf('slow');
    const client = http.get(`${base}/big`, { headers: { host: 'slow.test' } });
    client.on('error', () => {});
    const res = await new Promise<http.IncomingMessage>((resolve) => client.once('response', resolve));
    expect(res.statusCode).toBe(200);
    // Take some of the body, then hang up.
    let received = 0;
    await new Promise<void>((resolve) => {
      res.on('data', (c: Buffer) => {
        received += c.length;
        if (received >= 128 * 1024) resolve();
      });
    });
    expect(origin.load.inflight).toBe(1);
    client.destroy();
    const seen = await slowClosed;
    expect(seen.finished).toBe(false); // the origin saw its request go away before the response ended
    await expect.poll(() => origin.load.inflight).toBe(0);
    await expectServing();
  });

  it('unknown host with no `*` balancer: 421', async () => {
    const r = await get('nobody.test');
    expect(r.statusCode).toBe(421);
    expect(((await r.body.json()) as ErrorJson).error).toMatchObject({ code: 'unknown_host', pop: 'test' });
  });

  it('invalid Host: 400, never forwarded', async () => {
    for (const host of ['a..test', 'ok.test:http', 'x@ok.test']) {
      const r = await get(host);
      expect(r.statusCode, host).toBe(400);
      expect(((await r.body.json()) as ErrorJson).error.code).toBe('bad_host');
    }
  });

  it('a request that already passed this pop (Via) is a loop: 508', async () => {
    const r = await get('ok.test', { via: '1.0 elsewhere, 1.1 test' });
    expect(r.statusCode).toBe(508);
    expect(((await r.body.json()) as ErrorJson).error.code).toBe('loop_detected');
    // Another pop's name in Via is fine.
    const other = await get('ok.test', { via: '1.1 fra' });
    expect(other.statusCode).toBe(200);
    const seen = (await other.body.json()) as { headers: Record<string, string> };
    expect(seen.headers.via).toBe('1.1 fra, 1.1 test');
  });

  it('a pool whose only origin is disabled: 530', async () => {
    const r = await get('disabled.test');
    expect(r.statusCode).toBe(530);
    expect(((await r.body.json()) as ErrorJson).error.code).toBe('no_origin');
  });

  it('a client that hangs up in the middle of its headers does not take the edge down', async () => {
    const ex = await sendRaw(edge.addresses.http!.port, 'GET /path HTTP/1.1\r\nHost: ok.test\r\nX-Half: ', 200);
    expect(ex.text).toBe('');
    await expectServing();
  });
});

describe('streaming origins', () => {
  let stream: TestServer;
  let edge: Edge;
  /** Lets the origin send its last event. */
  let releaseStream = () => {};

  beforeAll(async () => {
    // Server-sent events: headers and a first event, then nothing until the test says so.
    stream = await startOrigin((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write('data: first\n\n');
      releaseStream = () => res.end('data: last\n\n');
    });
    edge = await startTestEdge(edgeConfig([stream.url]));
  });
  afterAll(async () => {
    await edge.shutdown(1000);
    await stream.close();
  });

  it('an origin that pauses: what it sent so far reaches the client without waiting for more', async () => {
    // The origin sends nothing more until the client has the first event, so a proxy that holds
    // it back (for a later, bigger write) never delivers it. 5 s guards the deadlock; it is no speed limit.
    const deadlock = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the first event never reached the client')), 5000).unref());
    const client = http.get(`${edgeUrl(edge)}/events`);
    const res = await Promise.race([
      deadlock,
      new Promise<http.IncomingMessage>((resolve, reject) => {
        client.once('error', reject);
        client.once('response', resolve);
      }),
    ]);
    res.setEncoding('utf8');
    const first = new Promise<string>((resolve) => res.once('data', resolve));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(await Promise.race([first, deadlock])).toBe('data: first\n\n');
    let rest = '';
    res.on('data', (c: string) => {
      rest += c;
    });
    const ended = new Promise<void>((resolve) => res.once('end', resolve));
    releaseStream();
    await ended;
    expect(rest).toBe('data: last\n\n');
    expect(edge.runtime.snapshot.origins[0].load.inflight).toBe(0);
  });
});
