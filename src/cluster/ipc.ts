/**
 * The IPC backend: a worker's view of the node's shared state, every call carried over the bus
 * (bus.ts) to the supervisor, which answers from its own state (memory, or Redis across PoPs).
 *
 * Topics named `node:…` stay inside the node (cache coherence between workers: a PoP's cache is
 * its own); every other topic also goes to the supervisor's state, so with Redis it reaches every
 * PoP, and what other PoPs publish comes back down to every worker.
 *
 * Locks are always the node's (one cache fill per key per PoP): the hub keeps them in memory, by
 * holder, and a worker that exits has its keys released as failed.
 *
 * Fallbacks when the supervisor does not answer (it is gone, or slower than the deadline): a
 * nonce claim is allowed (the worker's own guard refused the replays it saw), a lock is led alone
 * (no supervisor: nobody else waits), events reach this worker's own subscribers only.
 */
import type { LeadOutcome, WaitOutcome } from '../cache/coalesce.js';
import { BusTimeout, Hub, Spoke, type Channel } from './bus.js';
import { MemoryEvents, MemoryLocks } from './memory.js';
import type { Cluster, ClusterHealth, Documents, EventMessage, Events, Locks, Nonces, VersionedDocument } from './types.js';

/** Node-scoped topics never leave the node. */
export const isNodeTopic = (topic: string): boolean => topic.startsWith('node:');

const CALL_MS = 1_000;

/** A worker's cluster: every call goes to the supervisor over `channel`. */
export class WorkerCluster implements Cluster {
  readonly spoke: Spoke;
  readonly nonces: Nonces;
  readonly locks: Locks;
  readonly events: Events;
  readonly documents: Documents;
  private fallbacks = 0;
  private lastError: string | undefined;

  constructor(
    channel: Channel,
    readonly member: string,
  ) {
    const spoke = (this.spoke = new Spoke(channel, member));
    const failed = (err: unknown) => {
      this.fallbacks++;
      this.lastError = (err as Error).message;
    };
    const ok = <T>(v: T): T => {
      this.lastError = undefined;
      return v;
    };
    this.nonces = {
      claim: (id, expiresAt) =>
        spoke.call<boolean>('nonces.claim', { id, expiresAt }, CALL_MS).then(ok, (err) => {
          failed(err);
          return true;
        }),
    };
    this.locks = {
      acquire: (key, timeoutMs) =>
        spoke.call<'lead' | WaitOutcome>('locks.acquire', { key, timeoutMs }, timeoutMs + CALL_MS).then(ok, (err) => {
          failed(err);
          return err instanceof BusTimeout ? 'timeout' : 'lead';
        }),
      release: (key, outcome) => {
        spoke.call('locks.release', { key, outcome }, CALL_MS).catch(failed);
      },
    };
    const local = new MemoryEvents(member);
    spoke.onPublish((topic, data, from) => local.deliver({ topic, data, from }));
    this.events = {
      member,
      publish: (topic, data, _from) => {
        // No supervisor: the message still reaches this worker's own subscribers.
        if (!spoke.publish(topic, data)) local.publish(topic, data);
      },
      publishAndWait: (topic, data, deadlineMs) =>
        spoke.call<void>('events.wait', { topic, data, deadlineMs }, deadlineMs + CALL_MS).then(ok, (err) => {
          failed(err);
          local.deliver({ topic, data, from: member });
        }),
      subscribe: (topic, handler) => local.subscribe(topic, handler),
    };
    this.documents = {
      get: <T>(name: string) => spoke.call<VersionedDocument<T> | undefined>('documents.get', { name }, CALL_MS),
      put: <T>(name: string, value: T) => spoke.call<VersionedDocument<T>>('documents.put', { name, value }, CALL_MS),
    };
  }

  health(): ClusterHealth {
    return { backend: 'ipc', connected: this.lastError === undefined, error: this.lastError, fallbacks: this.fallbacks };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The supervisor's side: serves its workers from `state`, and gives the supervisor's own code a
 * view (`view`) that shares the same events, nonces and documents.
 */
export class ClusterHub {
  readonly hub = new Hub();
  readonly view: Cluster;
  readonly locks: MemoryLocks;
  private readonly local: MemoryEvents;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly state: Cluster,
    member = 'supervisor',
  ) {
    const hub = this.hub;
    this.locks = new MemoryLocks(member);
    this.local = new MemoryEvents(member);
    const locks = this.locks;
    hub.serve('nonces.claim', (d) => {
      const { id, expiresAt } = d as { id: string; expiresAt: number };
      return state.nonces.claim(id, expiresAt);
    });
    hub.serve('locks.acquire', (d, from) => {
      const { key, timeoutMs } = d as { key: string; timeoutMs: number };
      return locks.acquireAs(from, key, timeoutMs);
    });
    hub.serve('locks.release', (d, from) => {
      const { key, outcome } = d as { key: string; outcome: LeadOutcome };
      locks.releaseAs(from, key, outcome);
      return true;
    });
    hub.serve('documents.get', (d) => state.documents.get((d as { name: string }).name));
    hub.serve('documents.put', (d) => {
      const { name, value } = d as { name: string; value: unknown };
      return state.documents.put(name, value);
    });
    hub.serve('events.wait', (d, from) => {
      const { topic, data, deadlineMs } = d as { topic: string; data: unknown; deadlineMs: number };
      return this.publishAndWait(topic, data, from, Math.min(Number(deadlineMs) || 0, CALL_MS));
    });
    // A worker's message: node topics to the node at once, the others through the shared state,
    // whose subscription below brings them (and other PoPs' messages) back to every worker.
    hub.routePublished((topic, data, from) => {
      if (isNodeTopic(topic)) this.deliver({ topic, data, from });
      else state.events.publish(topic, data, from);
    });
    this.unsubscribe = state.events.subscribe('*', (m: EventMessage) => {
      if (!isNodeTopic(m.topic)) this.deliver(m);
    });
    const events: Events = {
      member,
      publish: (topic, data, from = member) => {
        if (isNodeTopic(topic)) queueMicrotask(() => this.deliver({ topic, data, from }));
        else state.events.publish(topic, data, from);
      },
      publishAndWait: (topic, data, deadlineMs) => this.publishAndWait(topic, data, member, deadlineMs),
      subscribe: (topic, handler) => this.local.subscribe(topic, handler),
    };
    this.view = {
      nonces: state.nonces,
      locks,
      events,
      documents: state.documents,
      health: () => state.health(),
      close: () => this.close(),
    };
  }

  /** A worker joins (its id names it as a lock holder and an event's `from`). */
  attach(member: string, channel: Channel): void {
    this.hub.attach(member, channel);
  }

  /** A worker left: whatever it held is released as failed, so its waiters go on. */
  detach(member: string): void {
    this.hub.detach(member);
    this.locks.releaseAll(member);
  }

  close(): Promise<void> {
    this.unsubscribe();
    return this.state.close();
  }

  /** Node topics: every worker acknowledges; other topics: handed to the shared state. */
  private publishAndWait(topic: string, data: unknown, from: string, deadlineMs: number): Promise<void> {
    if (!isNodeTopic(topic)) {
      this.view.events.publish(topic, data, from);
      return Promise.resolve();
    }
    this.local.deliver({ topic, data, from });
    return this.hub.fanOutAndWait(topic, data, from, deadlineMs);
  }

  private deliver(m: EventMessage): void {
    this.hub.fanOut(m.topic, m.data, m.from);
    this.local.deliver(m);
  }
}
