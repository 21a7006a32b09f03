import { once } from 'node:events';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevCa, issueCert, selfSigned, type DevCa, type DevCert } from './dev-certs.js';

/** Connects to 127.0.0.1:port as `servername`; resolves with the TLS error, or null if verified. */
async function handshake(port: number, opts: tls.ConnectionOptions): Promise<Error | null> {
  const socket = tls.connect({ host: '127.0.0.1', port, ...opts });
  try {
    await once(socket, 'secureConnect');
    return null;
  } catch (err) {
    return err as Error;
  } finally {
    socket.destroy();
  }
}

describe('dev certificates over real TLS', () => {
  let ca: DevCa;
  let client: DevCert;
  let server: tls.Server;
  let port: number;

  beforeAll(async () => {
    ca = createDevCa();
    const leaf = issueCert(ca, ['a.example.test', '*.wild.test', '127.0.0.1', '::1']);
    client = issueCert(ca, ['client.example.test'], { client: true });
    server = tls.createServer({ ...leaf, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (s) => {
      s.end(`hello ${s.getPeerCertificate().subject.CN}`);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const clientCert = () => client;

  it('verifies an exact name and a wildcard name, and rejects another name', async () => {
    const base = { ca: ca.cert, ...clientCert() };
    expect(await handshake(port, { ...base, servername: 'a.example.test' })).toBeNull();
    expect(await handshake(port, { ...base, servername: 'x.wild.test' })).toBeNull();
    const wrong = await handshake(port, { ...base, servername: 'other.test' });
    expect((wrong as NodeJS.ErrnoException)?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    // A wildcard covers one label only (RFC 6125 §6.4.3).
    const deep = await handshake(port, { ...base, servername: 'a.b.wild.test' });
    expect((deep as NodeJS.ErrnoException)?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('rejects a client that does not trust the CA', async () => {
    const err = await handshake(port, { ...clientCert(), servername: 'a.example.test' });
    expect((err as NodeJS.ErrnoException)?.code).toBe('SELF_SIGNED_CERT_IN_CHAIN');
  });

  it('puts IP literals in iPAddress SANs that verify', async () => {
    // No servername: Node checks the certificate against the host, an IP address here.
    expect(await handshake(port, { ca: ca.cert, ...clientCert() })).toBeNull();
    const x509 = new X509Certificate(issueCert(ca, ['10.0.0.1', '::ffff:1.2.3.4', 'fd00::1']).cert);
    expect(x509.subjectAltName).toBe('IP Address:10.0.0.1, IP Address:0:0:0:0:0:FFFF:102:304, IP Address:FD00:0:0:0:0:0:0:1');
  });

  it('accepts a clientAuth certificate under requestCert and reads its subject', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'a.example.test', ca: ca.cert, ...clientCert() });
    let body = '';
    socket.setEncoding('utf8').on('data', (d: string) => (body += d));
    await once(socket, 'end');
    expect(body).toBe('hello client.example.test');
  });

  it('refuses a server-only certificate offered as a client certificate', async () => {
    const serverOnly = issueCert(ca, ['not-a-client.test']);
    const rejected = once(server, 'tlsClientError');
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'a.example.test', ca: ca.cert, ...serverOnly });
    let body = '';
    socket
      .setEncoding('utf8')
      .on('data', (d: string) => (body += d))
      .on('error', () => {});
    // Under TLS 1.3 the client finishes its side first; the server then drops the connection.
    await Promise.all([rejected, once(socket, 'close')]);
    expect(body).toBe('');
  });
});

describe('certificate fields', () => {
  it('marks the CA as a CA valid from yesterday for two years', () => {
    const ca = new X509Certificate(createDevCa('Test CA').cert);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toContain('CN=Test CA');
    const from = Date.parse(ca.validFrom);
    const to = Date.parse(ca.validTo);
    expect(Date.now() - from).toBeGreaterThan(23 * 3600e3);
    expect((to - from) / 86400e3).toBeGreaterThanOrEqual(729);
  });

  it('issues a leaf with CN = first name, the usages asked for, and honours days', () => {
    const ca = createDevCa();
    const leaf = new X509Certificate(issueCert(ca, ['first.test', 'second.test'], { client: true, days: 3 }).cert);
    expect(leaf.ca).toBe(false);
    expect(leaf.subject).toBe('CN=first.test');
    expect(leaf.subjectAltName).toBe('DNS:first.test, DNS:second.test');
    expect(leaf.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(leaf.checkIssued(new X509Certificate(ca.cert))).toBe(true);
    expect((Date.parse(leaf.validTo) - Date.now()) / 86400e3).toBeCloseTo(3, 0);
    const serverOnly = new X509Certificate(issueCert(ca, ['s.test']).cert);
    expect(serverOnly.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it('selfSigned returns a leaf, its key, and the CA that verifies it', () => {
    const s = selfSigned(['localhost', '127.0.0.1']);
    const leaf = new X509Certificate(s.cert);
    expect(leaf.verify(new X509Certificate(s.ca).publicKey)).toBe(true);
    expect(leaf.checkPrivateKey(createPrivateKey(s.key))).toBe(true);
  });

  it('generates a key pair quickly (native crypto, not pure-JS forge)', () => {
    const ca = createDevCa();
    const start = performance.now();
    for (let i = 0; i < 3; i++) issueCert(ca, ['speed.test']);
    // RSA prime search time varies a lot; pure JS takes seconds per key, native ~50-300 ms.
    expect((performance.now() - start) / 3).toBeLessThan(1000);
  });
});
