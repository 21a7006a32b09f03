/**
 * What a KeyFilter selects, and a rough memory footprint of a stored entry's metadata: shared by
 * every store so they agree on both.
 */
import type { KeyFilter, StoredMeta } from '../types.js';

/** True when the entry matches every field the filter sets (AND); an empty filter matches all. */
export function matchesFilter(meta: StoredMeta, filter: KeyFilter): boolean {
  if (filter.prefix !== undefined && !meta.key.startsWith(filter.prefix)) return false;
  if (filter.host !== undefined && meta.host !== filter.host) return false;
  if (filter.tag !== undefined && !meta.tags.includes(filter.tag)) return false;
  return true;
}

/**
 * Estimated bytes the metadata of one entry holds in memory: the strings it carries plus a fixed
 * allowance for the object shapes around them. Counted against a memory store's `maxSize` so a
 * cache of many tiny bodies cannot hold unbounded headers.
 */
export function metaFootprint(meta: StoredMeta): number {
  let bytes = 256 + meta.key.length + meta.url.length + meta.host.length;
  for (const name in meta.headers) bytes += 48 + name.length + meta.headers[name].length;
  for (const tag of meta.tags) bytes += 32 + tag.length;
  for (const name of meta.vary) bytes += 32 + name.length;
  return bytes;
}

/** A declared body size that is a real number (a stream of unknown length may declare NaN or -1). */
export function knownSize(size: number): boolean {
  return Number.isFinite(size) && size >= 0;
}
