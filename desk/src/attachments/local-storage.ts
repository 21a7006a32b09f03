/**
 * Attachments in a local directory: `<dir>/<2 characters of the key>/<key>`, written to a
 * temporary name and renamed into place once whole, so a reader never sees half a file and a
 * refused or broken upload leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type AttachmentStorage, TooLargeError } from './storage.js';

const KEY = /^[A-Za-z0-9_-]{3,100}$/;
/** Bytes seen before `check` is asked: the longest signature (attachments/kinds.ts) is 12. */
const HEAD = 16;

export class LocalStorage implements AttachmentStorage {
  constructor(readonly dir: string) {}

  private pathOf(key: string): string {
    if (!KEY.test(key)) throw new Error(`bad attachment key ${JSON.stringify(key)}`);
    return path.join(this.dir, key.slice(2, 4), key);
  }

  async write(key: string, source: Readable, maxBytes: number, check?: (head: Buffer) => void): Promise<number> {
    const file = this.pathOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.${randomBytes(6).toString('hex')}.part`;
    let size = 0;
    // The first HEAD bytes are held until checked: a signature is longer than some first chunks.
    let head: Buffer | undefined = Buffer.alloc(0);
    const release = (push: (b: Buffer) => void) => {
      check?.(head!);
      if (head!.length) push(head!);
      head = undefined;
    };
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        try {
          size += chunk.length;
          if (size > maxBytes) throw new TooLargeError(maxBytes);
          if (!head) return done(null, chunk);
          head = Buffer.concat([head, chunk]);
          if (head.length >= HEAD) release((b) => this.push(b));
          done();
        } catch (err) {
          done(err as Error);
        }
      },
      flush(done) {
        try {
          if (head) release((b) => this.push(b));
          done();
        } catch (err) {
          done(err as Error);
        }
      },
    });
    try {
      await pipeline(source, count, createWriteStream(partial, { flags: 'wx' }));
      await rename(partial, file);
      return size;
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  async read(key: string): Promise<Readable | undefined> {
    const file = this.pathOf(key);
    const st = await stat(file).catch(() => undefined);
    return st?.isFile() ? createReadStream(file) : undefined;
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}
