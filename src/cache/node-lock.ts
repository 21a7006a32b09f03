/**
 * Coalescing across the node's workers. Each worker coalesces its own requests (coalesce.ts);
 * with a disk tier, which every worker reads, a worker's leader also asks the supervisor for the
 * key, so that one request in the whole node goes to the origin and the other workers' leaders
 * wait for it, then read the stored answer from disk. One IPC round trip per miss, none per hit.
 * Without a disk tier a worker cannot read another's fill, so this is not used.
 */
import type { WaitOutcome, LeadOutcome } from './coalesce.js';

export type NodeLockMessage =
  | { type: 'outpost:lock'; id: number; key: string }
  | { type: 'outpost:unlock'; key: string; outcome: LeadOutcome };

export type NodeLockReply =
  | { type: 'outpost:lock-reply'; id: number; granted: boolean }
  | { type: 'outpost:unlocked'; key: string; outcome: LeadOutcome };

/** The worker's side: ask for a key, release it, hear about keys others released. */
export class NodeLock {
  private seq = 0;
  private readonly replies = new Map<number, (granted: boolean) => void>();
  private readonly waiters = new Map<string, Set<(outcome: LeadOutcome) => void>>();

  constructor(private readonly send: (m: NodeLockMessage) => void) {}

  /** 'lead' when this worker fills the key; else what the worker that filled it reports, or 'timeout'. */
  acquire(key: string, timeoutMs: number): Promise<'lead' | WaitOutcome> {
    return new Promise((resolve) => {
      const id = ++this.seq;
      let settled = false;
      const finish = (r: 'lead' | WaitOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.replies.delete(id);
        const set = this.waiters.get(key);
        set?.delete(onUnlock);
        if (set?.size === 0) this.waiters.delete(key);
        resolve(r);
      };
      const onUnlock = (outcome: LeadOutcome) => finish(outcome);
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      timer.unref();
      // Listen before asking: the release may come right after a refusal.
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      set.add(onUnlock);
      this.replies.set(id, (granted) => { if (granted) finish('lead'); });
      try {
        this.send({ type: 'outpost:lock', id, key });
      } catch {
        finish('lead'); // no supervisor to ask: lead alone
      }
    });
  }

  release(key: string, outcome: LeadOutcome): void {
    try {
      this.send({ type: 'outpost:unlock', key, outcome });
    } catch {
      // The supervisor is gone; nobody waits in other workers any more.
    }
  }

  /** Feeds the supervisor's messages in; true when the message was one of ours. */
  onMessage(m: { type: string }): boolean {
    if (m.type === 'outpost:lock-reply') {
      const r = m as Extract<NodeLockReply, { type: 'outpost:lock-reply' }>;
      this.replies.get(r.id)?.(r.granted);
      return true;
    }
    if (m.type === 'outpost:unlocked') {
      const u = m as Extract<NodeLockReply, { type: 'outpost:unlocked' }>;
      for (const w of [...(this.waiters.get(u.key) ?? [])]) w(u.outcome);
      return true;
    }
    return false;
  }
}

/**
 * The supervisor's side: who holds which key, and which workers wait for it. A worker that dies
 * drops its keys (its waiters hear 'failed'); a lock older than `maxHoldMs` is taken over, so a
 * stuck fill cannot hold a key for good.
 */
export class NodeLockTable {
  private readonly locks = new Map<string, { holder: number; since: number; waiters: Set<number> }>();

  constructor(
    private readonly notify: (workerId: number, m: NodeLockReply) => void,
    private readonly maxHoldMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  handle(workerId: number, m: NodeLockMessage): void {
    if (m.type === 'outpost:lock') {
      const held = this.locks.get(m.key);
      if (!held || held.holder === workerId || this.now() - held.since > this.maxHoldMs) {
        this.locks.set(m.key, { holder: workerId, since: this.now(), waiters: held?.waiters ?? new Set() });
        this.notify(workerId, { type: 'outpost:lock-reply', id: m.id, granted: true });
        return;
      }
      held.waiters.add(workerId);
      this.notify(workerId, { type: 'outpost:lock-reply', id: m.id, granted: false });
      return;
    }
    const held = this.locks.get(m.key);
    if (!held || held.holder !== workerId) return;
    this.locks.delete(m.key);
    for (const w of held.waiters) this.notify(w, { type: 'outpost:unlocked', key: m.key, outcome: m.outcome });
  }

  /** A worker exited: its keys are released as failed. */
  workerGone(workerId: number): void {
    for (const [key, held] of this.locks) {
      held.waiters.delete(workerId);
      if (held.holder !== workerId) continue;
      this.locks.delete(key);
      for (const w of held.waiters) this.notify(w, { type: 'outpost:unlocked', key, outcome: 'failed' });
    }
  }

  get size(): number {
    return this.locks.size;
  }
}
