/** Shared by the store tests: metadata, temp directories, reading a body in either form. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { CacheStore, StoredEntry, StoredMeta } from '../types.js';

export function testMeta(key: string, over: Partial<StoredMeta> = {}): StoredMeta {
  const url = new URL(key.split('\u0000')[0]);
  return {
    key,
    url: url.href,
    host: url.hostname,
    status: 200,
    headers: { 'content-type': 'text/plain', etag: '"x"' },
    requestTime: 1_700_000_000_000,
    responseTime: 1_700_000_000_050,
    initialAge: 0,
    lifetime: 60,
    staleWhileRevalidate: 0,
    staleIfError: 0,
    mustRevalidate: false,
    noCache: false,
    vary: [],
    tags: [],
    size: NaN,
    ...over,
  };
}

/** Stores `body` under `meta`, in chunks of `chunk` bytes; false when the store refused it. */
export async function store(s: CacheStore, meta: StoredMeta, body: Buffer, chunk = 1000): Promise<boolean> {
  const w = s.put(meta);
  if (w === undefined) return false;
  for (let i = 0; i < body.length; i += chunk) if (!w.write(body.subarray(i, i + chunk))) return false;
  await w.end();
  return true;
}

export function readStream(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** The body bytes [start, end] of an entry, whichever form it has. */
export async function bodyOf(entry: StoredEntry, start?: number, end?: number): Promise<Buffer> {
  if (Buffer.isBuffer(entry.body)) {
    return start === undefined ? entry.body : entry.body.subarray(start, end === undefined ? undefined : end + 1);
  }
  return readStream(entry.body(start, end));
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

/** A fresh temp directory and its removal. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'outpost-store-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
