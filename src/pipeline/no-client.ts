/**
 * The response of a request no client waits for (a background refresh, cache/revalidate.ts): it
 * takes what the upstream phase writes and drops it, so the exchange runs exactly as a client's
 * would, its answer going only where the way back sends it (into the cache). Only what the
 * upstream phase and the cache use of a ServerResponse is here.
 */
import { EventEmitter } from 'node:events';

export class NoClient extends EventEmitter {
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  writableFinished = false;
  statusCode = 0;
  shouldKeepAlive = false;

  writeHead(status: number): this {
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }

  writeEarlyHints(): void {}

  /** Always ready for more: nothing is buffered, so the origin is never held back. */
  write(_chunk: unknown): boolean {
    this.headersSent = true;
    return true;
  }

  end(_chunk?: unknown): this {
    if (this.writableEnded) return this;
    this.headersSent = true;
    this.writableEnded = this.writableFinished = true;
    queueMicrotask(() => {
      this.emit('finish');
      this.emit('close');
    });
    return this;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    queueMicrotask(() => this.emit('close'));
    return this;
  }
}
