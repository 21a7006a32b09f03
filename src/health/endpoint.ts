/**
 * Where a probe connects and how: host, port and TLS options from the origin address, the
 * monitor's port override, and the same SNI rule as real traffic (upstream/origin.ts): the
 * configured servername, else the address's hostname, and none for an IP address (RFC 6066 §3).
 */
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { ProbeTarget } from './types.js';

export interface Endpoint {
  /** Hostname without IPv6 brackets, for net/tls connect. */
  host: string;
  port: number;
  secure: boolean;
  /** Options for tls.connect / https.request (empty when not secure). */
  tls: ConnectionOptions;
}

export function endpoint(target: ProbeTarget, opts: { secure?: boolean; port?: number } = {}): Endpoint {
  const url = target.address;
  const secure = opts.secure ?? url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = opts.port ?? (Number(url.port) || (url.protocol === 'https:' ? 443 : 80));
  if (!secure) return { host, port, secure, tls: {} };
  const t = target.tls;
  // '' means no SNI; node's https agent would otherwise take the name from the Host header.
  const servername = t?.servername ?? (isIP(host) ? '' : host);
  return {
    host,
    port,
    secure,
    tls: {
      rejectUnauthorized: t?.rejectUnauthorized ?? true,
      ca: t?.ca,
      cert: t?.cert,
      key: t?.key,
      servername,
      ALPNProtocols: ['http/1.1'],
    },
  };
}

/** The Host header a probe sends: origin override, then the monitor's Host, then the address (Cloudflare's precedence). */
export function probeHost(target: ProbeTarget, monitorHeaders: Record<string, string>): string {
  if (target.hostHeader) return target.hostHeader;
  for (const [name, value] of Object.entries(monitorHeaders)) if (name.toLowerCase() === 'host') return value;
  return target.address.host;
}

/** Monitor headers without Host (sent separately) and with a default User-Agent. */
export function probeHeaders(monitorHeaders: Record<string, string>, host: string): Record<string, string> {
  const out: Record<string, string> = { 'user-agent': 'outpost-health-check' };
  for (const [name, value] of Object.entries(monitorHeaders)) {
    const lower = name.toLowerCase();
    if (lower !== 'host') out[lower] = value;
  }
  out.host = host;
  return out;
}
