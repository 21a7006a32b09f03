/**
 * What one process knows of the disk store's directory: key → metadata, file size and last use,
 * least recently used first (a Map in LRU order), plus the byte total eviction works from.
 * No IO here: the store reads and removes files, the index only keeps the books.
 */
import type { StoredMeta } from '../types.js';

export interface IndexEntry {
  readonly key: string;
  /** sha256 of the key: the file name. */
  readonly hash: string;
  meta: StoredMeta;
  /** File bytes (header, metadata and body). */
  bytes: number;
  /** The file's mtime when last read here; NaN for a file this process wrote and has not stat'ed. */
  mtimeMs: number;
  lastAccess: number;
  /** When the file's atime was last refreshed. */
  touchedAt: number;
  /** When this entry was made: a directory walk that started earlier cannot have seen its file. */
  since: number;
}

export class DiskIndex {
  /** Oldest use first. */
  private readonly byKey = new Map<string, IndexEntry>();
  private readonly byHash = new Map<string, IndexEntry>();
  private newestAccess = 0;
  bytes = 0;

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): IndexEntry | undefined {
    return this.byKey.get(key);
  }

  byFile(hash: string): IndexEntry | undefined {
    return this.byHash.get(hash);
  }

  values(): IterableIterator<IndexEntry> {
    return this.byKey.values();
  }

  /** Adds an entry as the most recently used (replacing any under its key). */
  insert(entry: IndexEntry): void {
    const old = this.byKey.get(entry.key);
    if (old !== undefined) this.forget(old);
    this.byKey.set(entry.key, entry);
    this.byHash.set(entry.hash, entry);
    this.bytes += entry.bytes;
    if (entry.lastAccess > this.newestAccess) this.newestAccess = entry.lastAccess;
  }

  forget(entry: IndexEntry): void {
    if (this.byKey.get(entry.key) !== entry) return;
    this.byKey.delete(entry.key);
    this.byHash.delete(entry.hash);
    this.bytes -= entry.bytes;
  }

  forgetKey(key: string): void {
    const entry = this.byKey.get(key);
    if (entry !== undefined) this.forget(entry);
  }

  /** Marks an entry the most recently used. */
  use(entry: IndexEntry, now: number): void {
    entry.lastAccess = now;
    if (now > this.newestAccess) this.newestAccess = now;
    this.byKey.delete(entry.key);
    this.byKey.set(entry.key, entry);
  }

  /** Records that the file was replaced (by another process) with this content. */
  refresh(entry: IndexEntry, meta: StoredMeta, bytes: number, mtimeMs: number): void {
    if (this.byKey.get(entry.key) === entry) this.bytes += bytes - entry.bytes;
    entry.meta = meta;
    entry.bytes = bytes;
    entry.mtimeMs = mtimeMs;
  }

  /** Removes and returns the least recently used entries until the total fits `maxSize`. */
  overflow(maxSize: number): IndexEntry[] {
    const out: IndexEntry[] = [];
    for (const entry of this.byKey.values()) {
      if (this.bytes <= maxSize) break;
      this.forget(entry);
      out.push(entry);
    }
    return out;
  }

  /**
   * Adds entries a directory walk found (unknown keys only), in order of their last access
   * among the known ones: appended when all are newer (the usual case: other workers' fresh
   * writes), merged otherwise (the start-up scan).
   */
  adopt(found: IndexEntry[]): void {
    const fresh = found.filter((e) => !this.byKey.has(e.key));
    if (fresh.length === 0) return;
    fresh.sort((x, y) => x.lastAccess - y.lastAccess);
    if (fresh[0].lastAccess >= this.newestAccess) {
      for (const e of fresh) this.insert(e);
      return;
    }
    const known = [...this.byKey.values()];
    this.byKey.clear();
    this.byHash.clear();
    this.bytes = 0;
    let i = 0;
    let j = 0;
    while (i < known.length || j < fresh.length) {
      if (j >= fresh.length || (i < known.length && known[i].lastAccess <= fresh[j].lastAccess)) this.insert(known[i++]);
      else this.insert(fresh[j++]);
    }
  }
}
