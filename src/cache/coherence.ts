/**
 * Coherence of the workers' memory tiers over the node's shared tier (shared/DESIGN.md: "what
 * one worker stores, refreshes, invalidates or purges, every worker sees").
 *
 * Every change a worker makes on the shared tier (a stored response, a 304 merge or background
 * refresh, an invalidation by an unsafe method, a purge) is published on the node topic
 * `node:cache` with the keys it touched, once the change is on disk. Every other worker drops its
 * memory copies of those keys, so its next lookup reads the disk. Nothing is asked on a hit: a
 * hit in memory stays a Map lookup; the cost is one message per change, batched per turn.
 *
 * An invalidation by an unsafe method (RFC 9111 §4.4 is a MUST) is acknowledged: its response
 * waits until every worker has dropped its copy (one bus round trip, 250 ms at most), so a client
 * that asks again at once, on any connection, cannot get the old response.
 *
 * What this does not promise for stores and refreshes: a worker serves its memory copy until the
 * message arrives (the supervisor relays it, well under a millisecond on an idle node). The cache
 * phase closes the window that matters most to a client that asks again at once: a miss takes
 * the node's lock for its key, which the worker filling it holds until its commit, then looks
 * again (cache-phase.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Events } from '../cluster/types.js';
import type { TieredStore } from './store/tiered-store.js';

export const CACHE_TOPIC = 'node:cache';

/** What goes on the topic. */
export interface CacheChanges {
  /** Store keys whose entry changed: primary keys (a URL, with its Vary marker) and variant keys. */
  keys: string[];
  /** The publishing cache (its own messages come back to it: they are skipped). */
  by: string;
}

/** How long an invalidation's response waits at most for the other workers' acknowledgements. */
const ACK_MS = 250;

/** Keys per message: a purge of everything is sent in slices, not as one huge frame. */
const SLICE = 1000;

/** Joins `store` to the node: publishes its changes, drops what others changed. Returns the leave function. */
export function joinCoherence(store: TieredStore, events: Events): () => void {
  // Our own id, not the bus member's: how the hub names a worker is the hub's business.
  const by = randomUUID();
  let pending: string[] | undefined;
  const flush = () => {
    const keys = pending;
    if (keys === undefined) return; // already sent at once
    pending = undefined;
    for (let i = 0; i < keys.length; i += SLICE) events.publish<CacheChanges>(CACHE_TOPIC, { keys: keys.slice(i, i + SLICE), by });
  };
  store.onChange = (keys, now) => {
    // An invalidation: every worker acknowledges before the response that caused it leaves.
    // What was batched goes first (the bus keeps order).
    if (now) {
      flush();
      return events.publishAndWait<CacheChanges>(CACHE_TOPIC, { keys, by }, ACK_MS);
    }
    if (pending === undefined) {
      pending = [];
      queueMicrotask(flush);
    }
    for (const k of keys) pending.push(k);
  };
  const unsubscribe = events.subscribe<CacheChanges>(CACHE_TOPIC, (m) => {
    if (m.data?.by === by) return; // our own change: our memory already has it
    const keys = m.data?.keys;
    if (!Array.isArray(keys)) return;
    for (const key of keys) if (typeof key === 'string') store.dropMemory(key);
  });
  return () => {
    store.onChange = undefined;
    unsubscribe();
  };
}
