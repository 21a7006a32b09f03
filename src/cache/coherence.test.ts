import { afterEach, describe, expect, it } from 'vitest';
import { MemoryCluster } from '../cluster/memory.js';
import { joinCoherence } from './coherence.js';
import { DiskStore } from './store/disk-store.js';
import { MemoryStore } from './store/memory-store.js';
import { store, tempDir, testMeta } from './store/test-support.js';
import { TieredStore } from './store/tiered-store.js';

const A = 'https://a.test/one';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Two workers' stores over one directory, joined on one node's events. */
async function twoWorkers() {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  const node = new MemoryCluster('node');
  const make = (member: string) => {
    const s = new TieredStore(new MemoryStore({ maxSize: 100_000, maxObjectSize: 10_000 }), new DiskStore({ path: dir.path, maxSize: 1_000_000 }));
    cleanups.push(() => s.close());
    cleanups.push(joinCoherence(s, node.as(member).events));
    return s;
  };
  return [make('w1'), make('w2')] as const;
}

const settle = () => new Promise((r) => setTimeout(r, 10));
const text = async (s: TieredStore, key: string) => (await s.get(key))?.body.toString();

describe('joinCoherence', () => {
  it("a store, an update and a delete in one worker drop the other's memory copy; its own stays", async () => {
    const [w1, w2] = await twoWorkers();
    await store(w1, testMeta(A), Buffer.from('v1'));
    expect(await text(w2, A)).toBe('v1'); // from disk, now in w2's memory too
    expect(w2.memory.peek(A)).toBeDefined();

    await store(w1, testMeta(A), Buffer.from('v2'));
    await settle();
    expect(w2.memory.peek(A)).toBeUndefined(); // dropped: the next lookup reads the disk
    expect(w1.memory.peek(A)?.body.toString()).toBe('v2'); // its own message is skipped
    expect(await text(w2, A)).toBe('v2');

    await w1.update({ ...testMeta(A), invalidated: true });
    await settle();
    expect(w2.memory.peek(A)).toBeUndefined();
    expect((await w2.get(A))?.meta.invalidated).toBe(true);

    w1.deleteNow(A);
    await settle();
    expect(w2.memory.peek(A)).toBeUndefined();
    expect(await w2.get(A)).toBeUndefined();
  });

  it('dropEverywhere drops the copies in both workers at once here, in the other when the message comes', async () => {
    const [w1, w2] = await twoWorkers();
    await store(w1, testMeta(A), Buffer.from('v1'));
    await text(w2, A);
    w1.dropEverywhere([A]);
    expect(w1.memory.peek(A)).toBeUndefined();
    await settle();
    expect(w2.memory.peek(A)).toBeUndefined();
    expect(await text(w2, A)).toBe('v1'); // still on disk: only memory copies were dropped
  });
});
