/**
 * TLS on both sides of the edge, over real sockets with dev-CA certificates in a temp dir.
 * Client side: SNI picks the exact certificate, then a one-label wildcard, then the first one;
 * TLS below 1.2 is refused; HTTP/2 and HTTP/1.1 share the port by ALPN; certificates reload
 * with `apply`. Origin side: https origins verified against a CA file, refused without it,
 * accepted with `verify: false`, and mutual TLS with a client certificate.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import { lookup } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import WebSocket, { WebSocketServer } from 'ws';
import type { Config } from '../src/config/schema.js';
import type { Edge } from '../src/server/edge.js';
import { createDevCa, issueCert, type DevCa, type DevCert } from '../src/tls/dev-certs.js';
import { edgeConfig, edgeUrl, startOrigin, startTestEdge, type TestServer } from './helpers.js';

interface Seen {
  url: string;
  httpVersion: string;
  headers: Record<string, string>;
  /** CN of the client certificate the origin saw (mTLS origin only). */
  peer?: string;
  /** The SNI name the origin was asked for (https origins; false when none was sent). */
  sni?: string | false;
}

/** Echoes what arrived, as JSON. */
function echo(req: http.IncomingMessage, res: http.ServerResponse): void {
  const socket = req.socket as TLSSocket;
  const peer = socket.getPeerCertificate?.()?.subject?.CN;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ url: req.url, httpVersion: req.httpVersion, headers: req.headers, peer, sni: socket.servername }));
}

/** An https echo origin listening on `address`, named `name` in its URL. */
async function startHttpsOrigin(options: https.ServerOptions, address = '127.0.0.1', name = address): Promise<{ server: https.Server; url: string; close(): Promise<void> }> {
  const server = https.createServer(options, echo);
  await new Promise<void>((r) => server.listen(0, address, r));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `https://${name}:${port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A finished TLS handshake with the edge (the socket is closed again), or the error it failed with. */
function handshake(port: number, options: tls.ConnectionOptions): Promise<{ cert: PeerCertificate; protocol: string | null; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options });
    socket.once('secureConnect', () => {
      const result = { cert: socket.getPeerCertificate(), protocol: socket.getProtocol(), alpn: socket.alpnProtocol };
      // A clean close, so the edge counts no TLS error for it.
      socket.end();
      socket.once('close', () => resolve(result));
    });
    socket.once('error', reject);
  });
}

describe('TLS', () => {
  let dir: string;
  let ca: DevCa;
  let certA: DevCert;
  let certWild: DevCert;
  let plain: TestServer;
  const origins: { close(): Promise<void> }[] = [];
  /** TLS connections the https origin accepted. */
  let originConnections = 0;
  /** SNI names the origin addressed as https://localhost was asked for, in order. */
  const namedOriginSni: (string | false | null)[] = [];
  let edge: Edge;
  let config: Config;
  let httpsPort: number;

  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  /** The edge config with `certificates` on its TLS listener. */
  let makeConfig: (certificates: { cert: string; key: string }[], minVersion?: 'TLSv1.2' | 'TLSv1.3') => Config;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-tls-'));
    ca = createDevCa();
    certA = issueCert(ca, ['a.example.test']);
    certWild = issueCert(ca, ['*.wild.test']);
    const originCert = issueCert(ca, ['127.0.0.1', 'origin.internal']);
    const edgeClient = issueCert(ca, ['outpost-edge'], { client: true });
    const caFile = file('ca.pem', ca.cert);

    plain = await startOrigin(echo);
    const httpsOrigin = await startHttpsOrigin({ cert: originCert.cert, key: originCert.key });
    const mtlsOrigin = await startHttpsOrigin({ cert: originCert.cert, key: originCert.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true });
    origins.push(httpsOrigin, mtlsOrigin);
    httpsOrigin.server.on('secureConnection', () => {
      originConnections++;
    });
    // An origin addressed by name, serving HTTP and a WebSocket echo; bound where `localhost` resolves.
    const localhostCert = issueCert(ca, ['localhost']);
    const byName = await startHttpsOrigin({ cert: localhostCert.cert, key: localhostCert.key }, (await lookup('localhost')).address, 'localhost');
    byName.server.on('secureConnection', (socket: TLSSocket) => {
      namedOriginSni.push(socket.servername);
    });
    const wss = new WebSocketServer({ server: byName.server });
    wss.on('connection', (ws) => ws.on('message', (m, binary) => ws.send(m, { binary })));
    origins.push(byName, {
      close: () =>
        new Promise((r) => {
          for (const c of wss.clients) c.terminate();
          wss.close(() => r());
        }),
    });

    const site = (name: string, address: string, tlsOptions?: Record<string, unknown>) => ({
      pool: [name, { origins: [{ name: 'o1', address, ...(tlsOptions ? { tls: tlsOptions } : {}) }] }] as const,
      lb: { hostname: `*.${name}.origin.test`, defaultPools: [name] },
    });
    const sites = [
      site('ca', httpsOrigin.url, { ca: caFile }),
      site('noca', httpsOrigin.url),
      site('noverify', httpsOrigin.url, { verify: false }),
      site('named', httpsOrigin.url, { ca: caFile, servername: 'origin.internal' }),
      site('mtls', mtlsOrigin.url, { ca: caFile, cert: file('edge-client.pem', edgeClient.cert), key: file('edge-client.key', edgeClient.key) }),
      site('mtlsnocert', mtlsOrigin.url, { ca: caFile }),
      site('byname', byName.url, { ca: caFile }),
    ];
    makeConfig = (certificates, minVersion = 'TLSv1.2') =>
      edgeConfig([plain.url], {
        listen: { http: '127.0.0.1:0', https: '127.0.0.1:0' },
        tls: { certificates, minVersion },
        pools: { main: { origins: [{ name: 'o1', address: plain.url }] }, ...Object.fromEntries(sites.map((s) => s.pool)) },
        loadBalancers: [{ hostname: '*', defaultPools: ['main'] }, ...sites.map((s) => s.lb)],
      });
    config = makeConfig([
      { cert: file('a.pem', certA.cert), key: file('a.key', certA.key) },
      { cert: file('wild.pem', certWild.cert), key: file('wild.key', certWild.key) },
    ]);
    edge = await startTestEdge(config);
    httpsPort = edge.addresses.https!.port;
  });

  afterAll(async () => {
    await edge?.shutdown(1000);
    await Promise.all([plain?.close(), ...origins.map((o) => o.close())]);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('certificates by SNI', () => {
    it('an exact name gets its certificate, verified against the CA', async () => {
      const { cert } = await handshake(httpsPort, { servername: 'a.example.test', ca: ca.cert });
      expect(cert.subject.CN).toBe('a.example.test');
      expect(cert.subjectaltname).toBe('DNS:a.example.test');
    });

    it('a name under a wildcard gets the wildcard certificate', async () => {
      const { cert } = await handshake(httpsPort, { servername: 'x.wild.test', ca: ca.cert });
      expect(cert.subjectaltname).toBe('DNS:*.wild.test');
      expect(cert.fingerprint256).toBe(fingerprint(certWild.cert));
    });

    it('an unknown name, two labels under the wildcard, or no SNI at all get the first certificate', async () => {
      for (const servername of ['unknown.test', 'a.b.wild.test', undefined]) {
        const { cert } = await handshake(httpsPort, { servername, rejectUnauthorized: false });
        expect(cert.subjectaltname, String(servername)).toBe('DNS:a.example.test');
      }
    });
  });

  describe('protocol versions', () => {
    it('TLS 1.1 is refused by the edge', async () => {
      const tlsErrors = async () => (await edge.runtime.metrics.clientErrors.get()).values.find((v) => v.labels.kind === 'tls')?.value ?? 0;
      const before = await tlsErrors();
      const err = await handshake(httpsPort, {
        servername: 'a.example.test',
        rejectUnauthorized: false,
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      }).then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
      // The edge answered with a protocol_version alert (RFC 8446 §6.2): the refusal is the server's.
      expect(err?.code).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
      await expect.poll(tlsErrors).toBe(before + 1);
    });

    it('a client that hangs up right after the handshake is counted as a reset, not a TLS error', async () => {
      const count = async (kind: string) => (await edge.runtime.metrics.clientErrors.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;
      const [tlsBefore, resetBefore] = [await count('tls'), await count('reset')];
      // TLS 1.3: the client is done before the server has read its Finished; a probe that
      // closes at once (health checks, port scanners) resets the server's side of the handshake.
      await new Promise<void>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, servername: 'a.example.test', ca: ca.cert });
        socket.once('secureConnect', () => {
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
      });
      await expect.poll(() => count('reset')).toBe(resetBefore + 1);
      expect(await count('tls')).toBe(tlsBefore);
    });

    it('a malformed HTTP/1.1 request over TLS: 400, counted as malformed, not as a TLS error', async () => {
      const count = async (kind: string) => (await edge.runtime.metrics.clientErrors.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;
      const [tlsBefore, malformedBefore] = [await count('tls'), await count('malformed')];
      const text = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, servername: 'a.example.test', ca: ca.cert, ALPNProtocols: ['http/1.1'] });
        let got = '';
        socket.once('secureConnect', () => socket.write('GET / HTTP/1.1\r\nHost: a.example.test\r\nBad Header: x\r\n\r\n'));
        socket.on('data', (c: Buffer) => {
          got += c.toString('latin1');
        });
        socket.once('close', () => resolve(got));
        socket.once('error', reject);
      });
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
      expect(await count('malformed')).toBe(malformedBefore + 1);
      expect(await count('tls')).toBe(tlsBefore);
    });

    it('TLS 1.3 and TLS 1.2 both work', async () => {
      for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
        const { protocol, cert } = await handshake(httpsPort, { servername: 'a.example.test', ca: ca.cert, minVersion: version, maxVersion: version });
        expect(protocol).toBe(version);
        expect(cert.subject.CN).toBe('a.example.test');
      }
    });
  });

  describe('HTTP versions on the TLS port', () => {
    it('HTTP/2 by ALPN: proxied with X-Forwarded-Proto https and Via 2', async () => {
      const session = http2.connect(`https://127.0.0.1:${httpsPort}`, { ca: ca.cert, servername: 'a.example.test' });
      session.on('error', () => {});
      try {
        const { headers, body } = await new Promise<{ headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
          const stream = session.request({ ':path': '/h2?x=1', ':authority': 'a.example.test' });
          let body = '';
          let headers: http2.IncomingHttpHeaders = {};
          stream.setEncoding('utf8');
          stream.on('response', (h) => {
            headers = h;
          });
          stream.on('data', (c: string) => {
            body += c;
          });
          stream.on('end', () => resolve({ headers, body }));
          stream.on('error', reject);
        });
        expect(session.alpnProtocol).toBe('h2');
        expect(headers[':status']).toBe(200);
        expect(headers.via).toBe('2 test');
        const seen = JSON.parse(body) as Seen;
        expect(seen.url).toBe('/h2?x=1');
        expect(seen.headers['x-forwarded-proto']).toBe('https');
        expect(seen.headers.via).toBe('2 test');
        expect(seen.headers.host).toBe('a.example.test');
      } finally {
        session.close();
      }
    });

    it('HTTP/1.1 on the same port', async () => {
      const { res, body, alpn } = await new Promise<{ res: http.IncomingMessage; body: string; alpn: string | false | null }>((resolve, reject) => {
        const req = https.request(
          {
            host: '127.0.0.1',
            port: httpsPort,
            path: '/h1',
            servername: 'x.wild.test',
            ca: ca.cert,
            headers: { host: 'x.wild.test' },
            ALPNProtocols: ['http/1.1'],
            agent: false,
          } as https.RequestOptions,
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              body += c;
            });
            res.on('end', () => resolve({ res, body, alpn: (res.socket as TLSSocket).alpnProtocol }));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(alpn).toBe('http/1.1');
      expect(res.statusCode).toBe(200);
      expect(res.headers.via).toBe('1.1 test');
      const seen = JSON.parse(body) as Seen;
      expect(seen.headers['x-forwarded-proto']).toBe('https');
      expect(seen.headers['x-forwarded-host']).toBe('x.wild.test');
      expect(seen.headers.via).toBe('1.1 test');
    });
  });

  describe('https origins', () => {
    const get = (site: string, sub = 'www') => request(`${edgeUrl(edge)}/o`, { headers: { host: `${sub}.${site}.origin.test` } });

    it('verified against the CA file in tls.ca, by the origin address, whatever the client Host', async () => {
      const r = await get('ca');
      expect(r.statusCode).toBe(200);
      const seen = (await r.body.json()) as Seen;
      expect(seen.url).toBe('/o');
      expect(seen.headers.host).toBe('www.ca.origin.test');
      expect(seen.sni).toBe(false); // an IP address is never sent as SNI (RFC 6066 §3)
    });

    it('tls.servername is the name sent and verified', async () => {
      const r = await get('named');
      expect(r.statusCode).toBe(200);
      expect(((await r.body.json()) as Seen).sni).toBe('origin.internal');
    });

    it('an origin addressed by name gets that name as SNI, for requests and WebSocket upgrades', async () => {
      namedOriginSni.length = 0;
      const r = await get('byname');
      expect(r.statusCode).toBe(200);
      await r.body.dump();
      const ws = new WebSocket(`${edgeUrl(edge).replace('http:', 'ws:')}/ws`, { headers: { host: 'www.byname.origin.test' } });
      try {
        const echoed = await new Promise<string>((resolve, reject) => {
          ws.once('open', () => ws.send('ping'));
          ws.once('message', (m) => resolve(String(m)));
          ws.once('error', reject);
        });
        expect(echoed).toBe('ping');
      } finally {
        ws.terminate();
      }
      expect(namedOriginSni).toEqual(['localhost', 'localhost']);
    });

    it('one warm connection serves requests for many client Hosts', async () => {
      await (await get('ca', 'warm')).body.dump();
      const before = originConnections;
      for (const sub of ['a', 'b', 'c', 'a', 'd']) {
        const r = await get('ca', sub);
        expect(r.statusCode).toBe(200);
        await r.body.dump();
      }
      expect(originConnections - before).toBe(0);
    });

    it('not verifiable (no CA given, verify on by default): 502 origin_tls', async () => {
      const tlsCount = async () => (await edge.runtime.metrics.upstreamErrors.get()).values.find((v) => v.labels.origin === 'noca/o1' && v.labels.kind === 'tls')?.value ?? 0;
      const before = await tlsCount();
      const r = await get('noca');
      expect(r.statusCode).toBe(502);
      expect(((await r.body.json()) as { error: { code: string } }).error.code).toBe('origin_tls');
      expect(await tlsCount()).toBe(before + 1);
    });

    it('verify: false accepts it', async () => {
      const r = await get('noverify');
      expect(r.statusCode).toBe(200);
      await r.body.dump();
    });

    it('mutual TLS: the origin accepts the edge by its client certificate', async () => {
      const r = await get('mtls');
      expect(r.statusCode).toBe(200);
      expect(((await r.body.json()) as Seen).peer).toBe('outpost-edge');
    });

    it('mutual TLS without a client certificate: the origin refuses, 502', async () => {
      const r = await get('mtlsnocert');
      expect(r.statusCode).toBe(502);
      await r.body.dump();
    });
  });

  describe('reload', () => {
    it('apply() serves a new certificate for a name to new connections, and the new default', async () => {
      const before = await handshake(httpsPort, { servername: 'a.example.test', ca: ca.cert });
      expect(before.cert.fingerprint256).toBe(fingerprint(certA.cert));
      const certA2 = issueCert(ca, ['a.example.test', 'b.example.test']);
      edge.apply(
        makeConfig([
          { cert: file('a2.pem', certA2.cert), key: file('a2.key', certA2.key) },
          { cert: file('wild.pem', certWild.cert), key: file('wild.key', certWild.key) },
        ]),
      );
      for (const servername of ['a.example.test', 'b.example.test', 'unknown.test']) {
        const after = await handshake(httpsPort, { servername, ca: ca.cert, checkServerIdentity: () => undefined });
        expect(after.cert.fingerprint256, servername).toBe(fingerprint(certA2.cert));
      }
      const wild = await handshake(httpsPort, { servername: 'y.wild.test', ca: ca.cert });
      expect(wild.cert.fingerprint256).toBe(fingerprint(certWild.cert));
      // And requests still flow over the new certificate.
      const session = http2.connect(`https://127.0.0.1:${httpsPort}`, { ca: ca.cert, servername: 'b.example.test' });
      session.on('error', () => {});
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const stream = session.request({ ':path': '/', ':authority': 'b.example.test' });
        stream.on('response', (h) => resolve(h[':status']));
        stream.on('error', reject);
        stream.resume();
      });
      session.close();
      expect(status).toBe(200);
    });

    it('apply() with tls.minVersion TLSv1.3 refuses TLS 1.2 from then on', async () => {
      edge.apply(
        makeConfig(
          config.tls!.certificates.map((c) => ({ cert: c.cert, key: c.key })),
          'TLSv1.3',
        ),
      );
      const err = await handshake(httpsPort, { servername: 'a.example.test', ca: ca.cert, maxVersion: 'TLSv1.2' }).then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(err?.code).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
      const ok = await handshake(httpsPort, { servername: 'a.example.test', ca: ca.cert });
      expect(ok.protocol).toBe('TLSv1.3');
    });
  });
});

/** SHA-256 fingerprint of a PEM certificate, formatted as getPeerCertificate() gives it. */
function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}
