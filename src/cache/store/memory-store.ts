/**
 * The in-process cache store: entries in a Map, bounded by bytes (body plus an estimate of the
 * metadata), least recently used evicted first.
 *
 * The Map is the LRU list: a hit re-inserts its key at the end, eviction takes from the front.
 * A hit is one Map lookup and returns the stored entry object and a promise made when it was
 * stored, so serving from memory allocates nothing. Callers must treat entries as read-only.
 *
 * Bodies stream in through a writer that keeps the chunks and concatenates them at `end()`: only
 * then does the entry appear (replacing an older one under the same key in one step), so `get`
 * never sees a half body. Objects over `maxObjectSize` are refused, up front when the declared
 * size says so, or as soon as the streamed body outgrows it.
 *
 * Tags and hosts are indexed so a purge by tag or host touches only what it selects; a purge by
 * prefix scans.
 */
import type { CacheStore, KeyFilter, StoredEntry, StoredMeta, StoreWriter } from '../types.js';
import { knownSize, matchesFilter, metaFootprint } from './key-filter.js';

export interface MemoryStoreOptions {
  /** Bytes held at most (bodies plus estimated metadata). */
  maxSize: number;
  /** Largest body taken, in bytes. */
  maxObjectSize: number;
}

interface MemoryNode {
  readonly entry: StoredEntry;
  /** Made once at store time: what `get` returns, so a hit allocates nothing. */
  readonly hit: Promise<StoredEntry>;
  readonly bytes: number;
}

export class MemoryStore implements CacheStore {
  readonly name = 'memory';
  readonly failure: string | undefined = undefined;
  readonly maxSize: number;
  readonly maxObjectSize: number;
  /** Oldest first: the LRU order. */
  private readonly nodes = new Map<string, MemoryNode>();
  private readonly byTag = new Map<string, Set<string>>();
  private readonly byHost = new Map<string, Set<string>>();
  /** The node last moved to the end of the LRU order: hitting it again moves nothing. */
  private newest: MemoryNode | undefined;
  private bytes = 0;

  constructor(options: MemoryStoreOptions) {
    this.maxSize = options.maxSize;
    this.maxObjectSize = Math.min(options.maxObjectSize, options.maxSize);
  }

  get(key: string): Promise<StoredEntry | undefined> {
    return this.lookup(key) ?? MISS;
  }

  /** The hit's promise (marked used), or undefined on a miss: `get` without the miss promise. */
  lookup(key: string): Promise<StoredEntry> | undefined {
    return this.touch(key)?.hit;
  }

  /** The entry itself, synchronously (marked used): the cache phase answers a hit without a promise turn. */
  peek(key: string): StoredEntry | undefined {
    return this.touch(key)?.entry;
  }

  private touch(key: string): MemoryNode | undefined {
    const node = this.nodes.get(key);
    if (node === undefined) return undefined;
    if (node !== this.newest) {
      this.nodes.delete(key);
      this.nodes.set(key, node);
      this.newest = node;
    }
    return node;
  }

  put(meta: StoredMeta): StoreWriter | undefined {
    if (knownSize(meta.size) && meta.size > this.maxObjectSize) return undefined;
    return new MemoryWriter(this, meta);
  }

  async update(meta: StoredMeta): Promise<boolean> {
    const node = this.nodes.get(meta.key);
    if (node === undefined) return false;
    const body = node.entry.body as Buffer;
    // The body is kept, so its length stays the truth whatever the new metadata says.
    this.insert({ meta: { ...meta, size: body.length }, body }, false);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const node = this.nodes.get(key);
    if (node === undefined) return false;
    this.remove(node);
    return true;
  }

  async *list(filter: KeyFilter): AsyncIterable<StoredMeta> {
    // Snapshot first: a purge deletes while it iterates.
    const metas: StoredMeta[] = [];
    const keys = this.candidates(filter);
    for (const key of keys) {
      const node = this.nodes.get(key);
      if (node !== undefined && matchesFilter(node.entry.meta, filter)) metas.push(node.entry.meta);
    }
    yield* metas;
  }

  usage(): { bytes: number; entries: number } {
    return { bytes: this.bytes, entries: this.nodes.size };
  }

  async close(): Promise<void> {
    this.nodes.clear();
    this.byTag.clear();
    this.byHost.clear();
    this.newest = undefined;
    this.bytes = 0;
  }

  /**
   * Stores a finished entry (the writer's `end`, or `update`), replacing any entry under its key,
   * then evicts from the LRU end until the store fits. `touch` false keeps the old LRU position
   * (an `update` is no use of the entry).
   * @internal
   */
  insert(entry: StoredEntry, touch = true): void {
    const body = entry.body as Buffer;
    const bytes = body.length + metaFootprint(entry.meta);
    const old = this.nodes.get(entry.meta.key);
    if (bytes > this.maxSize) {
      if (old !== undefined) this.remove(old);
      return;
    }
    const node: MemoryNode = { entry, hit: Promise.resolve(entry), bytes };
    if (old !== undefined) {
      this.unindex(old);
      this.bytes -= old.bytes;
      if (touch) this.nodes.delete(entry.meta.key);
    }
    this.nodes.set(entry.meta.key, node);
    if (touch) this.newest = node;
    else if (this.newest === old) this.newest = undefined;
    this.bytes += bytes;
    for (const tag of entry.meta.tags) addTo(this.byTag, tag, entry.meta.key);
    addTo(this.byHost, entry.meta.host, entry.meta.key);
    this.evict();
  }

  private evict(): void {
    for (const node of this.nodes.values()) {
      if (this.bytes <= this.maxSize) return;
      this.remove(node);
    }
  }

  private remove(node: MemoryNode): void {
    this.nodes.delete(node.entry.meta.key);
    this.unindex(node);
    this.bytes -= node.bytes;
    if (this.newest === node) this.newest = undefined;
  }

  private unindex(node: MemoryNode): void {
    const { key, tags, host } = node.entry.meta;
    for (const tag of tags) removeFrom(this.byTag, tag, key);
    removeFrom(this.byHost, host, key);
  }

  /** The keys a filter can match: the smaller index set it names, else every key. */
  private candidates(filter: KeyFilter): Iterable<string> {
    const tagged = filter.tag === undefined ? undefined : (this.byTag.get(filter.tag) ?? EMPTY);
    const hosted = filter.host === undefined ? undefined : (this.byHost.get(filter.host) ?? EMPTY);
    if (tagged !== undefined && hosted !== undefined) return tagged.size <= hosted.size ? tagged : hosted;
    return tagged ?? hosted ?? this.nodes.keys();
  }
}

const MISS: Promise<undefined> = Promise.resolve(undefined);
const EMPTY: ReadonlySet<string> = new Set();

class MemoryWriter implements StoreWriter {
  private chunks: Buffer[] = [];
  private length = 0;
  private open = true;

  constructor(
    private readonly store: MemoryStore,
    private readonly meta: StoredMeta,
  ) {}

  write(chunk: Buffer): boolean {
    if (!this.open) return false;
    this.length += chunk.length;
    if (this.length > this.store.maxObjectSize) {
      this.abort();
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  async end(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    const body = Buffer.concat(this.chunks, this.length);
    this.chunks = [];
    this.store.insert({ meta: { ...this.meta, size: body.length }, body });
  }

  abort(): void {
    this.open = false;
    this.chunks = [];
  }
}

function addTo(index: Map<string, Set<string>>, name: string, key: string): void {
  const keys = index.get(name);
  if (keys === undefined) index.set(name, new Set([key]));
  else keys.add(key);
}

function removeFrom(index: Map<string, Set<string>>, name: string, key: string): void {
  const keys = index.get(name);
  if (keys === undefined) return;
  keys.delete(key);
  if (keys.size === 0) index.delete(name);
}
