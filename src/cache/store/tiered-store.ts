/**
 * Memory over disk: the memory tier answers hot entries without a syscall, the disk tier holds
 * the rest and is the one every worker shares.
 *
 * - get: memory, else disk; a disk hit with a small body (a Buffer) is copied into memory.
 *   A memory hit marks the entry used on disk too (`touch`, no IO) so the disk's LRU order
 *   follows what is really read.
 * - put: one writer fans out to both tiers; a tier that refuses or aborts (object too large for
 *   memory, disk failing) drops out and the other continues. `write` is false only when no tier
 *   still takes the body.
 * - update / delete: both tiers. list: the disk (authoritative, it sees every worker's entries)
 *   merged with memory's entries the disk does not have. usage and failure: the disk's.
 *
 * Each worker has its own memory tier: a delete or update reaches the shared disk and this
 * worker's memory, not other workers' memory. So every change is told to `onChange` once it is
 * on disk (a commit, an update, a delete), and coherence.ts tells the other workers, which
 * `dropMemory` their copy: their next lookup reads the disk. A disk read that a drop overtook is
 * served but not copied into memory (it may be the file the drop was about).
 */
import type { CacheStore, KeyFilter, StoredEntry, StoredMeta, StoreWriter } from '../types.js';
import type { MemoryStore } from './memory-store.js';

/** A disk tier that can be told about memory hits (DiskStore does). */
export type DiskTier = CacheStore & { touch?(key: string): void; deleteNow?(key: string): boolean; knows?(key: string): boolean };

/** Keys other workers announced changing, remembered so a miss knows to look on disk (bounded). */
const MAX_ANNOUNCED = 100_000;

export class TieredStore implements CacheStore {
  readonly name = 'tiered';

  /**
   * Keys whose entry changed on disk (stored, updated, deleted), after the change. `now`: tell
   * the others at once, not batched, and return a promise that resolves once every worker has
   * dropped its copy (an invalidation, whose response must not leave before).
   */
  onChange: ((keys: string[], now?: boolean) => Promise<void> | void) | undefined;
  /** Drops, deletes and updates so far: a disk read that saw one happen meanwhile is not kept in memory. */
  private drops = 0;

  constructor(
    readonly memory: MemoryStore,
    readonly disk: DiskTier,
  ) {}

  /** Drops the memory copies of `keys` here and, through `onChange`, in every other worker. */
  dropEverywhere(keys: string[]): void {
    for (const key of keys) this.dropMemory(key);
    void this.onChange?.(keys, true);
  }

  /** Forgets this worker's memory copy (another worker changed the entry on disk). */
  dropMemory(key: string): void {
    this.drops++;
    void this.memory.delete(key);
    if (this.announced.size >= MAX_ANNOUNCED) this.announced.clear();
    this.announced.add(key);
  }

  /**
   * A miss looks on disk only for a key the disk tier knows or another worker announced: most
   * misses (new URLs, uncacheable answers) would otherwise pay a failed open() each. One the
   * announcement has not reached yet is found by `getShared`, which the node's lock leads to.
   */
  private readonly announced = new Set<string>();

  get failure(): string | undefined {
    return this.disk.failure;
  }

  /** A memory-tier hit, synchronously; undefined sends the caller to `get` (which tries the disk). */
  peek(key: string): StoredEntry | undefined {
    const hit = this.memory.peek(key);
    if (hit !== undefined) this.disk.touch?.(key);
    return hit;
  }

  get(key: string): Promise<StoredEntry | undefined> {
    // A memory hit stays as cheap as MemoryStore.get: a Map lookup, the stored promise.
    const hit = this.memory.lookup(key);
    if (hit !== undefined) {
      this.disk.touch?.(key);
      return hit;
    }
    if (this.disk.knows && !this.disk.knows(key) && !this.announced.has(key)) return Promise.resolve(undefined);
    return this.fromDisk(key);
  }

  /**
   * The disk tier's copy, which every worker writes (and this worker's memory copy refreshed
   * from it): what another worker stored since this one last read the key.
   */
  getShared(key: string): Promise<StoredEntry | undefined> {
    return this.fromDisk(key);
  }

  put(meta: StoredMeta): StoreWriter | undefined {
    const writers: StoreWriter[] = [];
    const m = this.memory.put(meta);
    if (m !== undefined) writers.push(m);
    const d = this.disk.put(meta);
    if (d !== undefined) writers.push(d);
    if (writers.length === 0) return undefined;
    return new FanOutWriter(writers, () => this.changed(meta.key));
  }

  async update(meta: StoredMeta): Promise<boolean> {
    this.drops++;
    const [m, d] = await Promise.all([this.memory.update(meta), this.disk.update(meta)]);
    this.changed(meta.key);
    return m || d;
  }

  async delete(key: string): Promise<boolean> {
    this.drops++;
    const [m, d] = await Promise.all([this.memory.delete(key), this.disk.delete(key)]);
    this.changed(key);
    return m || d;
  }

  /**
   * Deletes before it returns, where the disk tier can (DiskStore's unlink on the event loop):
   * an invalidation by an unsafe method, whose response must not leave while another worker
   * could still read the old file. Resolves once every worker has dropped its memory copy.
   */
  async deleteNow(key: string): Promise<void> {
    if (!this.disk.deleteNow) {
      await this.delete(key);
      return;
    }
    this.drops++;
    void this.memory.delete(key);
    this.disk.deleteNow(key);
    await this.onChange?.([key], true);
  }

  async *list(filter: KeyFilter): AsyncIterable<StoredMeta> {
    const seen = new Set<string>();
    for await (const meta of this.disk.list(filter)) {
      seen.add(meta.key);
      yield meta;
    }
    for await (const meta of this.memory.list(filter)) if (!seen.has(meta.key)) yield meta;
  }

  usage(): { bytes: number; entries: number } {
    return this.disk.usage();
  }

  async close(): Promise<void> {
    await Promise.all([this.memory.close(), this.disk.close()]);
  }

  private changed(key: string): void {
    this.onChange?.([key]);
  }

  private async fromDisk(key: string): Promise<StoredEntry | undefined> {
    const drops = this.drops;
    const hit = await this.disk.get(key);
    if (hit !== undefined && Buffer.isBuffer(hit.body) && drops === this.drops) {
      const w = this.memory.put(hit.meta);
      if (w?.write(hit.body)) await w.end();
    }
    return hit;
  }
}

/**
 * Feeds one body to several writers; a writer that gives up is dropped, the rest go on. Once the
 * entry is committed, `committed` runs (the change is told to the other workers).
 */
class FanOutWriter implements StoreWriter {
  constructor(
    private writers: StoreWriter[],
    private readonly committed: () => void,
  ) {}

  write(chunk: Buffer): boolean {
    let live = 0;
    for (let i = 0; i < this.writers.length; i++) {
      if (this.writers[i].write(chunk)) this.writers[live++] = this.writers[i];
    }
    this.writers.length = live;
    return live > 0;
  }

  async end(): Promise<void> {
    const live = this.writers.length;
    await Promise.all(this.writers.map((w) => w.end()));
    if (live > 0) this.committed();
  }

  abort(): void {
    for (const w of this.writers) w.abort();
    this.writers = [];
  }
}
