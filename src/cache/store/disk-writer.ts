/**
 * Streams one body into a temp file of the disk store, then renames it into place at `end()`.
 *
 * `write` is synchronous (the StoreWriter contract) while the file is not: chunks queue and one
 * drain loop writes them in order with `writev`. Any IO error (ENOSPC, EIO, EROFS…) aborts the
 * entry, removes the temp file and reports to the store, which degrades; nothing throws to the
 * caller: `write` then returns false and `end` resolves without storing.
 *
 * StoreWriter has no backpressure, so when the disk is slower than the origin the chunks wait in
 * memory (at most `maxObjectSize` per writer, the cap aborts past it).
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StoredMeta, StoreWriter } from '../types.js';
import { encodeHead, HEADER_BYTES } from './disk-format.js';

/** What a writer needs from its store. */
export interface DiskWriterHost {
  readonly maxObjectSize: number;
  /** Creates the fan-out directory of a file (cached by the store). */
  ensureDir(dir: string): Promise<void>;
  /** The entry is in place, its file `bytes` long. */
  committed(hash: string, meta: StoredMeta, bytes: number): void;
  /** An IO error lost the entry. */
  failed(err: NodeJS.ErrnoException): void;
  /** Tracks the writer's work so `close` can wait for it. */
  track(work: Promise<unknown>): void;
}

type State = 'open' | 'ending' | 'done' | 'aborted';

export class DiskWriter implements StoreWriter {
  private state: State = 'open';
  private pending: Buffer[] = [];
  private length = 0;
  private readonly head: Buffer;
  private position: number;
  private readonly file: Promise<FileHandle | undefined>;
  private draining: Promise<void> | undefined;

  constructor(
    private readonly host: DiskWriterHost,
    private readonly meta: StoredMeta,
    private readonly hash: string,
    private readonly path: string,
    private readonly tempPath: string,
  ) {
    this.head = encodeHead(meta);
    this.position = this.head.length;
    this.file = this.create();
    host.track(this.file);
  }

  write(chunk: Buffer): boolean {
    if (this.state !== 'open') return false;
    this.length += chunk.length;
    if (this.length > this.host.maxObjectSize) {
      this.abort();
      return false;
    }
    if (chunk.length === 0) return true;
    this.pending.push(chunk);
    this.draining ??= this.drain();
    return true;
  }

  end(): Promise<void> {
    if (this.state !== 'open') return Promise.resolve();
    this.state = 'ending';
    const work = this.finish();
    this.host.track(work);
    return work;
  }

  abort(): void {
    if (this.state === 'aborted' || this.state === 'done') return;
    this.state = 'aborted';
    this.pending = [];
    this.host.track(this.discard());
  }

  private async create(): Promise<FileHandle | undefined> {
    try {
      await this.host.ensureDir(dirname(this.tempPath));
      const fh = await open(this.tempPath, 'wx');
      try {
        await writeAll(fh, [this.head], 0);
      } catch (err) {
        await fh.close().catch(() => {});
        throw err;
      }
      return fh;
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  /** Writes queued chunks until the queue is empty; one loop at a time. */
  private async drain(): Promise<void> {
    const fh = await this.file;
    try {
      while (fh !== undefined && this.pending.length > 0 && this.state !== 'aborted') {
        const chunks = this.pending;
        this.pending = [];
        this.position = await writeAll(fh, chunks, this.position);
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.draining = undefined;
    }
  }

  private async finish(): Promise<void> {
    if (this.draining !== undefined) await this.draining;
    if (this.pending.length > 0) await this.drain();
    const fh = await this.file;
    if (fh === undefined || this.state === 'aborted') return;
    const bytes = this.head.length + this.length;
    const meta = this.meta.size === this.length ? this.meta : { ...this.meta, size: this.length };
    try {
      if (meta !== this.meta) await writeAll(fh, [encodeHead(meta, this.head.length - HEADER_BYTES)], 0);
      await fh.close();
      if (this.state !== 'ending') return; // aborted while closing: discard() removes the file
      await rename(this.tempPath, this.path);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.state = 'done';
    this.host.committed(this.hash, meta, bytes);
  }

  private fail(err: unknown): void {
    if (this.state === 'aborted' || this.state === 'done') return;
    this.state = 'aborted';
    this.pending = [];
    this.host.failed(err as NodeJS.ErrnoException);
    this.host.track(this.discard());
  }

  /** Closes and removes the temp file, whatever state it got to. */
  private async discard(): Promise<void> {
    if (this.draining !== undefined) await this.draining;
    const fh = await this.file;
    if (fh === undefined) return;
    await fh.close().catch(() => {});
    await unlink(this.tempPath).catch(() => {});
  }
}

/** Writes every buffer at `position` onward, finishing short writes; returns the next position. */
async function writeAll(fh: FileHandle, chunks: Buffer[], position: number): Promise<number> {
  const { bytesWritten } = await fh.writev(chunks, position);
  let skip = bytesWritten;
  let at = position;
  for (const chunk of chunks) {
    let offset = Math.min(skip, chunk.length);
    skip -= offset;
    while (offset < chunk.length) {
      const r = await fh.write(chunk, offset, chunk.length - offset, at + offset);
      if (r.bytesWritten === 0) throw Object.assign(new Error('EIO: write made no progress'), { code: 'EIO' });
      offset += r.bytesWritten;
    }
    at += chunk.length;
  }
  return at;
}
