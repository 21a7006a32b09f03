/**
 * The access log's writer: lines are copied into 64 KiB buffers, and the full buffers go to the
 * file descriptor in order, all that wait in one asynchronous writev, one writev at a time. Written by hand because
 * the general-purpose destination (pino's sonic-boom) cost about 4–5 µs of CPU per line in a
 * measurement (1,000,000 lines of 270 bytes to /dev/null), this 0.3–0.5 µs; at a cache hit's
 * ~50 µs that was a sixth of the request (bench/RESULTS.md).
 *
 * - A partly filled buffer is written every FLUSH_MS, so a quiet node's lines still show up.
 * - A reader that does not keep up (a stalled pipe: EAGAIN, or writes that never complete) never
 *   stalls the event loop and never grows memory without bound: at most MAX_QUEUED bytes wait;
 *   past that the oldest waiting buffer is dropped, counted, and said once a minute on stderr.
 * - `flush(cb)` writes what is buffered and calls back once everything queued is written (or
 *   after FLUSH_DEADLINE_MS): the worker awaits it before it exits.
 */
import fs from 'node:fs';

export const CHUNK = 64 * 1024;
export const FLUSH_MS = 1_000;
const MAX_QUEUED = 64 * CHUNK;
const FLUSH_DEADLINE_MS = 2_000;
const EAGAIN_RETRY_MS = 10;
/** Buffers per writev (IOV_MAX is 1024 on Linux). */
const MAX_IOV = 256;

export class LineWriter {
  private buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private writing = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly idle: (() => void)[] = [];
  private lastWarned = 0;
  private closed = false;
  /** The first queued buffer is the rest of one whose start was written. */
  private partial = false;
  /** Bytes dropped because the reader did not keep up. */
  dropped = 0;
  /** Writes that failed with an error other than EAGAIN (their bytes are dropped too). */
  errors = 0;

  constructor(private readonly fd: number) {
    this.timer = setInterval(() => this.seal(), FLUSH_MS);
    this.timer.unref();
  }

  /** pino's DestinationStream: one call per line. */
  write(line: string): boolean {
    if (this.closed) return false;
    // A UTF-16 unit is at most 3 UTF-8 bytes: the bound is checked without measuring the line.
    if (this.used + line.length * 3 > CHUNK) {
      this.seal();
      if (line.length * 3 > CHUNK) {
        this.enqueue(Buffer.from(line));
        return true;
      }
    }
    this.used += this.buf.write(line, this.used);
    return true;
  }

  /** Writes everything buffered; `cb` once it is all written, or after the deadline. */
  flush(cb: (err?: Error) => void = () => {}): void {
    this.seal();
    if (!this.writing && this.queue.length === 0) {
      cb();
      return;
    }
    const deadline = setTimeout(done, FLUSH_DEADLINE_MS);
    deadline.unref();
    let called = false;
    function done(): void {
      if (called) return;
      called = true;
      clearTimeout(deadline);
      cb();
    }
    this.idle.push(done);
  }

  /** Flushes and stops the timer; later lines are dropped. */
  end(cb?: () => void): void {
    this.flush(() => {
      this.closed = true;
      clearInterval(this.timer);
      clearTimeout(this.retry);
      cb?.();
    });
  }

  /** Bytes waiting to be written (buffered and queued; not those of a write under way). */
  get pending(): number {
    return this.queued + this.used;
  }

  /** The current buffer joins the queue. */
  private seal(): void {
    if (this.used > 0) {
      const full = this.buf.subarray(0, this.used);
      this.buf = Buffer.allocUnsafe(CHUNK);
      this.used = 0;
      this.enqueue(full);
    } else this.drain();
  }

  private enqueue(chunk: Buffer): void {
    this.queue.push(chunk);
    this.queued += chunk.length;
    this.bound();
    this.drain();
  }

  /**
   * Drops the oldest waiting buffers past MAX_QUEUED. Only what waits can go (the buffers of a
   * writev under way are the kernel's already), and never the rest of a buffer whose start was
   * written: the reader would get half a line.
   */
  private bound(): void {
    while (this.queued > MAX_QUEUED && this.queue.length > (this.partial ? 2 : 1)) {
      const [gone] = this.queue.splice(this.partial ? 1 : 0, 1);
      this.queued -= gone.length;
      this.dropped += gone.length;
      this.warn();
    }
  }

  private drain(): void {
    if (this.writing || this.retry || this.queue.length === 0) {
      if (!this.writing && this.queue.length === 0) this.settle();
      return;
    }
    this.writing = true;
    // Everything waiting goes in one writev: the writer keeps up however many lines a turn makes.
    const chunks = this.queue.splice(0, MAX_IOV);
    const wasPartial = this.partial;
    this.partial = false;
    let size = 0;
    for (const c of chunks) size += c.length;
    this.queued -= size;
    fs.writev(this.fd, chunks, (err, written) => {
      this.writing = false;
      if (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          // A non-blocking pipe is full: the same buffers again shortly, without spinning.
          this.requeue(chunks, 0, wasPartial);
          this.retry = setTimeout(() => {
            this.retry = undefined;
            this.drain();
          }, EAGAIN_RETRY_MS);
          this.retry.unref();
          return;
        }
        // The descriptor will not take them: dropped.
        this.errors++;
        this.dropped += size;
      } else if (written < size) this.requeue(chunks, written, wasPartial);
      this.drain();
    });
  }

  /**
   * What a writev did not write goes back to the front of the queue, in order. `wasPartial`: the
   * first of `chunks` was already the rest of a started buffer.
   */
  private requeue(chunks: Buffer[], written: number, wasPartial: boolean): void {
    let skip = written;
    let i = 0;
    while (i < chunks.length && skip >= chunks[i].length) skip -= chunks[i++].length;
    const rest = chunks.slice(i);
    if (rest.length === 0) return;
    // The first one left was started if part of it went out, or if it was a rest already.
    this.partial = skip > 0 || (i === 0 && wasPartial);
    if (skip > 0) rest[0] = rest[0].subarray(skip);
    for (const c of rest) this.queued += c.length;
    this.queue.unshift(...rest);
    this.bound();
  }

  private settle(): void {
    const waiting = this.idle.splice(0);
    for (const cb of waiting) cb();
  }

  private warn(): void {
    const now = Date.now();
    if (now - this.lastWarned < 60_000) return;
    this.lastWarned = now;
    try {
      fs.writeSync(2, `outpost: the access log's reader does not keep up: ${this.dropped} bytes of log lines dropped so far\n`);
    } catch {
      // stderr is gone too: nothing more to say
    }
  }
}
