import { mkdir, open, readdir, readFile, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { entryPath, hashKey, tempName } from './disk-format.js';
import { DiskStore, type DiskStoreOptions } from './disk-store.js';
import { bodyOf, bytes, collect, readStream, store, tempDir, testMeta } from './test-support.js';

const A = 'https://a.test/one';
const limits = { maxSize: 1_000_000, maxObjectSize: 500_000 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function dir(): Promise<string> {
  const d = await tempDir();
  cleanups.push(d.remove);
  return d.path;
}

async function disk(path: string, options: Partial<DiskStoreOptions> = {}): Promise<DiskStore> {
  const s = new DiskStore({ path, ...limits, ...options });
  cleanups.push(() => s.close());
  await s.ready;
  return s;
}

async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

describe('DiskStore', () => {
  it('lays files out by sha256 of the key in two fan-out levels', async () => {
    const root = await dir();
    const s = await disk(root);
    await store(s, testMeta(A), Buffer.from('body'));
    const hash = hashKey(A);
    expect(await filesUnder(root)).toEqual([join(root, hash.slice(0, 2), hash.slice(2, 4), hash)]);
    const file = await readFile(entryPath(root, hash));
    expect(file.subarray(0, 4).toString('latin1')).toBe('OPC\x01');
    expect(file.subarray(file.length - 4).toString()).toBe('body');
  });

  it('survives a restart: a new instance on the same directory has the entries, LRU order from atime', async () => {
    const root = await dir();
    const first = await disk(root);
    await store(first, testMeta(A, { tags: ['t'] }), Buffer.from('kept'));
    await store(first, testMeta('https://a.test/big'), bytes(200_000));
    await first.close();

    const again = await disk(root);
    expect(again.usage().entries).toBe(2);
    expect(again.usage().bytes).toBe(first.usage().bytes);
    expect((await bodyOf((await again.get(A))!)).toString()).toBe('kept');
    expect((await collect(again.list({ tag: 't' }))).map((m) => m.key)).toEqual([A]);
  });

  it('orders a restart by last use (atime)', async () => {
    const root = await dir();
    const first = await disk(root);
    const url = (n: string) => `https://a.test/${n}`;
    for (const n of ['a', 'b', 'c']) await store(first, testMeta(url(n)), bytes(2_400));
    await first.close();
    // a was used last, b long ago.
    const t = Date.now() / 1000;
    await utimes(entryPath(root, hashKey(url('a'))), t, t - 10);
    await utimes(entryPath(root, hashKey(url('b'))), t - 3600, t - 3600);
    await utimes(entryPath(root, hashKey(url('c'))), t - 60, t - 60);
    const again = await disk(root, { maxSize: 10_000, maxObjectSize: 5_000 });
    await store(again, testMeta(url('d')), bytes(2_400));
    expect(await again.get(url('b'))).toBeUndefined();
    for (const n of ['a', 'c', 'd']) expect(await again.get(url(n)), n).toBeDefined();
  });

  it('shares the directory between two instances (two workers): writes, replacements and deletes', async () => {
    const root = await dir();
    const one = await disk(root);
    const two = await disk(root);
    await store(one, testMeta(A, { tags: ['shared'] }), Buffer.from('from one'));
    // two never indexed it, get finds the file.
    expect((await bodyOf((await two.get(A))!)).toString()).toBe('from one');
    expect(two.usage().entries).toBe(1);

    await store(two, testMeta(A, { status: 203 }), Buffer.from('from two'));
    const hit = await one.get(A);
    expect(hit?.meta.status).toBe(203);
    expect((await bodyOf(hit!)).toString()).toBe('from two');

    // list sees files the index has not met yet.
    await store(one, testMeta('https://b.test/x', { tags: ['shared'] }), Buffer.from('b'));
    expect((await collect(two.list({ tag: 'shared' }))).map((m) => m.key)).toEqual(['https://b.test/x']);
    expect((await collect(two.list({}))).map((m) => m.key).sort()).toEqual([A, 'https://b.test/x']);

    expect(await two.delete(A)).toBe(true);
    expect(await one.get(A)).toBeUndefined();
    expect(one.usage().entries).toBe(1);
  });

  it("counts other workers' files at its rescan and evicts to maxSize", async () => {
    const root = await dir();
    const small = { maxSize: 10_000, maxObjectSize: 5_000 };
    const one = await disk(root, small);
    const two = await disk(root, small);
    for (const n of ['a', 'b', 'c']) await store(one, testMeta(`https://a.test/${n}`), bytes(2_400));
    for (const n of ['d', 'e']) await store(two, testMeta(`https://a.test/${n}`), bytes(2_400));
    await collect(one.list({})); // a list rescans
    expect(one.usage().bytes).toBeLessThanOrEqual(10_000);
    expect((await filesUnder(root)).length).toBe(3);
  });

  it('keeps streaming a large body when another worker replaces the file meanwhile', async () => {
    const root = await dir();
    const one = await disk(root);
    const two = await disk(root);
    const old = bytes(300_000, 1);
    await store(one, testMeta(A), old, 65_536);
    const hit = (await one.get(A))!;
    expect(typeof hit.body).toBe('function');
    const open = hit.body as (start?: number, end?: number) => Readable;
    const whole = readStream(open());
    const range = readStream(open(1000, 1999));
    await store(two, testMeta(A), bytes(300_000, 2), 65_536);
    await two.delete(A);
    expect((await whole).equals(old)).toBe(true);
    expect((await range).equals(old.subarray(1000, 2000))).toBe(true);
    // Once its streams are done the descriptor is closed; a later call finds the file gone.
    await expect(readStream(open(0, 10))).rejects.toThrow(/ENOENT/);
  });

  it('reopens the same file for a call after the descriptor was released', async () => {
    const root = await dir();
    const s = await disk(root);
    const body = bytes(300_000, 3);
    await store(s, testMeta(A), body, 65_536);
    const hit = (await s.get(A))!;
    expect((await bodyOf(hit)).equals(body)).toBe(true);
    expect((await bodyOf(hit, 5, 9)).equals(body.subarray(5, 10))).toBe(true);
    await store(s, testMeta(A), bytes(300_000, 4), 65_536);
    await expect(bodyOf(hit, 5, 9)).rejects.toThrow(/replaced/);
  });

  it('lets a client hang up on one range stream without breaking another from the same entry', async () => {
    const root = await dir();
    const s = await disk(root);
    const body = bytes(400_000);
    await store(s, testMeta(A), body, 65_536);
    const hit = (await s.get(A))!;
    const open = hit.body as (start?: number, end?: number) => Readable;
    const dropped = open(0, 399_999);
    const whole = open();
    dropped.destroy();
    expect((await readStream(whole)).equals(body)).toBe(true);
  });

  it.each([
    ['truncated', async (file: string) => truncate(file, 100)],
    ['garbage header', async (file: string) => writeFile(file, Buffer.from('not a cache file at all, no sir'))],
    ['empty', async (file: string) => truncate(file, 0)],
    [
      'broken JSON',
      async (file: string) => {
        const fh = await open(file, 'r+');
        await fh.write(Buffer.from('{{{{'), 0, 4, 12);
        await fh.close();
      },
    ],
  ])('treats a %s file as a miss and removes it', async (_name, corrupt) => {
    const root = await dir();
    const s = await disk(root);
    await store(s, testMeta(A), bytes(5_000));
    const file = entryPath(root, hashKey(A));
    await corrupt(file);
    expect(await s.get(A)).toBeUndefined();
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    expect(s.usage()).toEqual({ bytes: 0, entries: 0 });
    expect(s.failure).toBeUndefined();
  });

  it('removes corrupted files and skips strangers at start', async () => {
    const root = await dir();
    const first = await disk(root);
    await store(first, testMeta(A), bytes(100));
    await store(first, testMeta('https://a.test/two'), bytes(100));
    await first.close();
    await truncate(entryPath(root, hashKey(A)), 20);
    const again = await disk(root);
    expect(again.usage().entries).toBe(1);
    await expect(stat(entryPath(root, hashKey(A)))).rejects.toThrow(/ENOENT/);
  });

  it('removes temp files a crashed writer left, keeps those of a live one', async () => {
    const root = await dir();
    const hash = hashKey(A);
    const fanOut = join(root, hash.slice(0, 2), hash.slice(2, 4));
    await mkdir(fanOut, { recursive: true });
    const dead = join(fanOut, tempName(hash, 2 ** 22 + 12345, 'dead0001', 1)); // no such pid
    const ownStale = join(fanOut, tempName(hash, process.pid, 'gone0001', 1)); // this pid, no live instance
    const old = join(fanOut, 'leftover.tmp');
    await writeFile(dead, 'partial');
    await writeFile(ownStale, 'partial');
    await writeFile(old, 'partial');
    const t = Date.now() / 1000 - 7200;
    await utimes(old, t, t);
    const live = await disk(root);
    const w = live.put(testMeta(A))!; // a write in flight while another instance starts
    w.write(Buffer.from('streaming'));
    await new Promise((r) => setTimeout(r, 20));
    const s = await disk(root);
    const left = await filesUnder(root);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/\.tmp$/);
    await w.end();
    expect((await bodyOf((await s.get(A))!)).toString()).toBe('streaming');
    expect(await filesUnder(root)).toEqual([entryPath(root, hash)]);
  });

  it('degrades without throwing when the directory cannot be created (a path under a regular file)', async () => {
    const root = await dir();
    const blocker = join(root, 'file');
    await writeFile(blocker, 'I am a file');
    let now = 1_000_000;
    const s = await disk(join(blocker, 'cache'), { now: () => now });
    expect(s.failure).toMatch(/^disk store .*cache: ENOTDIR/);
    expect(s.put(testMeta(A))).toBeUndefined();
    expect(await s.get(A)).toBeUndefined();
    expect(await s.update(testMeta(A))).toBe(false);
    expect(await s.delete(A)).toBe(false);
    expect(await collect(s.list({}))).toEqual([]);

    // The retry after retryMs fails too, and the entry is lost quietly.
    now += 30_000;
    const w = s.put(testMeta(A))!;
    expect(w).toBeDefined();
    expect(s.put(testMeta(A))).toBeUndefined(); // one probe per period
    w.write(Buffer.from('x'));
    await w.end();
    expect(s.failure).toMatch(/ENOTDIR/);
    expect(await s.get(A)).toBeUndefined();
  });

  it("recovers when a failed write's cause goes away, clearing failure", async () => {
    const root = await dir();
    let now = 1_000_000;
    const s = await disk(root, { now: () => now });
    const hash = hashKey(A);
    // The fan-out directory of A is a regular file: A's writes fail.
    await writeFile(join(root, hash.slice(0, 2)), 'in the way');
    const w = s.put(testMeta(A))!;
    expect(w.write(Buffer.from('lost'))).toBe(true);
    await w.end();
    expect(await s.get(A)).toBeUndefined();
    expect(s.failure).toMatch(/^disk store .*: E(NOTDIR|EXIST)/);
    expect(s.put(testMeta('https://b.test/'))).toBeUndefined();
    expect(await filesUnder(root)).toEqual([join(root, hash.slice(0, 2))]);

    now += 30_000;
    await import('node:fs/promises').then((fs) => fs.unlink(join(root, hash.slice(0, 2))));
    expect(await store(s, testMeta(A), Buffer.from('back'))).toBe(true);
    expect(s.failure).toBeUndefined();
    expect((await bodyOf((await s.get(A))!)).toString()).toBe('back');
  });

  it('writes a streamed body whose size was not declared, and whose declared size was wrong', async () => {
    const root = await dir();
    const s = await disk(root);
    await store(s, testMeta(A, { size: NaN }), bytes(12_345));
    expect((await s.get(A))?.meta.size).toBe(12_345);
    await store(s, testMeta(A, { size: 3 }), bytes(1_234_56));
    expect((await s.get(A))?.meta.size).toBe(123_456);
    const again = await disk(root);
    expect((await again.get(A))?.meta.size).toBe(123_456);
  });
});
