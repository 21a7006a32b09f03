import { afterEach, describe, expect, it } from 'vitest';
import { DiskStore } from './disk-store.js';
import { createStore } from './index.js';
import { MemoryStore } from './memory-store.js';
import { bodyOf, bytes, store, tempDir, testMeta } from './test-support.js';
import { TieredStore } from './tiered-store.js';

const A = 'https://a.test/one';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tiered(memory = { maxSize: 100_000, maxObjectSize: 10_000 }) {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  const disk = new DiskStore({ path: dir.path, maxSize: 10_000_000, maxObjectSize: 1_000_000 });
  const mem = new MemoryStore(memory);
  const s = new TieredStore(mem, disk);
  cleanups.push(() => s.close());
  await disk.ready;
  return { s, mem, disk, path: dir.path };
}

describe('TieredStore', () => {
  it('keeps a body too large for memory on disk only', async () => {
    const { s, mem, disk } = await tiered();
    const body = bytes(50_000);
    expect(await store(s, testMeta(A), body)).toBe(true);
    expect(await mem.get(A)).toBeUndefined();
    expect((await bodyOf((await disk.get(A))!)).equals(body)).toBe(true);
    expect(s.put(testMeta(A, { size: 2_000_000 }))).toBeUndefined();
  });

  it('promotes a small disk hit into memory', async () => {
    const { s, mem, disk } = await tiered();
    await store(disk, testMeta(A), Buffer.from('from disk'));
    expect(await mem.get(A)).toBeUndefined();
    expect((await bodyOf((await s.get(A))!)).toString()).toBe('from disk');
    expect((await mem.get(A))?.body.toString()).toBe('from disk');
    // From then on a hit is memory's stored promise.
    expect(s.get(A)).toBe(s.get(A));
    expect(await s.get(A)).toBe(await mem.get(A));
  });

  it("serves memory when the disk fails, and reports the disk's failure", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${dir.path}/file`, 'x');
    const s = createStore({ memory: { maxSize: 100_000, maxObjectSize: 10_000 }, disk: { path: `${dir.path}/file/cache`, maxSize: 1_000_000 } });
    cleanups.push(() => s.close());
    expect(s.name).toBe('tiered');
    expect(s.failure).toMatch(/ENOTDIR/);
    expect(await store(s, testMeta(A), Buffer.from('memory only'))).toBe(true);
    expect((await bodyOf((await s.get(A))!)).toString()).toBe('memory only');
  });

  it('builds memory only without a disk', async () => {
    const s = createStore({ memory: { maxSize: 1_000, maxObjectSize: 100 } });
    expect(s).toBeInstanceOf(MemoryStore);
  });
});

describe('TieredStore: misses the disk tier does not know', () => {
  it('answers a miss without reading the disk, unless another worker announced the key or the disk knows it', async () => {
    const { s, disk, path } = await tiered();
    // Another worker (a second store on the same directory) writes the entry.
    const other = new DiskStore({ path, maxSize: 10_000_000, maxObjectSize: 1_000_000 });
    cleanups.push(() => other.close());
    await other.ready;
    expect(await store(other, testMeta(A), bytes(100))).toBe(true);
    let reads = 0;
    const get = disk.get.bind(disk);
    disk.get = (key: string) => {
      reads++;
      return get(key);
    };
    // Unknown here: a miss, and no file was opened for it.
    expect(await s.get(A)).toBeUndefined();
    expect(reads).toBe(0);
    // The shared read (what a miss that won the node's lock does) finds it, and from then on
    // this worker knows the key.
    expect((await s.getShared(A))?.meta.key).toBe(A);
    expect(reads).toBe(1);
    // A key another worker announced is looked for on disk.
    const B = 'https://a.test/two';
    expect(await store(other, testMeta(B), bytes(100))).toBe(true);
    s.dropMemory(B);
    expect((await s.get(B))?.meta.key).toBe(B);
  });

  it('keeps a disk hit whose body the memory tier takes in memory (no file read on the next hit)', async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const s = createStore({ memory: { maxSize: 1_000_000, maxObjectSize: 200_000 }, disk: { path: dir.path, maxSize: 10_000_000 } }) as TieredStore;
    cleanups.push(() => s.close());
    await (s.disk as DiskStore).ready;
    expect(await store(s.disk, testMeta(A), bytes(100_000))).toBe(true);
    s.dropMemory(A);
    const first = await s.get(A);
    expect(Buffer.isBuffer(first?.body)).toBe(true);
    expect(s.memory.peek(A)).toBeDefined();
  });
});
