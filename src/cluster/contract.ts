/**
 * The contract every cluster backend keeps (STYLE habit 3: one suite, every implementation).
 * A backend's test file calls `clusterContract(name, setup)`: `setup` gives two members that share
 * state (two workers of a node, two PoPs on one Redis) and a way to close them.
 */
import { describe, expect, it } from 'vitest';
import type { Cluster, EventMessage } from './types.js';

export interface ContractSetup {
  a: Cluster;
  b: Cluster;
  /** True when locks are shared between `a` and `b` (they are a node's: not across PoPs). */
  sharedLocks: boolean;
  close(): Promise<void>;
}

const until = async (what: string, check: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

export function clusterContract(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`cluster contract: ${name}`, () => {
    const withSetup = (fn: (s: ContractSetup) => Promise<void>) => async () => {
      const s = await setup();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    };

    it(
      'nonces: a claim succeeds once, whoever claims it again',
      withSetup(async ({ a, b }) => {
        const id = `n-${Math.random()}`;
        const exp = Date.now() + 60_000;
        expect(await a.nonces.claim(id, exp)).toBe(true);
        expect(await a.nonces.claim(id, exp)).toBe(false);
        expect(await b.nonces.claim(id, exp)).toBe(false);
        expect(await b.nonces.claim(`${id}-other`, exp)).toBe(true);
      }),
    );

    it(
      'nonces: claims racing from both members: exactly one wins',
      withSetup(async ({ a, b }) => {
        const exp = Date.now() + 60_000;
        for (let i = 0; i < 20; i++) {
          const id = `race-${i}-${Math.random()}`;
          const wins = (await Promise.all([a.nonces.claim(id, exp), b.nonces.claim(id, exp), a.nonces.claim(id, exp)])).filter(Boolean);
          expect(wins).toHaveLength(1);
        }
      }),
    );

    it(
      "events: every subscriber in every member gets a message, the publisher's own included, in publish order",
      withSetup(async ({ a, b }) => {
        const topic = `t-${Math.random()}`;
        const got: Record<'a' | 'b', EventMessage<number>[]> = { a: [], b: [] };
        a.events.subscribe<number>(topic, (m) => got.a.push(m));
        b.events.subscribe<number>(topic, (m) => got.b.push(m));
        b.events.subscribe<number>(`${topic}-other`, () => {
          throw new Error('wrong topic delivered');
        });
        for (let i = 0; i < 50; i++) a.events.publish(topic, i);
        await until('50 messages in both members', () => got.a.length === 50 && got.b.length === 50);
        expect(got.a.map((m) => m.data)).toEqual([...Array(50).keys()]);
        expect(got.b.map((m) => m.data)).toEqual([...Array(50).keys()]);
        expect(got.b[0]).toMatchObject({ topic, from: a.events.member });
      }),
    );

    it(
      "events: node topics reach the node's members; unsubscribing stops delivery",
      withSetup(async ({ a, b }) => {
        const topic = `node:t-${Math.random()}`;
        const got: unknown[] = [];
        const off = b.events.subscribe(topic, (m) => got.push(m.data));
        a.events.publish(topic, { key: 'k1' });
        await until('the node message', () => got.length === 1);
        expect(got).toEqual([{ key: 'k1' }]);
        off();
        a.events.publish(topic, { key: 'k2' });
        const marker: unknown[] = [];
        b.events.subscribe(topic, (m) => marker.push(m.data));
        a.events.publish(topic, { key: 'k3' });
        await until('the marker', () => marker.length >= 1);
        expect(got).toEqual([{ key: 'k1' }]);
      }),
    );

    it(
      'events: publishAndWait on a node topic resolves once every member of the node has delivered it',
      withSetup(async ({ a, b, sharedLocks }) => {
        const topic = `node:ack-${Math.random()}`;
        const got: Record<'a' | 'b', unknown[]> = { a: [], b: [] };
        a.events.subscribe(topic, (m) => got.a.push(m.data));
        b.events.subscribe(topic, (m) => got.b.push(m.data));
        for (let i = 0; i < 5; i++) {
          await b.events.publishAndWait(topic, i, 1000);
          // Already delivered when it resolves: no wait here. Across PoPs a node topic stays home.
          expect(got.b).toHaveLength(i + 1);
          if (sharedLocks) expect(got.a).toHaveLength(i + 1);
        }
        expect(got.b).toEqual([0, 1, 2, 3, 4]);
      }),
    );

    it(
      'documents: each put is the next version; both members read the latest',
      withSetup(async ({ a, b }) => {
        const doc = `d-${Math.random()}`;
        expect(await b.documents.get(doc)).toBeUndefined();
        const v1 = await a.documents.put(doc, { pools: 1 });
        const v2 = await b.documents.put(doc, { pools: 2 });
        expect(v2.version).toBe(v1.version + 1);
        expect(await a.documents.get(doc)).toMatchObject({ version: v2.version, value: { pools: 2 } });
      }),
    );

    it(
      'locks: one leads, the other waits and hears the outcome; a wait ends at its timeout',
      withSetup(async ({ a, b, sharedLocks }) => {
        const key = `k-${Math.random()}`;
        expect(await a.locks.acquire(key, 2000)).toBe('lead');
        const waiting = b.locks.acquire(key, 2000);
        if (!sharedLocks) {
          // Locks are a node's: another PoP leads its own fill.
          expect(await waiting).toBe('lead');
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
        a.locks.release(key, 'stored');
        expect(await waiting).toBe('stored');
        expect(await b.locks.acquire(key, 2000)).toBe('lead');
        expect(await a.locks.acquire(key, 100)).toBe('timeout');
        b.locks.release(key, 'uncacheable');
        await new Promise((r) => setTimeout(r, 20)); // the release travels on b's channel, the acquire on a's
        expect(await a.locks.acquire(key, 1000)).toBe('lead');
        a.locks.release(key, 'failed');
      }),
    );

    it(
      'health: says which backend and that it is connected',
      withSetup(async ({ a }) => {
        const h = a.health();
        expect(['memory', 'ipc', 'redis']).toContain(h.backend);
        expect(h.connected).toBe(true);
      }),
    );
  });
}
