/**
 * A regional node's sockets to the core: a few are kept open and idle (spares), so a client's
 * hello crosses the long path once instead of waiting for a TCP handshake and an Upgrade first.
 * Each socket carries one client (its first frame, `regional.attach`, says which upgrade it
 * stands for); a taken spare is replaced at once.
 *
 * The core may be several nodes (`urls`, in order of preference): sockets go to the current one,
 * and when it cannot be reached the next is tried at once, and stays current while it answers.
 *
 * `healthy` is whether the last attempt to reach the core succeeded: a node that cannot reach
 * its core cannot welcome anyone, and says so on /healthz so the edge steers elsewhere.
 */
import type { Logger } from 'pino';
import WebSocket from 'ws';

export interface CoreLinkOptions {
  /** The core nodes' `/ws` URLs (`ws://core:3001/ws`), in order of preference. */
  urls: string[];
  secret: string;
  /** Idle sockets kept open (4). */
  spares?: number;
  log: Logger;
}

const RETRY_MS = 1000;
const CONNECT_TIMEOUT_MS = 10_000;

export class CoreLink {
  private readonly idle: WebSocket[] = [];
  private opening = 0;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private lastOk = false;
  private readonly spares: number;
  private current = 0;

  constructor(private readonly opts: CoreLinkOptions) {
    this.spares = opts.spares ?? 4;
    this.fill();
  }

  get healthy(): boolean {
    return this.lastOk;
  }

  /** The index in `urls` of the core node sockets go to now. */
  get currentIndex(): number {
    return this.current;
  }

  /** An open socket to the core: a spare if one is idle, else a new one. */
  async take(): Promise<WebSocket> {
    let ws: WebSocket | undefined;
    while ((ws = this.idle.shift())) {
      if (ws.readyState === WebSocket.OPEN) break;
    }
    this.fill();
    return ws ?? this.openAny();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    for (const ws of this.idle.splice(0)) ws.terminate();
  }

  private fill(): void {
    if (this.closed || this.retry) return;
    while (this.idle.length + this.opening < this.spares) {
      this.opening++;
      this.openAny().then(
        (ws) => {
          this.opening--;
          if (this.closed) return ws.terminate();
          this.idle.push(ws);
          ws.once('close', () => {
            const i = this.idle.indexOf(ws);
            if (i >= 0) {
              this.idle.splice(i, 1);
              this.fill();
            }
          });
        },
        (err: Error) => {
          this.opening--;
          this.opts.log.warn({ err: err.message, core: this.opts.urls }, 'regional: cannot reach the core');
          // Try again in a while, not in a loop against a core that is down.
          this.retry ??= setTimeout(() => {
            this.retry = undefined;
            this.fill();
          }, RETRY_MS);
          this.retry.unref();
        },
      );
    }
  }

  /** A socket to the current core node, else to the next that answers (each tried once). */
  private async openAny(): Promise<WebSocket> {
    const start = this.current;
    let last: unknown;
    for (let i = 0; i < this.opts.urls.length; i++) {
      const at = (start + i) % this.opts.urls.length;
      try {
        const ws = await this.open(this.opts.urls[at]!);
        this.current = at;
        return ws;
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  private open(url: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        headers: { 'x-desk-regional': this.opts.secret },
        handshakeTimeout: CONNECT_TIMEOUT_MS,
        perMessageDeflate: false,
      });
      ws.once('open', () => {
        this.lastOk = true;
        ws.off('error', reject);
        ws.on('error', () => {});
        resolve(ws);
      });
      ws.once('error', (err) => {
        this.lastOk = false;
        reject(err);
      });
      ws.once('unexpected-response', (_req, res) => {
        this.lastOk = false;
        reject(new Error(`the core refused the regional socket: ${res.statusCode}`));
        ws.terminate();
      });
    });
  }
}
