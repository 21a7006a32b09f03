/**
 * The cluster seam: every kind of state the edge shares between its processes (a node's workers)
 * and between PoPs, as a few small typed interfaces (shared/DESIGN.md, "Where state lives").
 *
 *   kind              interface    examples
 *   once-only nonces  Nonces       challenge answers
 *   locks             Locks        cache fill coalescing
 *   broadcast events  Events       invalidation, purge, health verdicts, admin actions, attack mode
 *   versioned docs    Documents    config
 *   (counters and leases: shield/node-limits.ts, carried by the bus)
 *
 * Backends, one contract suite (contract.test.ts) for all:
 * - memory (memory.ts): one process: `workers: 1`, in-process edges, unit tests, and what a
 *   supervisor holds for its node when no Redis is configured;
 * - ipc (ipc.ts): a worker's view, each call carried over the bus (bus.ts) to the supervisor,
 *   which answers from its own state (memory or Redis), so a node with Redis holds one Redis
 *   connection, not one per worker;
 * - redis (redis.ts): across PoPs.
 *
 * Rules every backend keeps: nothing here throws into a request (a backend that cannot reach its
 * peer answers with the documented fallback and says so through `health`), and every call has a
 * deadline.
 */
import type { LeadOutcome, WaitOutcome } from '../cache/coalesce.js';

/** Single use of an id (a challenge's nonce) across everyone sharing the state. */
export interface Nonces {
  /**
   * True the first time `id` is claimed before `expiresAt` (ms epoch), false after. When the
   * shared state cannot be reached the answer is true: the caller's own local guard has already
   * refused a replay it saw itself (fail open, counted in `health`).
   */
  claim(id: string, expiresAt: number): Promise<boolean>;
}

/** One holder per key at a time (cache fills): the others wait for its outcome. */
export interface Locks {
  /** 'lead' when the caller fills the key; else the holder's outcome, or 'timeout'. */
  acquire(key: string, timeoutMs: number): Promise<'lead' | WaitOutcome>;
  /** Ends a lead: waiters everywhere hear `outcome`. */
  release(key: string, outcome: LeadOutcome): void;
}

/** A message on a topic, as subscribers get it. */
export interface EventMessage<T = unknown> {
  topic: string;
  data: T;
  /** Who published it (a worker, a supervisor, a PoP), for logs and to skip one's own. */
  from: string;
}

/**
 * Broadcast events: every subscriber of a topic, in every process and PoP sharing the state, gets
 * every message published on it, the publisher's own subscribers included, in publish order per
 * publisher. Delivery is at most once per subscriber in memory and IPC (a process that restarts
 * asks for current state instead); Redis keeps a stream per topic so a PoP that was cut off
 * replays what it missed (redis.ts).
 */
export interface Events {
  /** The member id this view publishes as. */
  readonly member: string;
  /** `from`: on behalf of another member (the IPC hub, for its workers); default `member`. */
  publish<T>(topic: string, data: T, from?: string): void;
  subscribe<T>(topic: string, handler: (message: EventMessage<T>) => void): () => void;
  /**
   * Publishes on a node topic and resolves once every process of the node has delivered it to its
   * subscribers, or after `deadlineMs`: what must be known everywhere before the caller answers
   * (an invalidation by an unsafe method, before its response leaves). Never rejects.
   */
  publishAndWait<T>(topic: string, data: T, deadlineMs: number): Promise<void>;
}

/** A versioned document (the config pushed to every PoP). */
export interface VersionedDocument<T = unknown> {
  version: number;
  value: T;
  /** ms epoch it was stored. */
  at: number;
}

export interface Documents {
  get<T>(name: string): Promise<VersionedDocument<T> | undefined>;
  /** Stores `value` as the next version; resolves with it. */
  put<T>(name: string, value: T): Promise<VersionedDocument<T>>;
}

/** What a backend says of itself (for /status, metrics and logs). */
export interface ClusterHealth {
  backend: 'memory' | 'ipc' | 'redis';
  /** False while the shared state cannot be reached (answers are then the local fallbacks). */
  connected: boolean;
  /** Why not, when not. */
  error?: string;
  /** Calls answered by a fallback because the shared state did not answer in time. */
  fallbacks: number;
}

/** Everything a process shares, from one backend. */
export interface Cluster {
  readonly nonces: Nonces;
  readonly locks: Locks;
  readonly events: Events;
  readonly documents: Documents;
  health(): ClusterHealth;
  close(): Promise<void>;
}
