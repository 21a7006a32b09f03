/**
 * The body of a large disk entry: a function that opens a stream of a byte range, reading from
 * the file descriptor `get` opened. Streaming from that descriptor (not from the path) matters:
 * another worker may rename a new version over the path, or evict it, while this response is
 * still being sent; the open descriptor keeps reading the version whose metadata was returned.
 *
 * The streams read with positioned reads on the shared handle rather than through
 * `fs.createReadStream({ fd })`, because destroying such a stream (a client that hangs up) closes
 * the descriptor under every other stream sharing it, `autoClose: false` or not.
 *
 * The descriptor is closed when the last stream opened from it closes, or after `idleMs` if no
 * stream was ever opened (a caller that got the entry and never read the body must not leak it).
 * A call after that reopens the path and streams only if it is still the same file (same inode);
 * otherwise the stream fails, as a read of a replaced entry should.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

export type BodyOpener = (start?: number, end?: number) => Readable;

const READ_BYTES = 64 * 1024;

/**
 * Makes the range opener of a body of `size` bytes that starts at byte `offset` of the file held
 * by `handle` (inode `ino` of `path`). Takes ownership of the handle.
 */
export function bodyOpener(handle: FileHandle, path: string, ino: number, offset: number, size: number, idleMs: number): BodyOpener {
  let current: FileHandle | undefined = handle;
  let reopening: Promise<FileHandle> | undefined;
  let streams = 0;
  let idle: NodeJS.Timeout | undefined = setTimeout(release, idleMs);
  idle.unref();

  function release(): void {
    idle = undefined;
    if (current === undefined || streams > 0) return;
    const h = current;
    current = undefined;
    h.close().catch(() => {});
  }

  function acquire(): Promise<FileHandle> | FileHandle {
    streams++;
    if (idle !== undefined) {
      clearTimeout(idle);
      idle = undefined;
    }
    if (current !== undefined) return current;
    reopening ??= reopen(path, ino).then(
      (h) => {
        reopening = undefined;
        current = h;
        return h;
      },
      (err: unknown) => {
        reopening = undefined;
        throw err;
      },
    );
    return reopening;
  }

  function done(): void {
    streams--;
    if (streams === 0) release();
  }

  return (start = 0, end = size - 1) => {
    end = Math.min(end, size - 1);
    if (start > end) return Readable.from([]);
    return new RangeStream(acquire(), offset + start, offset + end, done);
  };
}

async function reopen(path: string, ino: number): Promise<FileHandle> {
  const h = await open(path, 'r');
  const st = await h.stat().catch(() => undefined);
  if (st?.ino === ino) return h;
  await h.close().catch(() => {});
  throw Object.assign(new Error(`cache entry ${path} was replaced`), { code: 'ESTALE' });
}

/** Reads bytes [pos, last] of a shared handle; destroying it leaves the handle open. */
class RangeStream extends Readable {
  private handle: FileHandle | undefined;
  private released = false;

  constructor(
    private readonly source: Promise<FileHandle> | FileHandle,
    private pos: number,
    private readonly last: number,
    private readonly onClose: () => void,
  ) {
    super({ highWaterMark: READ_BYTES });
  }

  override _construct(callback: (err?: Error | null) => void): void {
    Promise.resolve(this.source).then(
      (h) => {
        this.handle = h;
        callback();
      },
      (err: Error) => callback(err),
    );
  }

  override _read(): void {
    const length = Math.min(READ_BYTES, this.last - this.pos + 1);
    if (length <= 0) {
      this.push(null);
      return;
    }
    this.handle!.read(Buffer.allocUnsafe(length), 0, length, this.pos).then(
      ({ bytesRead, buffer }) => {
        if (bytesRead === 0) {
          this.destroy(new Error('cache file ended before its body did'));
          return;
        }
        this.pos += bytesRead;
        this.push(bytesRead === length ? buffer : buffer.subarray(0, bytesRead));
      },
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.released) {
      this.released = true;
      this.onClose();
    }
    callback(err);
  }
}
