/**
 * The bus between a node's workers and its supervisor: request/reply with a deadline, and
 * published messages fanned out by the supervisor. One frame type on the IPC channel
 * (`outpost:bus`) instead of a hand-written protocol per kind of state; ipc.ts builds the
 * cluster interfaces on it.
 *
 *   worker (Spoke)                        supervisor (Hub)
 *   call(name, data, deadline) ── req ──▶ served handler(data, from) ── res ──▶ resolves / rejects
 *   publish(topic, data)       ── pub ──▶ its subscribers, then every spoke (the sender included)
 *   fanOutAndWait(topic, data) ◀─ pub+ack ── each spoke delivers, then answers `ack`
 *
 * A call that gets no answer by its deadline rejects with BusTimeout; a channel that is gone
 * rejects at once with BusUnavailable. Nothing waits forever.
 */

export type BusFrame =
  | { type: 'outpost:bus'; k: 'req'; id: number; name: string; data: unknown }
  | { type: 'outpost:bus'; k: 'res'; id: number; ok: true; data: unknown }
  | { type: 'outpost:bus'; k: 'res'; id: number; ok: false; error: string }
  | { type: 'outpost:bus'; k: 'pub'; topic: string; data: unknown; from: string; ack?: number }
  | { type: 'outpost:bus'; k: 'ack'; id: number };

/** One end of a message channel: a worker's `process`, the supervisor's `Worker`, a MessagePort in tests. */
export interface Channel {
  /** False (or a throw) when the other end is gone. */
  send(frame: BusFrame): unknown;
  onFrame(handler: (frame: BusFrame) => void): void;
}

export class BusTimeout extends Error {
  readonly code = 'BUS_TIMEOUT';
}

export class BusUnavailable extends Error {
  readonly code = 'BUS_UNAVAILABLE';
}

export function isBusFrame(m: unknown): m is BusFrame {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'outpost:bus';
}

/** A worker's end. */
export class Spoke {
  private seq = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private readonly subscribers = new Set<(topic: string, data: unknown, from: string) => void>();

  constructor(
    private readonly channel: Channel,
    readonly member: string,
  ) {
    channel.onFrame((f) => this.onFrame(f));
  }

  call<T>(name: string, data: unknown, deadlineMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = ++this.seq;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new BusTimeout(`${name}: no answer within ${deadlineMs} ms`));
      }, deadlineMs);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      if (!this.send({ type: 'outpost:bus', k: 'req', id, name, data })) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new BusUnavailable(`${name}: the supervisor is gone`));
      }
    });
  }

  publish(topic: string, data: unknown): boolean {
    return this.send({ type: 'outpost:bus', k: 'pub', topic, data, from: this.member });
  }

  onPublish(handler: (topic: string, data: unknown, from: string) => void): void {
    this.subscribers.add(handler);
  }

  private send(frame: BusFrame): boolean {
    try {
      return this.channel.send(frame) !== false;
    } catch {
      return false;
    }
  }

  private onFrame(f: BusFrame): void {
    if (f.k === 'res') {
      const p = this.pending.get(f.id);
      if (!p) return; // answered after its deadline: the caller already went on
      this.pending.delete(f.id);
      clearTimeout(p.timer);
      if (f.ok) p.resolve(f.data);
      else p.reject(new Error(f.error));
    } else if (f.k === 'pub') {
      for (const s of this.subscribers) s(f.topic, f.data, f.from);
      if (f.ack !== undefined) this.send({ type: 'outpost:bus', k: 'ack', id: f.ack });
    }
  }
}

/** The supervisor's end: serves calls, fans published messages out to every spoke. */
export class Hub {
  private readonly spokes = new Map<string, Channel>();
  private readonly handlers = new Map<string, (data: unknown, from: string) => unknown>();
  private onPub: (topic: string, data: unknown, from: string) => void = (topic, data, from) => this.fanOut(topic, data, from);
  private ackSeq = 0;
  /** fanOutAndWait calls still waiting: the spokes that have not acknowledged yet. */
  private readonly acks = new Map<number, { left: Set<string>; done(): void }>();

  /** What a spoke's publish does; by default fan it out to every spoke. */
  routePublished(handler: (topic: string, data: unknown, from: string) => void): void {
    this.onPub = handler;
  }

  attach(member: string, channel: Channel): void {
    this.spokes.set(member, channel);
    channel.onFrame((f) => {
      if (this.spokes.get(member) !== channel) return; // a channel replaced or detached
      if (f.k === 'req') void this.answer(member, channel, f.id, f.name, f.data);
      else if (f.k === 'pub') this.onPub(f.topic, f.data, member);
      else if (f.k === 'ack') this.acked(f.id, member);
    });
  }

  detach(member: string): void {
    this.spokes.delete(member);
    for (const id of [...this.acks.keys()]) this.acked(id, member); // a gone spoke is not waited for
  }

  serve(name: string, handler: (data: unknown, from: string) => unknown): void {
    this.handlers.set(name, handler);
  }

  /** Sends a published message to every attached spoke. */
  fanOut(topic: string, data: unknown, from: string): void {
    this.sendAll({ type: 'outpost:bus', k: 'pub', topic, data, from });
  }

  /**
   * Sends a published message to every attached spoke and resolves once each has delivered it to
   * its subscribers, or at `deadlineMs` (a stuck worker delays, never blocks, the caller).
   */
  fanOutAndWait(topic: string, data: unknown, from: string, deadlineMs: number): Promise<void> {
    const id = ++this.ackSeq;
    const left = this.sendAll({ type: 'outpost:bus', k: 'pub', topic, data, from, ack: id });
    if (left.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), deadlineMs);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        this.acks.delete(id);
        resolve();
      };
      this.acks.set(id, { left, done });
    });
  }

  /** Sends `frame` to every attached spoke; returns the members that took it. */
  private sendAll(frame: BusFrame): Set<string> {
    const took = new Set<string>();
    for (const [member, ch] of this.spokes) {
      try {
        if (ch.send(frame) !== false) took.add(member);
      } catch {
        // that worker is going away; its exit detaches it
      }
    }
    return took;
  }

  private acked(id: number, member: string): void {
    const a = this.acks.get(id);
    if (!a) return;
    a.left.delete(member);
    if (a.left.size === 0) a.done();
  }

  get members(): string[] {
    return [...this.spokes.keys()];
  }

  private async answer(member: string, channel: Channel, id: number, name: string, data: unknown): Promise<void> {
    const handler = this.handlers.get(name);
    let frame: BusFrame;
    try {
      if (!handler) throw new Error(`no handler for ${name}`);
      frame = { type: 'outpost:bus', k: 'res', id, ok: true, data: await handler(data, member) };
    } catch (err) {
      frame = { type: 'outpost:bus', k: 'res', id, ok: false, error: (err as Error).message };
    }
    try {
      channel.send(frame);
    } catch {
      // the caller is gone
    }
  }
}
