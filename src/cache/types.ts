/**
 * The shapes the cache's parts agree on: what a stored response carries (the store keeps it as
 * opaque metadata beside the body), and the store interface every store implements (STYLE habit 3).
 *
 * The policy (pure RFC 9111 logic, src/cache/policy/) decides at fill time how long a response
 * stays fresh and what it may be used for, and writes that into the metadata, so a hit only
 * compares numbers and never parses a header again.
 */
import type { Readable } from 'node:stream';

/** One stored response: everything but the body. Serializable as JSON (the disk store writes it). */
export interface StoredMeta {
  /** The store key (primary key, plus the Vary secondary key when the response varies). */
  key: string;
  /** The request URL the response answered (`https://host/path?query`), for purge by URL/prefix/host. */
  url: string;
  /** Lowercase host, for purge by hostname. */
  host: string;
  status: number;
  /**
   * Response headers as sent to clients from this entry: lowercase names, hop-by-hop fields,
   * Set-Cookie, Age and the edge's own fields removed; a field seen twice is joined with ", ".
   */
  headers: Record<string, string>;
  /** ms since epoch: when the request that produced this response was sent (RFC 9111 §4.2.3 request_time). */
  requestTime: number;
  /** ms since epoch: when the response arrived (RFC 9111 §4.2.3 response_time). */
  responseTime: number;
  /** Age the response already had when it arrived, in seconds (§4.2.3 corrected_initial_age). */
  initialAge: number;
  /** Freshness lifetime in seconds, decided at fill time (origin headers, rule edge TTL, defaults). */
  lifetime: number;
  /** Seconds past `lifetime` during which a stale copy may be served while one request refreshes it (RFC 5861 §3). */
  staleWhileRevalidate: number;
  /** Seconds past `lifetime` during which a stale copy may be served when the origin fails (RFC 5861 §4). */
  staleIfError: number;
  /** must-revalidate / proxy-revalidate / s-maxage: never served stale (RFC 9111 §4.2.4, §5.2.2.2, §5.2.2.8, §5.2.2.10). */
  mustRevalidate: boolean;
  /** no-cache (unqualified): stored, but every use is revalidated first (§5.2.2.4). */
  noCache: boolean;
  /** Request header names the response varies on (lowercase, sorted); `['*']` never matches (§4.1). */
  vary: string[];
  /** Purge tags from the origin's Cache-Tag header (lowercase). */
  tags: string[];
  /** Body length in bytes. */
  size: number;
  /** Set by purge in `invalidate` mode: the entry is stale from then on and is revalidated before use. */
  invalidated?: boolean;
}

/** A stored entry as a store returns it. */
export interface StoredEntry {
  meta: StoredMeta;
  /**
   * The body: whole in memory (memory store, small disk files), or a function that opens a stream
   * of the byte range [start, end] (inclusive; whole body without arguments).
   */
  body: Buffer | ((start?: number, end?: number) => Readable);
}

/** Receives a body while it streams from the origin; nothing is visible to `get` before `end`. */
export interface StoreWriter {
  /** Adds a chunk; false when the object outgrew the store's object size cap (the writer aborted itself). */
  write(chunk: Buffer): boolean;
  /** Commits the entry (replacing any entry under the same key). */
  end(): Promise<void>;
  /** Drops what was written. */
  abort(): void;
}

/** Which keys a purge or an iteration selects; fields combine with AND, none selects everything. */
export interface KeyFilter {
  /** Keys (URLs) starting with this text. */
  prefix?: string;
  /** Entries carrying this tag (lowercase). */
  tag?: string;
  /** Entries of this host (lowercase). */
  host?: string;
}

/** The store contract (one contract test suite runs against every implementation). */
export interface CacheStore {
  readonly name: string;
  get(key: string): Promise<StoredEntry | undefined>;
  /** An entry held in memory, synchronously, when the store has a memory tier (a miss here proves nothing). */
  peek?(key: string): StoredEntry | undefined;
  /** The copy shared by the node's workers (a disk tier), skipping this worker's memory. */
  getShared?(key: string): Promise<StoredEntry | undefined>;
  /** Starts storing an entry; undefined when the store will not take it (declared size over the cap, store failing). */
  put(meta: StoredMeta): StoreWriter | undefined;
  /** Replaces the metadata of an existing entry, body kept (304 merge, purge invalidate); false when absent. */
  update(meta: StoredMeta): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  /** The metadata of every entry the filter selects. */
  list(filter: KeyFilter): AsyncIterable<StoredMeta>;
  /** Bytes and entries held now. */
  usage(): { bytes: number; entries: number };
  /** Set when the store has degraded (disk full, unwritable): it then stores nothing and says why. */
  readonly failure: string | undefined;
  close(): Promise<void>;
}
