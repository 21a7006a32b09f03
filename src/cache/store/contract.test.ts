/**
 * The CacheStore contract (STYLE habit 3): one suite, run against every store.
 * Sizes are chosen so the metadata (estimated in memory, JSON on disk) stays well under the
 * bodies, whatever the store counts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheStore } from '../types.js';
import { DiskStore } from './disk-store.js';
import { MemoryStore } from './memory-store.js';
import { bodyOf, bytes, collect, store, tempDir, testMeta } from './test-support.js';
import { TieredStore } from './tiered-store.js';

interface Limits {
  maxSize: number;
  maxObjectSize: number;
}

const DEFAULT_LIMITS: Limits = { maxSize: 4_000_000, maxObjectSize: 1_000_000 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function onDisk(limits: Limits): Promise<DiskStore> {
  const dir = await tempDir();
  const s = new DiskStore({ path: dir.path, ...limits });
  await s.ready;
  cleanups.push(async () => {
    await s.close();
    await dir.remove();
  });
  return s;
}

const stores: [string, (limits: Limits) => Promise<CacheStore>][] = [
  ['MemoryStore', async (limits) => new MemoryStore(limits)],
  ['DiskStore', onDisk],
  ['TieredStore', async (limits) => new TieredStore(new MemoryStore(limits), await onDisk(limits))],
];

const A = 'https://a.test/one';

describe.each(stores)('%s contract', (_name, make) => {
  const open = (limits: Partial<Limits> = {}) => make({ ...DEFAULT_LIMITS, ...limits });

  it('stores a body streamed in several chunks and gives it back with its metadata', async () => {
    const s = await open();
    const body = bytes(10_000);
    expect(await store(s, testMeta(A, { tags: ['t1'] }), body, 777)).toBe(true);
    const hit = await s.get(A);
    expect(hit?.meta.key).toBe(A);
    expect(hit?.meta.size).toBe(10_000);
    expect(hit?.meta.tags).toEqual(['t1']);
    expect(hit?.meta.headers.etag).toBe('"x"');
    expect((await bodyOf(hit!)).equals(body)).toBe(true);
    expect(s.usage().entries).toBe(1);
    expect(s.usage().bytes).toBeGreaterThanOrEqual(10_000);
  });

  it('stores an empty body and binary bytes unchanged', async () => {
    const s = await open();
    expect(await store(s, testMeta(A, { size: 0, status: 204 }), Buffer.alloc(0))).toBe(true);
    const empty = await s.get(A);
    expect(empty?.meta.status).toBe(204);
    expect((await bodyOf(empty!)).length).toBe(0);
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await store(s, testMeta('https://a.test/bin'), binary, 3);
    expect((await bodyOf((await s.get('https://a.test/bin'))!)).equals(binary)).toBe(true);
  });

  it('shows nothing before end(), and nothing after abort()', async () => {
    const s = await open();
    const w = s.put(testMeta(A))!;
    w.write(Buffer.from('half'));
    expect(await s.get(A)).toBeUndefined();
    await w.end();
    expect((await bodyOf((await s.get(A))!)).toString()).toBe('half');

    const b = 'https://a.test/aborted';
    const w2 = s.put(testMeta(b))!;
    w2.write(Buffer.from('lost'));
    w2.abort();
    expect(w2.write(Buffer.from('more'))).toBe(false);
    await w2.end();
    expect(await s.get(b)).toBeUndefined();
    expect(s.usage().entries).toBe(1);
  });

  it('replaces an entry at end(), the old one served until then', async () => {
    const s = await open();
    await store(s, testMeta(A), Buffer.from('old'));
    const w = s.put(testMeta(A, { status: 203 }))!;
    w.write(Buffer.from('new body'));
    expect((await bodyOf((await s.get(A))!)).toString()).toBe('old');
    await w.end();
    const hit = await s.get(A);
    expect(hit?.meta.status).toBe(203);
    expect((await bodyOf(hit!)).toString()).toBe('new body');
    expect(s.usage().entries).toBe(1);
  });

  it('updates metadata and keeps the body; false when absent', async () => {
    const s = await open();
    await store(s, testMeta(A), Buffer.from('body'));
    const meta = (await s.get(A))!.meta;
    expect(await s.update({ ...meta, invalidated: true, headers: { etag: '"y"' } })).toBe(true);
    const hit = await s.get(A);
    expect(hit?.meta.invalidated).toBe(true);
    expect(hit?.meta.headers).toEqual({ etag: '"y"' });
    expect((await bodyOf(hit!)).toString()).toBe('body');
    expect(await s.update(testMeta('https://a.test/none'))).toBe(false);
  });

  it('deletes', async () => {
    const s = await open();
    await store(s, testMeta(A), Buffer.from('x'));
    expect(await s.delete(A)).toBe(true);
    expect(await s.get(A)).toBeUndefined();
    expect(await s.delete(A)).toBe(false);
    expect(s.usage()).toEqual({ bytes: 0, entries: 0 });
  });

  it('lists by prefix, tag, host and all of them combined', async () => {
    const s = await open();
    await store(s, testMeta('https://a.test/img/1', { tags: ['img', 'red'] }), Buffer.from('1'));
    await store(s, testMeta('https://a.test/img/2', { tags: ['img'] }), Buffer.from('2'));
    await store(s, testMeta('https://a.test/css/1', { tags: ['red'] }), Buffer.from('3'));
    await store(s, testMeta('https://b.test/img/1', { tags: ['img', 'red'] }), Buffer.from('4'));
    const keys = async (filter: object) => (await collect(s.list(filter))).map((m) => m.key).sort();
    expect(await keys({})).toHaveLength(4);
    expect(await keys({ prefix: 'https://a.test/img/' })).toEqual(['https://a.test/img/1', 'https://a.test/img/2']);
    expect(await keys({ tag: 'red' })).toEqual(['https://a.test/css/1', 'https://a.test/img/1', 'https://b.test/img/1']);
    expect(await keys({ host: 'b.test' })).toEqual(['https://b.test/img/1']);
    expect(await keys({ host: 'a.test', tag: 'img', prefix: 'https://a.test/img/1' })).toEqual(['https://a.test/img/1']);
    expect(await keys({ tag: 'none' })).toEqual([]);
    // A purge deletes while it lists.
    for await (const meta of s.list({ tag: 'img' })) await s.delete(meta.key);
    expect(await keys({})).toEqual(['https://a.test/css/1']);
  });

  it('evicts the least recently used entries when over maxSize', async () => {
    const s = await open({ maxSize: 10_000, maxObjectSize: 5_000 });
    const url = (n: string) => `https://a.test/${n}`;
    for (const n of ['a', 'b', 'c']) await store(s, testMeta(url(n)), bytes(2_400));
    expect(await s.get(url('a'))).toBeDefined(); // a is now the most recently used
    await store(s, testMeta(url('d')), bytes(2_400));
    expect(await s.get(url('b'))).toBeUndefined();
    for (const n of ['a', 'c', 'd']) expect(await s.get(url(n)), n).toBeDefined();
    expect(s.usage().bytes).toBeLessThanOrEqual(10_000);
    expect(s.usage().entries).toBe(3);
  });

  it('refuses an object over maxObjectSize, declared or streamed', async () => {
    const s = await open({ maxSize: 100_000, maxObjectSize: 5_000 });
    expect(s.put(testMeta(A, { size: 5_001 }))).toBeUndefined();
    expect(s.put(testMeta(A, { size: 5_000 }))).toBeDefined();
    const w = s.put(testMeta(A))!;
    expect(w.write(bytes(3_000))).toBe(true);
    expect(w.write(bytes(3_000))).toBe(false);
    await w.end();
    expect(await s.get(A)).toBeUndefined();
    expect(await store(s, testMeta(A), bytes(5_000))).toBe(true);
    expect(await s.get(A)).toBeDefined();
  });

  it('gives ranges of a body, small or large', async () => {
    const s = await open();
    for (const size of [1_000, 300_000]) {
      const key = `https://a.test/${size}`;
      const body = bytes(size, size);
      await store(s, testMeta(key), body, 16_384);
      const hit = (await s.get(key))!;
      expect((await bodyOf(hit)).equals(body)).toBe(true);
      expect((await bodyOf(hit, 10, 19)).equals(body.subarray(10, 20))).toBe(true);
      expect((await bodyOf(hit, size - 5, size - 1)).equals(body.subarray(size - 5))).toBe(true);
      expect((await bodyOf(hit, 0, 0)).equals(body.subarray(0, 1))).toBe(true);
    }
  });
});
