/**
 * The memory backend: the shared state of one process. Used as is by a single-process edge
 * (`workers: 1`, in-process tests), and by a supervisor as the state it answers its workers from
 * (ipc.ts) when no Redis is configured.
 */
import type { LeadOutcome, WaitOutcome } from '../cache/coalesce.js';
import { MemoryReplayGuard } from '../shield/challenge/token.js';
import type { Cluster, ClusterHealth, Documents, EventMessage, Events, Locks, Nonces, VersionedDocument } from './types.js';

export class MemoryNonces implements Nonces {
  private readonly guard: MemoryReplayGuard;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.guard = new MemoryReplayGuard({ maxEntries: options.maxEntries });
    this.now = options.now ?? Date.now;
  }

  private readonly now: () => number;

  claim(id: string, expiresAt: number): Promise<boolean> {
    return Promise.resolve(this.guard.claim(id, expiresAt, this.now()));
  }
}

interface Held {
  holder: string;
  since: number;
  waiters: Set<(outcome: LeadOutcome) => void>;
}

/**
 * Who holds which key, and who waits for it. A lock older than `maxHoldMs` is taken over, so a
 * stuck fill cannot hold a key for good. `acquireAs` names the holder (ipc.ts releases a dead
 * worker's keys as failed with `releaseAll`).
 */
export class MemoryLocks implements Locks {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly member = 'local',
    private readonly maxHoldMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  acquire(key: string, timeoutMs: number): Promise<'lead' | WaitOutcome> {
    return this.acquireAs(this.member, key, timeoutMs);
  }

  acquireAs(holder: string, key: string, timeoutMs: number): Promise<'lead' | WaitOutcome> {
    const h = this.held.get(key);
    if (!h || h.holder === holder || this.now() - h.since > this.maxHoldMs) {
      this.held.set(key, { holder, since: this.now(), waiters: h?.waiters ?? new Set() });
      return Promise.resolve('lead');
    }
    return new Promise((resolve) => {
      const onRelease = (outcome: LeadOutcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        h.waiters.delete(onRelease);
        resolve('timeout');
      }, timeoutMs);
      timer.unref();
      h.waiters.add(onRelease);
    });
  }

  release(key: string, outcome: LeadOutcome): void {
    this.releaseAs(this.member, key, outcome);
  }

  releaseAs(holder: string, key: string, outcome: LeadOutcome): void {
    const h = this.held.get(key);
    if (!h || h.holder !== holder) return;
    this.held.delete(key);
    for (const w of h.waiters) w(outcome);
  }

  /** Every key `holder` holds is released as failed (a worker died mid-fill). */
  releaseAll(holder: string): void {
    for (const [key, h] of this.held) if (h.holder === holder) this.releaseAs(holder, key, 'failed');
  }

  get size(): number {
    return this.held.size;
  }
}

/** Topic `*` receives every topic (a supervisor forwarding everything to its workers). */
export class MemoryEvents implements Events {
  private readonly handlers = new Map<string, Set<(m: EventMessage) => void>>();

  constructor(readonly member = 'local') {}

  publish<T>(topic: string, data: T, from = this.member): void {
    const message: EventMessage<T> = { topic, data, from };
    // Delivered after the publisher's turn, as every other backend does.
    queueMicrotask(() => this.deliver(message));
  }

  /** One process: delivered before it resolves. */
  publishAndWait<T>(topic: string, data: T, _deadlineMs: number, from = this.member): Promise<void> {
    this.deliver({ topic, data, from });
    return Promise.resolve();
  }

  /** Delivers at once (the IPC hub replaying a message that already crossed a process). */
  deliver(message: EventMessage): void {
    for (const name of [message.topic, '*']) {
      for (const h of this.handlers.get(name) ?? []) {
        try {
          h(message);
        } catch {
          // A subscriber's bug is its own: the others still get the message.
        }
      }
    }
  }

  subscribe<T>(topic: string, handler: (message: EventMessage<T>) => void): () => void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    const h = handler as (m: EventMessage) => void;
    set.add(h);
    return () => set.delete(h);
  }
}

export class MemoryDocuments implements Documents {
  private readonly docs = new Map<string, VersionedDocument>();

  get<T>(name: string): Promise<VersionedDocument<T> | undefined> {
    return Promise.resolve(this.docs.get(name) as VersionedDocument<T> | undefined);
  }

  put<T>(name: string, value: T): Promise<VersionedDocument<T>> {
    const doc = { version: (this.docs.get(name)?.version ?? 0) + 1, value, at: Date.now() };
    this.docs.set(name, doc);
    return Promise.resolve(doc);
  }
}

export class MemoryCluster implements Cluster {
  readonly nonces = new MemoryNonces();
  readonly locks: MemoryLocks;
  readonly events: MemoryEvents;
  readonly documents = new MemoryDocuments();

  constructor(member = 'local') {
    this.locks = new MemoryLocks(member);
    this.events = new MemoryEvents(member);
  }

  health(): ClusterHealth {
    return { backend: 'memory', connected: true, fallbacks: 0 };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The same state seen as another member (its own lock holder and event sender), for tests. */
  as(member: string): Cluster {
    const locks = this.locks;
    const events = this.events;
    return {
      nonces: this.nonces,
      locks: { acquire: (k, t) => locks.acquireAs(member, k, t), release: (k, o) => locks.releaseAs(member, k, o) },
      events: {
        member,
        publish: (t, d, from = member) => events.publish(t, d, from),
        publishAndWait: (t, d, ms) => events.publishAndWait(t, d, ms, member),
        subscribe: (t, h) => events.subscribe(t, h),
      },
      documents: this.documents,
      health: () => this.health(),
      close: () => this.close(),
    };
  }
}
