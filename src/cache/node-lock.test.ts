import { describe, expect, it } from 'vitest';
import { NodeLock, NodeLockTable, type NodeLockMessage, type NodeLockReply } from './node-lock.js';

/** A supervisor table and workers wired by (asynchronous) message passing, as IPC is. */
function node(workers: number, maxHoldMs = 60_000, now = () => Date.now()) {
  const locks: NodeLock[] = [];
  const table = new NodeLockTable((id, m: NodeLockReply) => setImmediate(() => locks[id].onMessage(m)), maxHoldMs, now);
  for (let i = 0; i < workers; i++) locks.push(new NodeLock((m: NodeLockMessage) => setImmediate(() => table.handle(i, m))));
  return { table, locks };
}

describe('NodeLock', () => {
  it('lets exactly one of many concurrent workers lead a key', async () => {
    const { locks } = node(4);
    const results = locks.map((l) => l.acquire('k', 1000));
    const first = await Promise.race(results.map((p, i) => p.then((r) => (r === 'lead' ? i : -1))));
    expect(first).toBeGreaterThanOrEqual(0);
    locks[first].release('k', 'stored');
    const all = await Promise.all(results);
    expect(all.filter((r) => r === 'lead')).toHaveLength(1);
    expect(all.filter((r) => r === 'stored')).toHaveLength(3);
  });

  it('resolves waiters with the leader\'s outcome', async () => {
    const { locks, table } = node(2);
    expect(await locks[0].acquire('k', 1000)).toBe('lead');
    const waiting = locks[1].acquire('k', 1000);
    await new Promise((r) => setTimeout(r, 5));
    locks[0].release('k', 'stored');
    expect(await waiting).toBe('stored');
    expect(table.size).toBe(0);
    expect(await locks[1].acquire('k', 1000)).toBe('lead');
  });

  it('times a waiter out when the leader takes too long', async () => {
    const { locks } = node(2);
    expect(await locks[0].acquire('slow', 1000)).toBe('lead');
    expect(await locks[1].acquire('slow', 30)).toBe('timeout');
  });

  it('releases the keys of a worker that died as failed', async () => {
    const { locks, table } = node(2);
    expect(await locks[0].acquire('k', 1000)).toBe('lead');
    const waiting = locks[1].acquire('k', 1000);
    await new Promise((r) => setTimeout(r, 5));
    table.workerGone(0);
    expect(await waiting).toBe('failed');
  });

  it('lets a new leader take over a lock held too long', async () => {
    let t = 0;
    const { locks } = node(2, 100, () => t);
    expect(await locks[0].acquire('k', 1000)).toBe('lead');
    t = 500;
    expect(await locks[1].acquire('k', 1000)).toBe('lead');
  });

  it('leads alone when there is no supervisor to ask', async () => {
    const lock = new NodeLock(() => { throw new Error('no channel'); });
    expect(await lock.acquire('k', 1000)).toBe('lead');
  });
});
