/**
 * Certificates by server name for SNI: exact names first, then a `*.example.com` wildcard
 * (one label, RFC 6125 §6.4.3), then the first certificate as the default for clients that send
 * no SNI or an unknown name. Secure contexts are built once per config snapshot.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Config } from '../config/schema.js';

export interface CertificateTable {
  /** The context for an SNI name (lowercase); the default one when nothing matches. */
  contextFor(servername: string | undefined): SecureContext;
  readonly defaultContext: SecureContext;
  /** PEM of the default certificate and key, for `setSecureContext` on reload. */
  readonly defaultPem: { cert: string; key: string };
  /** Every name served, for logs and the admin view. */
  readonly names: readonly string[];
}

export function buildCertificateTable(tls: NonNullable<Config['tls']>): CertificateTable {
  const exact = new Map<string, SecureContext>();
  const wildcard = new Map<string, SecureContext>();
  let defaultContext: SecureContext | undefined;
  let defaultPem: { cert: string; key: string } | undefined;
  const names: string[] = [];
  for (const c of tls.certificates) {
    const cert = readFileSync(c.cert, 'utf8');
    const key = readFileSync(c.key, 'utf8');
    const context = createSecureContext({ cert, key, minVersion: tls.minVersion });
    defaultContext ??= context;
    defaultPem ??= { cert, key };
    for (const raw of c.names ?? certificateNames(cert)) {
      const name = raw.toLowerCase();
      names.push(name);
      if (name.startsWith('*.')) {
        if (!wildcard.has(name.slice(2))) wildcard.set(name.slice(2), context);
      } else if (!exact.has(name)) exact.set(name, context);
    }
  }
  return {
    defaultContext: defaultContext!,
    defaultPem: defaultPem!,
    names,
    contextFor(servername) {
      if (!servername) return defaultContext!;
      const name = servername.toLowerCase();
      const hit = exact.get(name);
      if (hit) return hit;
      const dot = name.indexOf('.');
      if (dot > 0) {
        const w = wildcard.get(name.slice(dot + 1));
        if (w) return w;
      }
      return defaultContext!;
    },
  };
}

/** DNS names and IP addresses in the certificate's subjectAltName (its CN if it has none). */
export function certificateNames(pem: string): string[] {
  const x509 = new X509Certificate(pem);
  const san = x509.subjectAltName;
  if (san) {
    return san
      .split(', ')
      .map((entry) => /^(?:DNS|IP Address):(.+)$/.exec(entry)?.[1])
      .filter((n): n is string => !!n);
  }
  const cn = /CN=([^\n,]+)/.exec(x509.subject)?.[1];
  return cn ? [cn] : [];
}
