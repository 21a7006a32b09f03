import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { BusFrame, Channel } from './bus.js';
import { clusterContract } from './contract.js';
import { ClusterHub, WorkerCluster } from './ipc.js';
import { MemoryCluster } from './memory.js';

/** Both ends of a real message channel (structured clone between them, as IPC serialises). */
function channelPair(): { worker: Channel; supervisor: Channel; close(): void } {
  const { port1, port2 } = new MessageChannel();
  const end = (port: typeof port1): Channel => ({
    send: (f: BusFrame) => port.postMessage(f),
    onFrame: (h) => port.on('message', h),
  });
  return {
    worker: end(port1),
    supervisor: end(port2),
    close: () => {
      port1.close();
      port2.close();
    },
  };
}

/** A supervisor serving from a memory state, and `n` workers attached to it. */
function ipcNode(n: number) {
  const hub = new ClusterHub(new MemoryCluster('supervisor'));
  const pairs = Array.from({ length: n }, () => channelPair());
  const workers = pairs.map((p, i) => {
    hub.attach(`w${i + 1}`, p.supervisor);
    return new WorkerCluster(p.worker, `w${i + 1}`);
  });
  return {
    hub,
    workers,
    pairs,
    close: async () => {
      for (const p of pairs) p.close();
      await hub.close();
    },
  };
}

clusterContract('memory', async () => {
  const state = new MemoryCluster();
  return { a: state.as('one'), b: state.as('two'), sharedLocks: true, close: () => state.close() };
});

clusterContract('ipc (two workers of a node)', async () => {
  const node = ipcNode(2);
  return { a: node.workers[0], b: node.workers[1], sharedLocks: true, close: node.close };
});

clusterContract('ipc (a worker and its supervisor)', async () => {
  const node = ipcNode(1);
  return { a: node.workers[0], b: node.hub.view, sharedLocks: true, close: node.close };
});

describe('ipc backend: failures', () => {
  it('a worker that leaves releases its locks as failed: its waiters go on', async () => {
    const node = ipcNode(2);
    try {
      expect(await node.workers[0].locks.acquire('k', 5000)).toBe('lead');
      const waiting = node.workers[1].locks.acquire('k', 5000);
      await new Promise((r) => setTimeout(r, 20));
      node.hub.detach('w1');
      expect(await waiting).toBe('failed');
    } finally {
      await node.close();
    }
  });

  it('no supervisor: a nonce claim is allowed, a lock led alone, events reach the worker itself; all counted', async () => {
    const { port1 } = new MessageChannel();
    port1.close();
    const gone: Channel = { send: () => false, onFrame: () => {} };
    const w = new WorkerCluster(gone, 'w1');
    expect(await w.nonces.claim('n', Date.now() + 1000)).toBe(true);
    expect(await w.locks.acquire('k', 1000)).toBe('lead');
    const got: unknown[] = [];
    w.events.subscribe('topic', (m) => got.push(m.data));
    w.events.publish('topic', 1);
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([1]);
    expect(w.health()).toMatchObject({ backend: 'ipc', connected: false, fallbacks: 2 });
  });

  it('publishAndWait: a worker that never acknowledges delays the answer to the deadline, one that leaves is not waited for', async () => {
    const node = ipcNode(2);
    const mute: Channel = { send: () => true, onFrame: () => {} };
    node.hub.attach('w3', mute); // takes the frames, never answers
    try {
      let t = Date.now();
      await node.workers[0].events.publishAndWait('node:x', 1, 150);
      expect(Date.now() - t).toBeGreaterThanOrEqual(140);
      const slow = node.workers[0].events.publishAndWait('node:x', 2, 5000);
      t = Date.now();
      setTimeout(() => node.hub.detach('w3'), 30);
      await slow;
      expect(Date.now() - t).toBeLessThan(2000);
    } finally {
      await node.close();
    }
  });

  it('publishAndWait with no supervisor: delivered to the worker itself, counted as a fallback', async () => {
    const gone: Channel = { send: () => false, onFrame: () => {} };
    const w = new WorkerCluster(gone, 'w1');
    const got: unknown[] = [];
    w.events.subscribe('node:x', (m) => got.push(m.data));
    await w.events.publishAndWait('node:x', 7, 100);
    expect(got).toEqual([7]);
    expect(w.health().fallbacks).toBe(1);
  });

  it('a supervisor that does not answer in time: the call ends at its deadline', async () => {
    const silent: Channel = { send: () => true, onFrame: () => {} };
    const w = new WorkerCluster(silent, 'w1');
    expect(await w.locks.acquire('k', 50)).toBe('timeout');
    expect(w.health().fallbacks).toBe(1);
  });
});
