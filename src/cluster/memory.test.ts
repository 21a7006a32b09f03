import { describe, expect, it } from 'vitest';
import { MemoryLocks } from './memory.js';

describe('MemoryLocks', () => {
  it('lets exactly one of many concurrent holders lead a key; the rest hear its outcome', async () => {
    const locks = new MemoryLocks();
    const results = ['w1', 'w2', 'w3', 'w4'].map((w) => locks.acquireAs(w, 'k', 1000));
    await new Promise((r) => setTimeout(r, 5));
    locks.releaseAs('w1', 'k', 'stored');
    const all = await Promise.all(results);
    expect(all).toEqual(['lead', 'stored', 'stored', 'stored']);
  });

  it('a release by someone who does not hold the key changes nothing', async () => {
    const locks = new MemoryLocks();
    await locks.acquireAs('w1', 'k', 1000);
    const waiting = locks.acquireAs('w2', 'k', 100);
    locks.releaseAs('w2', 'k', 'stored');
    expect(await waiting).toBe('timeout');
    expect(locks.size).toBe(1);
  });

  it('lets a new leader take over a lock held past maxHoldMs (a stuck fill)', async () => {
    let now = 1_000;
    const locks = new MemoryLocks('local', 60_000, () => now);
    expect(await locks.acquireAs('w1', 'k', 1000)).toBe('lead');
    now += 60_001;
    expect(await locks.acquireAs('w2', 'k', 1000)).toBe('lead');
    // The old holder's late release no longer ends the new lead.
    locks.releaseAs('w1', 'k', 'failed');
    expect(locks.size).toBe(1);
  });

  it('releaseAll ends every key of a holder as failed', async () => {
    const locks = new MemoryLocks();
    await locks.acquireAs('w1', 'a', 1000);
    await locks.acquireAs('w1', 'b', 1000);
    const waits = [locks.acquireAs('w2', 'a', 1000), locks.acquireAs('w3', 'b', 1000)];
    locks.releaseAll('w1');
    expect(await Promise.all(waits)).toEqual(['failed', 'failed']);
    expect(locks.size).toBe(0);
  });
});
