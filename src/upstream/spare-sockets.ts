/**
 * Connections to an origin opened before a WebSocket upgrade needs them (`websocket.preconnect`).
 * An upgrade cannot use the keep-alive pool (the socket becomes the tunnel), so without spares
 * each one waits for a TCP handshake (and TLS) with the origin before its request can even go:
 * one round trip to a far origin, per WebSocket. With spares, the upgrade takes one that is
 * connected already and a new one is opened behind it.
 *
 * Spares are kept only for origins that had an upgrade in the last IN_USE_MS (an origin that
 * serves plain HTTP gets none), and each is replaced after MAX_IDLE_MS: servers close
 * connections that send no request (Node's headersTimeout is 60 s by default, many set less),
 * and a spare should be gone before its server drops it. Idle spares do not keep the process
 * alive (unref).
 */
import net from 'node:net';
import tls from 'node:tls';

const IN_USE_MS = 5 * 60_000;
const MAX_IDLE_MS = 10_000;

export interface OriginTls {
  rejectUnauthorized: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
}

/** Where raw connections to `origin` go: host, port, TLS with the server name pinned as for the pool. */
export function spareTarget(origin: { url: URL; secure: boolean; tls: OriginTls | undefined }, connectTimeoutMs: number): SpareTarget {
  const host = origin.url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(origin.url.port) || (origin.secure ? 443 : 80);
  // origin.tls spreads first: its `servername` key is there even when unset, and must not erase the default.
  const t = origin.secure ? { ...origin.tls!, servername: origin.tls?.servername ?? (net.isIP(host) ? undefined : host) } : undefined;
  return { host, port, tls: t, connectTimeoutMs };
}

export interface SpareTarget {
  host: string;
  port: number;
  /** TLS options for https origins; undefined for plain TCP. */
  tls: (OriginTls & { servername?: string }) | undefined;
  connectTimeoutMs: number;
}

interface Spare {
  socket: net.Socket;
  openedAt: number;
  expire: NodeJS.Timeout;
  onClose: () => void;
  onData: () => void;
}

/** Opens a connection to `t`; resolves when it is ready for bytes (TLS handshake done). */
export function connectTo(t: SpareTarget): net.Socket {
  return t.tls ? tls.connect({ ...t.tls, host: t.host, port: t.port, servername: t.tls.servername, ALPNProtocols: ['http/1.1'] }) : net.connect({ host: t.host, port: t.port });
}

export class SpareSockets {
  private readonly idle: Spare[] = [];
  private opening = 0;
  private lastUsed = 0;
  private closed = false;

  constructor(
    private readonly target: SpareTarget,
    /** How many to keep. */
    private readonly count: number,
  ) {}

  /** A connected socket if one is idle (then another is opened behind it), else undefined. */
  take(): net.Socket | undefined {
    if (this.closed) return undefined;
    this.lastUsed = Date.now();
    let spare: Spare | undefined;
    while ((spare = this.idle.shift())) {
      clearTimeout(spare.expire);
      spare.socket.off('close', spare.onClose);
      spare.socket.off('data', spare.onData);
      if (!spare.socket.destroyed && spare.socket.readyState === 'open') break;
    }
    this.fill();
    if (!spare) return undefined;
    spare.socket.ref();
    return spare.socket;
  }

  close(): void {
    this.closed = true;
    for (const s of this.idle.splice(0)) {
      clearTimeout(s.expire);
      s.socket.destroy();
    }
  }

  private fill(): void {
    while (!this.closed && this.idle.length + this.opening < this.count && Date.now() - this.lastUsed < IN_USE_MS) {
      this.open();
    }
  }

  private open(): void {
    this.opening++;
    const socket = connectTo(this.target);
    socket.unref();
    const ready = this.target.tls ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => socket.destroy(), this.target.connectTimeoutMs).unref();
    const failed = () => {
      clearTimeout(timer);
      this.opening--;
      // No retry loop against an origin that refuses: the next upgrade tries again.
    };
    socket.once('error', failed);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.off('error', failed);
      this.opening--;
      if (this.closed) return socket.destroy();
      socket.on('error', () => {});
      // An idle spare that the server closes, or that receives anything, is of no use; one the
      // server closed after a while is replaced (one closed at once is not: no loop).
      const spare: Spare = {
        socket,
        openedAt: Date.now(),
        expire: setTimeout(() => this.drop(spare, true), MAX_IDLE_MS).unref(),
        onClose: () => this.drop(spare, Date.now() - spare.openedAt > 1000),
        onData: () => socket.destroy(),
      };
      socket.once('close', spare.onClose);
      socket.once('data', spare.onData);
      this.idle.push(spare);
    });
  }

  private drop(spare: Spare, renew: boolean): void {
    const i = this.idle.indexOf(spare);
    if (i < 0) return;
    this.idle.splice(i, 1);
    clearTimeout(spare.expire);
    spare.socket.destroy();
    if (renew) this.fill();
  }
}
