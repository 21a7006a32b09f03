/**
 * Development and test certificates: a throwaway CA and leaf certificates it signs, for TLS
 * listeners with several SNI names, wildcard names, https origins and mTLS to origins, and for
 * `outpost demo`. Nothing here is meant for production: keys live only in memory and the CA
 * is trusted only by whoever is handed its PEM.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

const { pki } = forge;

/** A certificate authority: its certificate and private key, both PEM. */
export interface DevCa {
  cert: string;
  key: string;
}

/** A leaf certificate and its private key, both PEM. */
export interface DevCert {
  cert: string;
  key: string;
}

export interface IssueOptions {
  /** Also allow the certificate for TLS client authentication (extKeyUsage clientAuth). */
  client?: boolean;
  /** Validity in days, counted from now; 365 when omitted. */
  days?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A CA certificate (basicConstraints cA, keyUsage keyCertSign + cRLSign), valid from one day
 * ago for two years. The day of back-dating absorbs clock skew between test machines.
 */
export function createDevCa(commonName = 'Outpost Dev CA'): DevCa {
  const keys = rsaKeyPair();
  const cert = pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  const notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(notBefore.getTime() + 2 * 365 * DAY_MS);
  const subject = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'Outpost' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }, { name: 'subjectKeyIdentifier' }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: pki.certificateToPem(cert), key: pki.privateKeyToPem(keys.privateKey) };
}

/**
 * A leaf certificate for `names`, signed by `ca`. The first name is the subject CN; every name
 * goes into subjectAltName, as an IP address when it parses as IPv4/IPv6 and as a DNS name
 * otherwise (wildcards such as `*.example.test` included). Clients match SANs only (RFC 6125
 * §6.4.4), so the CN is there for humans reading the certificate.
 */
export function issueCert(ca: DevCa, names: string[], opts: IssueOptions = {}): DevCert {
  if (names.length === 0) throw new Error('issueCert: at least one name is required');
  const caCert = pki.certificateFromPem(ca.cert);
  const caKey = pki.privateKeyFromPem(ca.key);
  const keys = rsaKeyPair();
  const cert = pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  const notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(Date.now() + (opts.days ?? 365) * DAY_MS);
  cert.setSubject([{ name: 'commonName', value: names[0] }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    // digitalSignature for (EC)DHE handshakes, keyEncipherment for RSA key exchange.
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: !!opts.client },
    { name: 'subjectAltName', altNames: names.map(altName) },
    { name: 'subjectKeyIdentifier' },
    // The CA's key id, so verifiers that build chains by key id find the issuer.
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: pki.certificateToPem(cert), key: pki.privateKeyToPem(keys.privateKey) };
}

/**
 * Convenience for the demo: a fresh CA and a leaf for `names` signed by it. Returns the leaf
 * and key to serve, plus `ca`, the CA certificate PEM to hand to clients (`tls.connect({ ca })`,
 * `curl --cacert`). A CA + leaf pair rather than a self-issued leaf, so clients verify the same
 * way they would against a real chain; the CA key is discarded.
 */
export function selfSigned(names: string[]): DevCert & { ca: string } {
  const ca = createDevCa();
  return { ...issueCert(ca, names), ca: ca.cert };
}

/**
 * RSA 2048 through Node's native crypto (tens of milliseconds) converted to forge objects.
 * forge would do the same on its own, but silently falls back to pure JavaScript (seconds per
 * key) when `forge.options.usePureJavaScript` is set; calling Node directly rules that out.
 */
function rsaKeyPair(): forge.pki.rsa.KeyPair {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const priv = pki.privateKeyFromPem(privateKey);
  return { privateKey: priv, publicKey: pki.setRsaPublicKey(priv.n, priv.e) };
}

/** 16 random bytes, high bit cleared: serials must be positive (RFC 5280 §4.1.2.2). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

/** A subjectAltName entry: iPAddress (type 7) for IP literals, dNSName (type 2) otherwise. */
function altName(name: string): { type: number; value?: string; ip?: string } {
  const family = isIP(name);
  if (family === 4) return { type: 7, ip: name };
  // forge's IPv6 parser only handles plain hex groups; the WHATWG URL parser rewrites forms
  // like `::ffff:1.2.3.4` into them (and rejects zone ids, which a certificate cannot carry).
  if (family === 6) return { type: 7, ip: new URL(`http://[${name}]/`).hostname.slice(1, -1) };
  return { type: 2, value: name };
}
