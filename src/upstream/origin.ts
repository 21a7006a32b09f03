/**
 * Origins at run time: what the config says of each (address, weight, Host override) plus the
 * long-lived parts that outlive a config snapshot — the undici connection pool and the live
 * counters (in-flight requests, open WebSockets). A reload that keeps an origin keeps its warm
 * connections and its counts.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Pool, buildConnector } from 'undici';
import type { Config, OriginConfig } from '../config/schema.js';
import { SpareSockets, spareTarget, type OriginTls } from './spare-sockets.js';

/** Live counters of one (pool, origin), kept across reloads. */
export interface OriginLoad {
  inflight: number;
  websockets: number;
}

export interface OriginRuntime {
  /** `pool/origin`, stable across reloads; the metrics label. */
  readonly id: string;
  readonly name: string;
  readonly pool: string;
  readonly url: URL;
  /** `https:` origins: WebSockets go out over TLS too. */
  readonly secure: boolean;
  readonly weight: number;
  readonly enabled: boolean;
  readonly hostOverride: string | undefined;
  readonly dispatcher: Pool;
  readonly load: OriginLoad;
  /** TLS options for raw connections (WebSocket upgrades) to this origin. */
  readonly tls: OriginTls | undefined;
  /** Connections opened ahead for WebSocket upgrades (`websocket.preconnect`; none when 0). */
  readonly spares: SpareSockets | undefined;
}

export type { OriginTls };

/**
 * Owns undici pools and load counters by key, so snapshots can share them. `retain` marks what
 * the new snapshot uses; `release` closes the rest (gracefully: in-flight requests finish).
 */
export class OriginRegistry {
  private readonly pools = new Map<string, Pool>();
  private readonly loads = new Map<string, OriginLoad>();
  private readonly spares = new Map<string, SpareSockets>();

  constructor(private readonly onClose: (err: unknown) => void = () => {}) {}

  build(poolName: string, o: OriginConfig, upstream: Config['upstream'], preconnect = 0): OriginRuntime {
    const url = new URL(o.address);
    const tls = url.protocol === 'https:' ? originTls(o) : undefined;
    const key = JSON.stringify([o.address, tls, upstream]);
    let dispatcher = this.pools.get(key);
    if (!dispatcher) {
      dispatcher = new Pool(url.origin, {
        connections: upstream.maxConnectionsPerOrigin || null,
        connectTimeout: upstream.connectTimeout,
        headersTimeout: upstream.responseTimeout,
        bodyTimeout: upstream.bodyTimeout,
        keepAliveTimeout: upstream.keepAliveTimeout,
        keepAliveMaxTimeout: upstream.keepAliveTimeout,
        connect: tls ? pinnedTlsConnector(tls, url.hostname, upstream.connectTimeout) : undefined,
      });
      this.pools.set(key, dispatcher);
    }
    const spareKey = JSON.stringify([o.address, tls, upstream.connectTimeout, preconnect]);
    let spares = this.spares.get(spareKey);
    if (!spares && preconnect > 0) {
      spares = new SpareSockets(spareTarget({ url, secure: url.protocol === 'https:', tls }, upstream.connectTimeout), preconnect);
      this.spares.set(spareKey, spares);
    }
    const id = `${poolName}/${o.name}`;
    let load = this.loads.get(id);
    if (!load) this.loads.set(id, (load = { inflight: 0, websockets: 0 }));
    return {
      id,
      name: o.name,
      pool: poolName,
      url,
      secure: url.protocol === 'https:',
      weight: o.weight,
      enabled: o.enabled,
      hostOverride: o.host,
      dispatcher,
      load,
      tls,
      spares,
    };
  }

  /** Closes the connection pools that no origin in `inUse` refers to. */
  release(inUse: Iterable<OriginRuntime>): void {
    const keep = new Set<Pool>();
    const keepSpares = new Set<SpareSockets>();
    for (const o of inUse) {
      keep.add(o.dispatcher);
      if (o.spares) keepSpares.add(o.spares);
    }
    for (const [key, spares] of this.spares) {
      if (keepSpares.has(spares)) continue;
      this.spares.delete(key);
      spares.close();
    }
    for (const [key, pool] of this.pools) {
      if (keep.has(pool)) continue;
      this.pools.delete(key);
      pool.close().catch(this.onClose);
    }
  }

  /** Closes every pool; in-flight requests finish first unless `force`. */
  async closeAll(force = false): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    for (const spares of this.spares.values()) spares.close();
    this.spares.clear();
    await Promise.all(all.map((p) => (force ? p.destroy() : p.close()).catch(this.onClose)));
  }
}

/**
 * TLS connections to an origin with a fixed server name. undici would take the name (SNI, and
 * the name the certificate is checked against) from each request's Host header: the client's
 * site, not the origin. An origin is one server whatever site a request is for, so the name is
 * tls.servername, else the address's hostname, and none for an IP address (RFC 6066 §3).
 */
function pinnedTlsConnector(tls: OriginTls, hostname: string, timeout: number): buildConnector.connector {
  const connect = buildConnector({ ...tls, timeout });
  const host = hostname.replace(/^\[|\]$/g, '');
  const servername = tls.servername ?? (isIP(host) ? undefined : host);
  return (opts, callback) => connect({ ...opts, servername }, callback);
}

export function originTls(o: OriginConfig): OriginTls {
  const t = o.tls;
  return {
    rejectUnauthorized: t?.verify ?? true,
    ca: t?.ca ? readFileSync(t.ca, 'utf8') : undefined,
    cert: t?.cert ? readFileSync(t.cert, 'utf8') : undefined,
    key: t?.key ? readFileSync(t.key, 'utf8') : undefined,
    servername: t?.servername,
  };
}
