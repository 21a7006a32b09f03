/**
 * The on-disk cache store: one file per key under a directory (format in disk-format.ts), kept
 * across restarts and shared by every worker of the edge that opens the same directory.
 *
 * Sharing. The files are the truth; each process keeps only an index (key → metadata, size, last
 * access) to account bytes, order eviction and answer `list`. A `get` always goes to the file, so
 * it finds an entry another worker wrote and adopts it into the index; a miss (ENOENT) drops a
 * stale index entry. Writers rename a finished temp file over the final name, so readers see the
 * old file or the new one, never half of one; the last writer of a key wins. A large body streams
 * from the descriptor `get` opened, so a rename or eviction meanwhile does not cut a response.
 *
 * Bound. Each process evicts least recently used files when its own writes take its view of the
 * directory past `maxSize`, and every `rescanMs` (30 s) it walks the directory to learn the files
 * other workers wrote or removed, then evicts again. So the directory holds at most `maxSize`,
 * plus what other workers wrote since this one's last rescan, plus temp files being written
 * (each at most `maxObjectSize`, default maxSize / 8). Recency is per process (a hit in one
 * worker does not reorder another's index); hits also refresh a file's atime (at most once a
 * minute per entry) so a restart orders the files by last use. The walk stats every file, which
 * is fine for hundreds of thousands of entries, not for tens of millions.
 *
 * Failure. Nothing throws into the request path. A corrupted file (bad header, truncated, wrong
 * name) is a miss and is removed. A write that fails (directory that cannot be created, ENOSPC,
 * EIO, EROFS…) aborts its entry and sets `failure` to the reason; `put` then returns undefined,
 * letting one write through every `retryMs` (30 s) to see whether the disk recovered, and a
 * write that succeeds clears `failure`. Read errors are misses.
 *
 * Temp files of a crashed writer (dead pid, or this pid but no live store instance, or older than
 * an hour) are removed by the start-up scan and the periodic ones.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { mkdir, open, rename, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CacheStore, KeyFilter, StoredEntry, StoredMeta, StoreWriter } from '../types.js';
import { bodyOpener } from './disk-body.js';
import { copyRange, eachLimited, listDir, processAlive, readFully, readMeta } from './disk-files.js';
import { decodeMeta, encodeHead, entryPath, hashKey, HEADER_BYTES, isEntryName, parseTempName, readMetaLength, tempName } from './disk-format.js';
import { DiskIndex, type IndexEntry } from './disk-index.js';
import { DiskWriter, type DiskWriterHost } from './disk-writer.js';
import { knownSize, matchesFilter } from './key-filter.js';

export interface DiskStoreOptions {
  /** The directory (created if missing). */
  path: string;
  /** Bytes of files kept at most (see the bound above). */
  maxSize: number;
  /** Largest body taken; default maxSize / 8. */
  maxObjectSize?: number;
  /** Bodies up to this size come back as a Buffer, larger ones as a range stream; default 64 KiB. */
  smallBodySize?: number;
  /** Period of the directory walk; default 30 s. */
  rescanMs?: number;
  /** While failing, one write is tried this often; default 30 s. */
  retryMs?: number;
  now?: () => number;
}

const SMALL_BODY = 64 * 1024;
const TOUCH_MS = 60_000;
const STALE_TEMP_MS = 3_600_000;
const BODY_IDLE_MS = 30_000;
const WALK_CONCURRENCY = 16;
const FAN_OUT = /^[0-9a-f]{2}$/;
/** Store instances open in this process, by the id in their temp file names. */
const liveInstances = new Set<string>();

export class DiskStore implements CacheStore, DiskWriterHost {
  readonly name = 'disk';
  readonly root: string;
  readonly maxSize: number;
  readonly maxObjectSize: number;
  /** Resolves when the start-up scan has rebuilt the index. */
  readonly ready: Promise<void>;
  private readonly smallBody: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private readonly index = new DiskIndex();
  private reason: string | undefined;
  private retryAt = 0;
  private readonly dirs = new Set<string>();
  /** Hashes of evicted files whose unlink is under way: misses, not to be adopted again. */
  private readonly evicting = new Set<string>();
  private walking: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly work = new Set<Promise<unknown>>();
  private readonly instance = randomBytes(4).toString('hex');
  private seq = 0;
  private closed = false;

  constructor(options: DiskStoreOptions) {
    this.root = options.path;
    this.maxSize = options.maxSize;
    this.maxObjectSize = Math.min(options.maxObjectSize ?? Math.floor(options.maxSize / 8), options.maxSize);
    this.smallBody = options.smallBodySize ?? SMALL_BODY;
    this.retryMs = options.retryMs ?? 30_000;
    this.now = options.now ?? Date.now;
    liveInstances.add(this.instance);
    this.probe();
    this.ready = this.rescan();
    void this.ready.then(
      () => {
        this.scanned = true;
      },
      () => {
        this.scanned = true;
      },
    );
    this.timer = setInterval(() => void this.rescan(), options.rescanMs ?? 30_000);
    this.timer.unref();
  }

  get failure(): string | undefined {
    return this.reason;
  }

  async get(key: string): Promise<StoredEntry | undefined> {
    const known = this.index.get(key);
    const hash = known?.hash ?? hashKey(key);
    if (this.evicting.has(hash)) return undefined;
    const path = entryPath(this.root, hash);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch {
      if (known !== undefined) this.index.forget(known);
      return undefined;
    }
    let keepOpen = false;
    try {
      const st = await fh.stat();
      // A small file in one read; of a large one only the head (8 KiB holds most metadata).
      let head = await readFully(fh, st.size <= this.smallBody + 8192 ? st.size : 8192);
      const metaLength = readMetaLength(head);
      const headBytes = HEADER_BYTES + (metaLength ?? 0);
      const bodyBytes = st.size - headBytes;
      const want = bodyBytes <= this.smallBody ? st.size : headBytes;
      if (metaLength !== undefined && bodyBytes >= 0 && head.length < want) head = await readFully(fh, want);
      const meta = metaLength === undefined || head.length < want ? undefined : decodeMeta(head, st.size, hash);
      if (meta === undefined || meta.key !== key) {
        await this.removeCorrupt(path, st);
        return undefined;
      }
      this.seen(meta, hash, st);
      if (bodyBytes <= this.smallBody) return { meta, body: head.subarray(headBytes, st.size) };
      keepOpen = true;
      return { meta, body: bodyOpener(fh, path, st.ino, headBytes, bodyBytes, BODY_IDLE_MS) };
    } catch {
      return undefined;
    } finally {
      if (!keepOpen) await fh.close().catch(() => {});
    }
  }

  put(meta: StoredMeta): StoreWriter | undefined {
    if (this.closed) return undefined;
    if (knownSize(meta.size) && meta.size > this.maxObjectSize) return undefined;
    if (this.reason !== undefined) {
      // Failing: one write per retry period finds out whether the disk recovered.
      if (this.now() < this.retryAt) return undefined;
      this.retryAt = this.now() + this.retryMs;
    }
    const hash = hashKey(meta.key);
    const path = entryPath(this.root, hash);
    const temp = join(dirname(path), tempName(hash, process.pid, this.instance, ++this.seq));
    return new DiskWriter(this, meta, hash, path, temp);
  }

  async update(meta: StoredMeta): Promise<boolean> {
    const hash = hashKey(meta.key);
    const path = entryPath(this.root, hash);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch {
      this.index.forgetKey(meta.key);
      return false;
    }
    const temp = join(dirname(path), tempName(hash, process.pid, this.instance, ++this.seq));
    let out: FileHandle | undefined;
    try {
      const st = await fh.stat();
      const old = await readMeta(fh, st.size, hash);
      if (old === undefined || old.meta.key !== meta.key) {
        await this.removeCorrupt(path, st);
        return false;
      }
      const next = { ...meta, size: old.meta.size };
      const head = encodeHead(next);
      out = await open(temp, 'wx');
      await out.write(head, 0, head.length, 0);
      await copyRange(fh, old.headBytes, out, head.length, old.meta.size);
      await out.close();
      out = undefined;
      await rename(temp, path);
      this.committed(hash, next, head.length + next.size);
      return true;
    } catch (err) {
      if (out !== undefined) await out.close().catch(() => {});
      await unlink(temp).catch(() => {});
      this.failed(err as NodeJS.ErrnoException);
      return false;
    } finally {
      await fh.close().catch(() => {});
    }
  }

  async delete(key: string): Promise<boolean> {
    const entry = this.index.get(key);
    const path = entryPath(this.root, entry?.hash ?? hashKey(key));
    this.index.forgetKey(key);
    try {
      await unlink(path);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * `delete`, done before it returns (one unlink on the event loop): an invalidation that must be
   * gone from the shared directory before its response leaves (RFC 9111 §4.4, tiered-store.ts).
   */
  deleteNow(key: string): boolean {
    const entry = this.index.get(key);
    const path = entryPath(this.root, entry?.hash ?? hashKey(key));
    this.index.forgetKey(key);
    try {
      unlinkSync(path);
      return true;
    } catch {
      return false;
    }
  }

  async *list(filter: KeyFilter): AsyncIterable<StoredMeta> {
    // Learn the files other workers wrote or removed first: a purge must reach them too.
    await this.rescan();
    const metas: StoredMeta[] = [];
    for (const entry of this.index.values()) if (matchesFilter(entry.meta, filter)) metas.push(entry.meta);
    yield* metas;
  }

  usage(): { bytes: number; entries: number } {
    return { bytes: this.index.bytes, entries: this.index.size };
  }

  /**
   * Whether this process knows a file for `key`: one it wrote, read, or found in a directory walk.
   * Another worker's new file is unknown until a walk or a read; the tiered store asks this to
   * spare a miss the failed open().
   */
  knows(key: string): boolean {
    // Until the start-up scan has rebuilt the index, every key may be on disk.
    return !this.scanned || this.index.get(key) !== undefined;
  }

  private scanned = false;

  /** Marks an entry used without reading it (the tiered store's memory hits). */
  touch(key: string): void {
    const entry = this.index.get(key);
    if (entry !== undefined) this.use(entry);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    liveInstances.delete(this.instance);
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  // --- DiskWriterHost -------------------------------------------------------------------------

  /** @internal */
  async ensureDir(dir: string): Promise<void> {
    if (this.dirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.dirs.add(dir);
  }

  /** @internal */
  committed(hash: string, meta: StoredMeta, bytes: number): void {
    this.reason = undefined;
    this.evicting.delete(hash);
    const now = this.now();
    this.index.insert({ key: meta.key, hash, meta, bytes, mtimeMs: NaN, lastAccess: now, touchedAt: now, since: now });
    this.evict();
  }

  /** @internal */
  failed(err: NodeJS.ErrnoException): void {
    if (err.code === 'ENOENT') {
      // A directory or temp file removed under us (another worker's cleanup): this entry is lost,
      // the disk is not failing.
      this.dirs.clear();
      return;
    }
    this.reason = `disk store ${this.root}: ${err.message}`;
    this.retryAt = this.now() + this.retryMs;
  }

  /** @internal */
  track(work: Promise<unknown>): void {
    this.work.add(work);
    const done = () => this.work.delete(work);
    work.then(done, done);
  }

  // --- index ----------------------------------------------------------------------------------

  /** A file read by `get`: adopt it, or refresh what the index knew of it, and mark it used. */
  private seen(meta: StoredMeta, hash: string, st: Stats): void {
    const entry = this.index.get(meta.key);
    if (entry === undefined) {
      const now = this.now();
      this.index.insert({ key: meta.key, hash, meta, bytes: st.size, mtimeMs: st.mtimeMs, lastAccess: now, touchedAt: Math.max(st.atimeMs, st.mtimeMs), since: now });
      return;
    }
    if (entry.mtimeMs !== st.mtimeMs || entry.bytes !== st.size) this.index.refresh(entry, meta, st.size, st.mtimeMs);
    this.use(entry);
  }

  private use(entry: IndexEntry): void {
    const now = this.now();
    this.index.use(entry, now);
    if (now - entry.touchedAt > TOUCH_MS) {
      entry.touchedAt = now;
      // atime records the use for a restart's scan; mtime stays, it tells a replaced file apart.
      const mtime = Number.isNaN(entry.mtimeMs) ? now / 1000 : entry.mtimeMs / 1000;
      this.track(utimes(entryPath(this.root, entry.hash), now / 1000, mtime).catch(() => {}));
    }
  }

  private evict(): void {
    for (const { hash } of this.index.overflow(this.maxSize)) {
      this.evicting.add(hash);
      this.track(
        unlink(entryPath(this.root, hash))
          .catch(() => {})
          .finally(() => this.evicting.delete(hash)),
      );
    }
  }

  private async removeCorrupt(path: string, st: Stats): Promise<void> {
    // Only the file we read: another worker may have renamed a good one over it meanwhile.
    const now = await stat(path).catch(() => undefined);
    if (now?.ino === st.ino && now.dev === st.dev) await unlink(path).catch(() => {});
    const entry = this.index.byFile(path.slice(-64));
    if (entry !== undefined) this.index.forget(entry);
  }

  /** Sets `failure` at once when the directory cannot be created or written. */
  private probe(): void {
    try {
      mkdirSync(this.root, { recursive: true });
      const file = join(this.root, `.probe.${process.pid}.${this.instance}`);
      writeFileSync(file, '');
      unlinkSync(file);
    } catch (err) {
      this.failed(err as NodeJS.ErrnoException);
    }
  }

  // --- the directory walk ---------------------------------------------------------------------

  /** Walks the directory (one walk at a time; callers share it), then evicts. */
  private rescan(): Promise<void> {
    if (this.walking === undefined) {
      this.walking = this.walk().finally(() => {
        this.walking = undefined;
      });
      this.track(this.walking);
    }
    return this.walking;
  }

  private async walk(): Promise<void> {
    const started = this.now();
    const present = new Set<string>();
    const found: IndexEntry[] = [];
    for (const a of await listDir(this.root)) {
      if (!FAN_OUT.test(a)) continue;
      for (const b of await listDir(join(this.root, a))) {
        if (!FAN_OUT.test(b)) continue;
        const dir = join(this.root, a, b);
        const names = await listDir(dir);
        await eachLimited(names, WALK_CONCURRENCY, (name) => this.visit(dir, name, present, found));
        if (this.closed) return;
      }
    }
    for (const entry of this.index.values()) {
      if (!present.has(entry.hash) && entry.since < started) this.index.forget(entry);
    }
    this.index.adopt(found);
    this.evict();
  }

  private async visit(dir: string, name: string, present: Set<string>, found: IndexEntry[]): Promise<void> {
    const path = join(dir, name);
    if (!isEntryName(name)) {
      if (name.endsWith('.tmp')) await this.removeStaleTemp(path, name);
      return;
    }
    if (this.evicting.has(name)) return;
    const st = await stat(path).catch(() => undefined);
    if (st === undefined || !st.isFile()) return;
    present.add(name);
    const known = this.index.byFile(name);
    if (known !== undefined && known.bytes === st.size && known.mtimeMs === st.mtimeMs) return;
    const fh = await open(path, 'r').catch(() => undefined);
    if (fh === undefined) return;
    let read: { meta: StoredMeta; headBytes: number } | undefined;
    try {
      read = await readMeta(fh, st.size, name);
    } catch {
      return; // read error: leave it for the next walk
    } finally {
      await fh.close().catch(() => {});
    }
    if (read === undefined) {
      present.delete(name);
      await this.removeCorrupt(path, st);
      return;
    }
    const current = this.index.byFile(name);
    if (current !== undefined) {
      // Replaced by another worker since we knew it.
      this.index.refresh(current, read.meta, st.size, st.mtimeMs);
      return;
    }
    const lastAccess = Math.max(st.atimeMs, st.mtimeMs);
    found.push({ key: read.meta.key, hash: name, meta: read.meta, bytes: st.size, mtimeMs: st.mtimeMs, lastAccess, touchedAt: lastAccess, since: this.now() });
  }

  private async removeStaleTemp(path: string, name: string): Promise<void> {
    const st = await stat(path).catch(() => undefined);
    if (st === undefined) return;
    const owner = parseTempName(name);
    const stale = this.now() - st.mtimeMs > STALE_TEMP_MS || (owner !== undefined && (owner.pid === process.pid ? !liveInstances.has(owner.instance) : !processAlive(owner.pid)));
    if (stale) await unlink(path).catch(() => {});
  }
}
