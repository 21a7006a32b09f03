/**
 * Broadcast events across PoPs on ONE Redis Stream, `<prefix>events` (docs/cluster.md).
 *
 * Publishing: messages go into a bounded queue (`queueLimit`, 1000) and leave it in order, in
 * batches, through one Lua script that appends each with XADD MAXLEN ~ `maxLen` (10,000) and
 * numbers it (`seq`: the previous entry's + 1, so the stream itself says when entries went
 * missing). A publish never throws and never waits: while Redis is away the queue holds the
 * messages and sends them on reconnect; past `queueLimit` the oldest is dropped and counted
 * (`dropped`). While Redis answers, a burst (many messages in one event-loop turn) may queue up to
 * 100,000 before the next flush. A message that cannot leave at once is delivered to this PoP's own subscribers at
 * once (a purge at a cut-off PoP still purges it), and skipped when it comes back from the
 * stream. A batch whose reply missed its deadline is sent again, so delivery is at least once;
 * each message carries an id (`mid`) and a subscriber sees each id once (the last 10,000).
 *
 * Reading: one loop with XREAD BLOCK on a connection of its own (a blocking read would hold up
 * every command behind it), from the last id delivered, delivering to subscribers in stream
 * order, the publisher's own messages included; topic `*` gets every topic. After a disconnect it
 * resumes from that id, so a PoP that was cut off replays what it missed, in order. When the
 * stream no longer holds everything after that id (trimmed past it by MAXLEN while this PoP was
 * away, or Redis lost its data), subscribers get one message on topic `cluster:gap`,
 * `{ since, firstAvailable }` (stream ids), before the rest: the cache empties what it cannot
 * vouch for.
 */
import { MemoryEvents } from './memory.js';
import { openRedis, type RedisClient, type RedisLink } from './redis-link.js';
import type { EventMessage, Events } from './types.js';

export const GAP_TOPIC = 'cluster:gap';

export interface GapNotice {
  /** The last id this PoP had delivered. */
  since: string;
  /** The first id the stream still holds after it ('0-0' when it is empty). */
  firstAvailable: string;
}

export interface RedisEventsOptions {
  /** Key prefix: the stream is `<prefix>events`. */
  prefix: string;
  /** Approximate length the stream is trimmed to (MAXLEN ~). Default 10,000. */
  maxLen?: number;
  /** Messages held while Redis is away. Default 1000. */
  queueLimit?: number;
  /** How long one XREAD blocks. Default 1000 ms. */
  blockMs?: number;
}

/** KEYS[1] the stream; ARGV[1] maxLen, then (topic, data, from, mid) per message. Returns the last id. */
const PUBLISH = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local seq = 0
if #last > 0 then
  local f = last[1][2]
  for i = 1, #f, 2 do if f[i] == 'seq' then seq = tonumber(f[i + 1]) end end
end
local id
for i = 2, #ARGV, 4 do
  seq = seq + 1
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'seq', seq, 'topic', ARGV[i], 'data', ARGV[i + 1], 'from', ARGV[i + 2], 'mid', ARGV[i + 3])
end
return id`;

interface Outgoing {
  topic: string;
  data: string;
  from: string;
  mid: string;
}

type Entry = [id: string, fields: string[]];

const BATCH = 100;
const SEEN = 10_000;
/** Messages queued at most while Redis answers (one event-loop turn's burst). */
const BURST_LIMIT = 100_000;

/** Stream ids compare as (ms, seq) pairs. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

export class RedisEvents implements Events {
  readonly key: string;
  private readonly local: MemoryEvents;
  private readonly reader: RedisClient;
  private readonly maxLen: number;
  private readonly queueLimit: number;
  private readonly blockMs: number;
  private queue: Outgoing[] = [];
  private flushing = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly seen = new Set<string>();
  private seq = 0;
  private readonly boot = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
  /** The last entry delivered; undefined until the reader has its starting point. */
  private lastId: string | undefined;
  private lastSeq = 0;
  private reposition = true;
  private readerOk = true;
  private closed = false;
  private readonly loop: Promise<void>;
  private positioned!: () => void;
  /** Resolves once the reader knows where it starts (publishes wait for it, so none is missed). */
  readonly started = new Promise<void>((r) => (this.positioned = r));
  /** Messages dropped from a full queue while Redis was away. */
  dropped = 0;
  /** Times the stream no longer held everything since the last id delivered. */
  gaps = 0;
  /** Reads that failed (deadline, disconnect). */
  readErrors = 0;

  constructor(
    private readonly link: RedisLink,
    url: string,
    readonly member: string,
    options: RedisEventsOptions,
  ) {
    this.key = `${options.prefix}events`;
    this.maxLen = options.maxLen ?? 10_000;
    this.queueLimit = options.queueLimit ?? 1000;
    this.blockMs = options.blockMs ?? 1000;
    this.local = new MemoryEvents(member);
    // A stuck server must not hold the reader longer than its block plus a margin.
    this.reader = openRedis(url, { commandTimeoutMs: this.blockMs + 1500, name: `outpost-events-${member}` });
    this.reader.on('error', () => {}); // the loop sees every failure as a rejected read
    this.reader.on('ready', () => (this.reposition = true));
    link.client.on('ready', () => this.flushSoon());
    this.loop = this.read();
  }

  /** The reader's connection is up and its last read answered in time. */
  get readerConnected(): boolean {
    return this.reader.status === 'ready' && this.readerOk;
  }

  /** Messages waiting for Redis. */
  get queued(): number {
    return this.queue.length;
  }

  /** The last stream id delivered. */
  get position(): string | undefined {
    return this.lastId;
  }

  /**
   * A node topic stays in this process and is delivered before it resolves; any other topic is
   * published (no PoP waits for the others).
   */
  publishAndWait<T>(topic: string, data: T, _deadlineMs: number, from = this.member): Promise<void> {
    if (topic.startsWith('node:')) this.local.deliver({ topic, data, from });
    else this.publish(topic, data, from);
    return Promise.resolve();
  }

  publish<T>(topic: string, data: T, from = this.member): void {
    const message: Outgoing = { topic, data: JSON.stringify(data) ?? 'null', from, mid: `${this.member}.${this.boot}.${++this.seq}` };
    // The bound is for Redis being away; a burst while it answers only has to fit in memory.
    const limit = this.link.connected ? BURST_LIMIT : this.queueLimit;
    while (this.queue.length >= limit) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(message);
    // Cannot leave now: this PoP's subscribers hear it at once, the others when Redis is back.
    if (!this.link.connected) queueMicrotask(() => this.deliver(message));
    this.flushSoon();
  }

  subscribe<T>(topic: string, handler: (message: EventMessage<T>) => void): () => void {
    return this.local.subscribe(topic, handler);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.reader.disconnect();
    await this.loop;
  }

  private flushSoon(): void {
    if (this.closed || this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    await this.started;
    let failed = false;
    while (!this.closed && this.queue.length > 0 && !failed) {
      const batch = this.queue.slice(0, BATCH);
      const args: (string | number)[] = [this.maxLen];
      for (const m of batch) args.push(m.topic, m.data, m.from, m.mid);
      failed = await this.link.script(PUBLISH, [this.key], args, () => true).then((r) => r === true);
      if (failed) {
        // Redis did not take it (or did, and the reply is late: readers skip a second copy).
        for (const m of batch) if (!this.seen.has(m.mid)) this.deliver(m);
      } else {
        // The queue may have lost its head to `dropped` meanwhile: drop what was sent, by identity.
        const sent = new Set(batch);
        this.queue = this.queue.filter((m) => !sent.has(m));
      }
    }
    this.flushing = false;
    if (failed) {
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.flushSoon(), 250);
      this.retry.unref();
    }
  }

  /** Delivers a message once per mid (the local copy, or the stream's). */
  private deliver(m: Outgoing): void {
    if (this.seen.has(m.mid)) return;
    this.seen.add(m.mid);
    if (this.seen.size > SEEN) this.seen.delete(this.seen.values().next().value!);
    let data: unknown;
    try {
      data = JSON.parse(m.data);
    } catch {
      return; // not ours (someone else wrote to the stream)
    }
    this.local.deliver({ topic: m.topic, data, from: m.from });
  }

  private async read(): Promise<void> {
    while (!this.closed) {
      try {
        if (this.reader.status !== 'ready') {
          await this.readyOrLater(this.reader);
          continue;
        }
        if (this.reposition) await this.findPosition();
        const reply = (await this.reader.call('XREAD', 'COUNT', 500, 'BLOCK', this.blockMs, 'STREAMS', this.key, this.lastId!)) as [string, Entry[]][] | null;
        this.readerOk = true;
        for (const [, entries] of reply ?? []) this.take(entries);
      } catch {
        if (this.closed) break;
        this.readErrors++;
        this.readerOk = false;
        // A read past its deadline: the server may be stopped. Reads queued behind a blocked
        // one would each block in turn once it wakes, so start a fresh connection instead. The
        // socket is destroyed, not ended: ending waits for a FIN a stopped server never sends,
        // and the client would stay "ready" on a socket it cannot write.
        if (this.reader.status === 'ready') {
          const socket = (this.reader as { stream?: { destroy(): void } }).stream;
          if (socket) socket.destroy();
          else this.reader.disconnect(true);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /**
   * Where to read from: at the first connection, the stream's end (nothing before this PoP
   * started is replayed); after a reconnect, the last id delivered, unless the stream went
   * backwards (Redis lost its data): then everything it holds, after a gap notice.
   */
  private async findPosition(): Promise<void> {
    const top = (await this.reader.call('XREVRANGE', this.key, '+', '-', 'COUNT', 1)) as Entry[];
    const topId = top[0]?.[0] ?? '0-0';
    const topSeq = top[0] ? Number(field(top[0][1], 'seq')) : 0;
    if (this.lastId === undefined) {
      this.lastId = topId;
      this.lastSeq = topSeq;
      this.positioned();
    } else if (topSeq < this.lastSeq || compareIds(topId, this.lastId) < 0) {
      const first = (await this.reader.call('XRANGE', this.key, '-', '+', 'COUNT', 1)) as Entry[];
      this.gap(first[0]?.[0] ?? '0-0');
      this.lastId = '0-0';
      this.lastSeq = 0;
    }
    this.reposition = false;
  }

  private take(entries: Entry[]): void {
    for (const [id, fields] of entries) {
      const seq = Number(field(fields, 'seq'));
      if (seq !== this.lastSeq + 1 && this.lastSeq > 0) this.gap(id);
      this.lastId = id;
      this.lastSeq = seq;
      const topic = field(fields, 'topic');
      const data = field(fields, 'data');
      if (topic === undefined || data === undefined) continue;
      this.deliver({ topic, data, from: field(fields, 'from') ?? '?', mid: field(fields, 'mid') ?? id });
    }
  }

  private gap(firstAvailable: string): void {
    this.gaps++;
    const data: GapNotice = { since: this.lastId ?? '0-0', firstAvailable };
    this.local.deliver({ topic: GAP_TOPIC, data, from: this.member });
  }

  private readyOrLater(client: RedisClient): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, 250);
      client.on('ready', done);
    });
  }
}

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
