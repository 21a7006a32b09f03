import { once } from 'node:events';
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startDemoOrigin, type DemoOrigin } from './origin.js';

describe('demo origin over real sockets', () => {
  let origin: DemoOrigin;
  beforeEach(async () => {
    origin = await startDemoOrigin({ name: 'eu-1', region: 'eu' });
  });
  afterEach(() => origin.close());

  it('listens on a free port of 127.0.0.1 by default', () => {
    expect(origin.port).toBeGreaterThan(0);
    expect(origin.url).toBe(`http://127.0.0.1:${origin.port}`);
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${origin.url}/healthz`);
    expect([res.status, await res.text()]).toEqual([200, 'ok']);
    expect(res.headers.get('x-demo-origin')).toBe('eu-1');
  });

  it('reports origin, region and the headers it received at /api/info', async () => {
    const res = await fetch(`${origin.url}/api/info`, { headers: { 'x-forwarded-for': '203.0.113.9', via: '1.1 outpost' } });
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = await res.json();
    expect(body).toMatchObject({ origin: 'eu-1', region: 'eu', headers: { 'x-forwarded-for': '203.0.113.9', via: '1.1 outpost' } });
  });

  it('shows origin, region and escaped headers on the HTML page, with the echo box', async () => {
    const res = await fetch(`${origin.url}/`, { headers: { 'x-request-id': 'abc-123', 'x-evil': '<script>alert(1)</script>' } });
    const html = await res.text();
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('<code>eu-1</code> in region <code>eu</code>');
    expect(html).toMatch(/<tr class="edge"><th>x-request-id<\/th><td>abc-123<\/td><\/tr>/);
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain("location.host + '/ws'");
  });

  it('404s unknown paths and wrong methods', async () => {
    expect((await fetch(`${origin.url}/nope`)).status).toBe(404);
    expect((await fetch(`${origin.url}/echo`)).status).toBe(404);
    expect((await fetch(`${origin.url}/healthz`, { method: 'POST' })).status).toBe(404);
  });

  it('streams POST /echo back before the request body ends, keeping its content-type', async () => {
    const req = http.request(`${origin.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' } });
    req.write('first\n');
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    // The first chunk comes back while the request is still open: piped, not buffered.
    const [first] = await once(res, 'data');
    expect(String(first)).toBe('first\n');
    let rest = '';
    res.on('data', (d) => (rest += d));
    req.end('second\n');
    await once(res, 'end');
    expect(rest).toBe('second\n');
  });

  it('greets WebSocket clients on /ws, then echoes text and binary', async () => {
    const ws = new WebSocket(`${origin.url.replace('http', 'ws')}/ws`);
    const messages: Array<[string, boolean]> = [];
    ws.on('message', (data, isBinary) => messages.push([String(data), isBinary]));
    await once(ws, 'open');
    ws.send('ping?');
    ws.send(Buffer.from('bin'));
    await expect.poll(() => messages.length).toBe(3);
    expect(JSON.parse(messages[0][0])).toEqual({ hello: 'eu-1', region: 'eu' });
    expect(messages.slice(1)).toEqual([
      ['ping?', false],
      ['bin', true],
    ]);
    ws.close();
  });

  it('refuses WebSocket upgrades on other paths', async () => {
    const ws = new WebSocket(`${origin.url.replace('http', 'ws')}/other`);
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, http.IncomingMessage];
    expect(res.statusCode).toBe(404);
    res.resume(); // with this listener ws leaves the refused response to us
  });

  it('close() ends open WebSockets and keep-alive connections and stops listening', async () => {
    const ws = new WebSocket(`${origin.url.replace('http', 'ws')}/ws`);
    await once(ws, 'open');
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((r) => http.get(`${origin.url}/healthz`, { agent }, (res) => res.resume().on('end', r)));
    const wsClosed = once(ws, 'close');
    const started = Date.now();
    await origin.close();
    expect(Date.now() - started).toBeLessThan(1000);
    const [code] = await wsClosed;
    expect(code).toBe(1006); // terminated, no close handshake
    await expect(fetch(`${origin.url}/healthz`)).rejects.toThrow();
    agent.destroy();
    origin = await startDemoOrigin({ name: 'again', region: 'eu' }); // for afterEach
  });
});

describe('demo origin options', () => {
  it('listens on the port and host asked for', async () => {
    const probe = await startDemoOrigin({ name: 'probe', region: 'x' });
    const port = probe.port;
    await probe.close();
    const o = await startDemoOrigin({ name: 'us-1', region: 'us', port, host: '127.0.0.1' });
    try {
      expect(o.port).toBe(port);
      expect(await (await fetch(`${o.url}/api/info`)).json()).toMatchObject({ origin: 'us-1', region: 'us' });
    } finally {
      await o.close();
    }
  });

  it('brackets an IPv6 host in its URL', async () => {
    const o = await startDemoOrigin({ name: 'v6', region: 'x', host: '::1' }).catch(() => undefined);
    if (!o) return; // no IPv6 loopback on this machine
    try {
      expect(o.url).toBe(`http://[::1]:${o.port}`);
      expect((await fetch(`${o.url}/healthz`)).status).toBe(200);
    } finally {
      await o.close();
    }
  });
});
