import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { monitorSettings } from '../../test/support/monitor-settings.js';
import { createDevCa, issueCert, type DevCa } from '../tls/dev-certs.js';
import { BODY_LIMIT, httpProbe } from './http.js';
import type { MonitorSettings, ProbeTarget } from './types.js';

const monitor = (s: Partial<MonitorSettings> = {}) => httpProbe(monitorSettings({ path: '/healthz', ...s }));
const target = (url: string, extra: Partial<ProbeTarget> = {}): ProbeTarget => ({ address: new URL(url), ...extra });
const within = (ms: number) => AbortSignal.timeout(ms);

/** An http server on 127.0.0.1:0 that counts the connections it has open and has seen. */
async function serve(handler: http.RequestListener, server: http.Server | https.Server = http.createServer()) {
  const open = new Set<net.Socket>();
  let seen = 0;
  server.on('request', handler);
  server.on(server instanceof https.Server ? 'secureConnection' : 'connection', (s: net.Socket) => {
    seen++;
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const scheme = server instanceof https.Server ? 'https' : 'http';
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    open: () => open.size,
    seen: () => seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A TCP server that accepts and never says a word: the local stand-in for a black hole. */
async function silentServer() {
  const open = new Set<net.Socket>();
  const server = net.createServer((s) => {
    open.add(s);
    s.resume(); // reads (and drops) what arrives, so the client's FIN is seen
    s.on('error', () => {});
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    open: () => open.size,
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Polls until `cond` holds (socket closes travel through the loop), at most 2 s. */
async function eventually(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});
async function origin(handler: http.RequestListener) {
  const o = await serve(handler);
  closers.push(o.close);
  return o;
}

describe('http monitor', () => {
  it('passes on an expected status, RTT = time to headers, on a fresh connection each time', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const o = await origin((req, res) => {
      seen.push(req.headers);
      res.end('ok');
    });
    const probe = monitor();
    const r1 = await probe.check(target(o.url), within(1000));
    const r2 = await probe.check(target(o.url), within(1000));
    expect(r1).toMatchObject({ ok: true });
    expect(r1.reason).toBeUndefined();
    expect(r1.rttMs).toBeGreaterThan(0);
    expect(r2.ok).toBe(true);
    expect(o.seen()).toBe(2);
    expect(seen[0].connection).toBe('close');
    expect(seen[0]['user-agent']).toBe('outpost-health-check');
    await eventually(() => o.open() === 0);
  });

  it('fails on a wrong status with `status N`, and reads no body for it', async () => {
    const o = await origin((_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    expect(await monitor().check(target(o.url), within(1000))).toMatchObject({ ok: false, reason: 'status 503' });
  });

  it('matches expectedCodes lists and classes', async () => {
    let status = 304;
    const o = await origin((_req, res) => {
      res.statusCode = status;
      res.end();
    });
    expect((await monitor({ expectedCodes: '2xx,304' }).check(target(o.url), within(1000))).ok).toBe(true);
    status = 301;
    expect((await monitor({ expectedCodes: '200,301' }).check(target(o.url), within(1000))).ok).toBe(true);
    expect((await monitor({ expectedCodes: '2xx' }).check(target(o.url), within(1000))).reason).toBe('status 301');
    expect(() => monitor({ expectedCodes: 'ok' })).toThrow(/expected status codes/);
  });

  it('sends the method, path and headers; Host: origin override > monitor Host > address', async () => {
    const seen: { method?: string; url?: string; host?: string; token?: string }[] = [];
    const o = await origin((req, res) => {
      seen.push({ method: req.method, url: req.url, host: req.headers.host, token: req.headers['x-token'] as string });
      res.end();
    });
    const probe = monitor({ method: 'head', path: '/status?deep=1', headers: { Host: 'monitor.example', 'X-Token': 't1', 'User-Agent': 'mine' } });
    await probe.check(target(o.url, { hostHeader: 'origin.example' }), within(1000));
    await probe.check(target(o.url), within(1000));
    await monitor().check(target(o.url), within(1000));
    expect(seen).toEqual([
      { method: 'HEAD', url: '/status?deep=1', host: 'origin.example', token: 't1' },
      { method: 'HEAD', url: '/status?deep=1', host: 'monitor.example', token: 't1' },
      { method: 'GET', url: '/healthz', host: `127.0.0.1:${o.port}`, token: undefined },
    ]);
  });

  it('expectedBody: case-insensitive substring, across chunks, within the first 64 KiB only', async () => {
    const o = await origin((req, res) => {
      if (req.url === '/small') return res.end('{"status":"OK"}');
      const at = req.url === '/near' ? BODY_LIMIT - 100 : BODY_LIMIT + 100;
      const body = Buffer.alloc(at + 200, 'x');
      body.write('needle', at);
      // Split right inside the needle, so the match spans two chunks.
      res.write(body.subarray(0, at + 3));
      setTimeout(() => res.end(body.subarray(at + 3)), 5);
    });
    expect((await monitor({ path: '/small', expectedBody: '"status":"ok"' }).check(target(o.url), within(1000))).ok).toBe(true);
    expect(await monitor({ path: '/small', expectedBody: 'healthy' }).check(target(o.url), within(1000))).toMatchObject({ ok: false, reason: 'body mismatch' });
    expect((await monitor({ path: '/near', expectedBody: 'NEEDLE' }).check(target(o.url), within(1000))).ok).toBe(true);
    expect(await monitor({ path: '/far', expectedBody: 'needle' }).check(target(o.url), within(1000))).toMatchObject({ ok: false, reason: 'body mismatch' });
    await eventually(() => o.open() === 0);
  });

  it('a body that stalls fails at the timeout and its socket is closed', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    const started = Date.now();
    const r = await monitor({ expectedBody: 'complete' }).check(target(o.url), within(150));
    expect(r).toMatchObject({ ok: false, reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1000);
    await eventually(() => o.open() === 0);
  });

  it('refused', async () => {
    const port = await freePort();
    expect(await monitor().check(target(`http://127.0.0.1:${port}`), within(1000))).toMatchObject({ ok: false, reason: 'refused' });
  });

  it('a server that accepts and never answers: timeout, and no socket left open', async () => {
    const hole = await silentServer();
    closers.push(hole.close);
    const started = Date.now();
    const results = await Promise.all([1, 2, 3].map(() => monitor().check(target(hole.url), within(200))));
    const elapsed = Date.now() - started;
    for (const r of results) expect(r).toMatchObject({ ok: false, reason: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1000);
    await eventually(() => hole.open() === 0);
  });

  it('an abort that is not a timeout says `aborted`', async () => {
    const hole = await silentServer();
    closers.push(hole.close);
    const c = new AbortController();
    const pending = monitor().check(target(hole.url), c.signal);
    setTimeout(() => c.abort(), 50);
    expect(await pending).toMatchObject({ ok: false, reason: 'aborted' });
    await eventually(() => hole.open() === 0);
  });

  describe('redirects', () => {
    it('not followed: the 3xx is judged like any status', async () => {
      const o = await origin((_req, res) => {
        res.writeHead(302, { location: '/elsewhere' });
        res.end();
      });
      expect(await monitor().check(target(o.url), within(1000))).toMatchObject({ ok: false, reason: 'status 302' });
    });

    it('followed, relative and absolute to the Host name, staying on the origin address', async () => {
      const paths: string[] = [];
      const o = await origin((req, res) => {
        paths.push(`${req.method} ${req.url} ${req.headers.host}`);
        if (req.url === '/healthz') return res.writeHead(301, { location: '/v2/healthz' }).end();
        if (req.url === '/v2/healthz') return res.writeHead(303, { location: 'http://chat.example.com/v3' }).end();
        res.end('alive');
      });
      const r = await monitor({ method: 'POST', followRedirects: true, expectedBody: 'alive' }).check(target(o.url, { hostHeader: 'chat.example.com' }), within(1000));
      expect(r.ok).toBe(true);
      expect(paths).toEqual(['POST /healthz chat.example.com', 'GET /v2/healthz chat.example.com', 'GET /v3 chat.example.com']);
      expect(o.seen()).toBe(3);
    });

    it('to another server: followed there with its own Host, without the monitor headers', async () => {
      const other = await origin((req, res) => res.end(`${req.headers.host} ${req.headers.authorization ?? 'no-token'}`));
      const o = await origin((_req, res) => res.writeHead(307, { location: `${other.url}/there` }).end());
      const probe = monitor({ followRedirects: true, headers: { authorization: 'Bearer secret' }, expectedBody: `127.0.0.1:${other.port} no-token` });
      expect((await probe.check(target(o.url), within(1000))).ok).toBe(true);
    });

    it('at most 5: the sixth redirect fails', async () => {
      let n = 0;
      const o = await origin((_req, res) => {
        n++;
        res.writeHead(302, { location: `/r${n}` }).end();
      });
      expect(await monitor({ followRedirects: true }).check(target(o.url), within(1000))).toMatchObject({ ok: false, reason: 'too many redirects' });
      expect(n).toBe(6);
      await eventually(() => o.open() === 0);
    });
  });
});

describe('https monitor', () => {
  let ca: DevCa;
  let o: Awaited<ReturnType<typeof serve>>;
  const sni: (string | false)[] = [];

  beforeAll(async () => {
    ca = createDevCa();
    const leaf = issueCert(ca, ['origin.test', '127.0.0.1']);
    const server = https.createServer({ ...leaf });
    server.on('secureConnection', (s: TLSSocket) => sni.push((s as TLSSocket & { servername?: string | false }).servername ?? false));
    o = await serve((_req, res) => res.end('secure'), server);
  });
  afterAll(() => o.close());

  it('verifies with the configured CA, sends no SNI for an IP address', async () => {
    sni.length = 0;
    const r = await monitor({ expectedBody: 'secure' }).check(target(o.url, { tls: { rejectUnauthorized: true, ca: ca.cert } }), within(2000));
    expect(r.ok).toBe(true);
    expect(sni).toEqual([false]);
  });

  it('fails verification without it, passes with rejectUnauthorized false', async () => {
    const r = await monitor().check(target(o.url), within(2000));
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^tls: /);
    expect((await monitor().check(target(o.url, { tls: { rejectUnauthorized: false } }), within(2000))).ok).toBe(true);
  });

  it('sends tls.servername as SNI and checks the certificate against it, whatever the Host', async () => {
    sni.length = 0;
    const r = await monitor().check(target(o.url, { hostHeader: 'chat.example.com', tls: { rejectUnauthorized: true, ca: ca.cert, servername: 'origin.test' } }), within(2000));
    expect(r.ok).toBe(true);
    expect(sni).toEqual(['origin.test']);
  });

  it('type https speaks TLS to an address written http://', async () => {
    const r = await monitor({ type: 'https' }).check(target(`http://127.0.0.1:${o.port}`, { tls: { rejectUnauthorized: true, ca: ca.cert } }), within(2000));
    expect(r.ok).toBe(true);
  });

  it('a TLS black hole times out and leaves nothing open', async () => {
    const hole = await silentServer();
    closers.push(hole.close);
    const r = await monitor().check(target(`https://127.0.0.1:${hole.port}`), within(200));
    expect(r).toMatchObject({ ok: false, reason: 'timeout' });
    await eventually(() => hole.open() === 0);
  });
});
