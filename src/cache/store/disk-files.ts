/** Small file and directory helpers of the disk store. */
import { readdir, type FileHandle } from 'node:fs/promises';
import type { StoredMeta } from '../types.js';
import { decodeMeta, HEADER_BYTES, readMetaLength } from './disk-format.js';

/** The names in a directory; none when it cannot be read. */
export async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Reads `length` bytes from the start of a file (fewer only at end of file). */
export async function readFully(fh: FileHandle, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** The metadata of an open entry file and where its body starts; undefined when corrupted. */
export async function readMeta(fh: FileHandle, fileBytes: number, hash: string): Promise<{ meta: StoredMeta; headBytes: number } | undefined> {
  const first = await readFully(fh, Math.min(fileBytes, 4096));
  const metaLength = readMetaLength(first);
  if (metaLength === undefined || HEADER_BYTES + metaLength > fileBytes) return undefined;
  const headBytes = HEADER_BYTES + metaLength;
  const head = first.length >= headBytes ? first : await readFully(fh, headBytes);
  const meta = decodeMeta(head, fileBytes, hash);
  return meta === undefined ? undefined : { meta, headBytes };
}

/** Copies `length` bytes from `from` at `fromPos` to `to` at `toPos`. */
export async function copyRange(from: FileHandle, fromPos: number, to: FileHandle, toPos: number, length: number): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.min(length, 1024 * 1024));
  let done = 0;
  while (done < length) {
    const { bytesRead } = await from.read(buf, 0, Math.min(buf.length, length - done), fromPos + done);
    if (bytesRead === 0) throw Object.assign(new Error('EIO: cache file shorter than its body'), { code: 'EIO' });
    let written = 0;
    while (written < bytesRead) written += (await to.write(buf, written, bytesRead - written, toPos + done + written)).bytesWritten;
    done += bytesRead;
  }
}

/** Whether a process of this pid runs (on this host, in this pid namespace). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
