import { describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store.js';
import { collect, store, testMeta } from './test-support.js';

const A = 'https://a.test/one';

describe('MemoryStore', () => {
  it('answers a hit with the stored object and the same promise, nothing new allocated', async () => {
    const s = new MemoryStore({ maxSize: 100_000, maxObjectSize: 10_000 });
    await store(s, testMeta(A), Buffer.from('body'));
    await store(s, testMeta('https://a.test/two'), Buffer.from('two'));
    const first = s.get(A);
    const second = s.get(A);
    expect(second).toBe(first);
    expect(await first).toBe(await s.get(A));
    expect(s.get('https://a.test/none')).toBe(s.get('https://a.test/other'));
  });

  it('counts the metadata against maxSize', async () => {
    const s = new MemoryStore({ maxSize: 100_000, maxObjectSize: 10_000 });
    await store(s, testMeta(A), Buffer.alloc(0));
    expect(s.usage().bytes).toBeGreaterThan(256);
  });

  it('keeps the LRU position on update (a 304 merge is not a read) and re-indexes tags', async () => {
    const s = new MemoryStore({ maxSize: 100_000, maxObjectSize: 10_000 });
    await store(s, testMeta(A, { tags: ['old'] }), Buffer.from('a'));
    await store(s, testMeta('https://a.test/b'), Buffer.from('b'));
    const meta = (await s.get(A))!.meta;
    expect(await s.update({ ...meta, tags: ['new'] })).toBe(true);
    expect(await collect(s.list({ tag: 'old' }))).toEqual([]);
    expect((await collect(s.list({ tag: 'new' }))).map((m) => m.key)).toEqual([A]);
    expect((await collect(s.list({}))).map((m) => m.key)).toEqual(['https://a.test/b', A]);
  });

  it('does not keep an entry larger than the whole store', async () => {
    const s = new MemoryStore({ maxSize: 1_000, maxObjectSize: 5_000 });
    expect(s.maxObjectSize).toBe(1_000);
    expect(await store(s, testMeta(A), Buffer.alloc(999))).toBe(true);
    expect(await s.get(A)).toBeUndefined();
    expect(s.usage()).toEqual({ bytes: 0, entries: 0 });
  });
});
