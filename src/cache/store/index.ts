/**
 * The cache stores (STYLE habit 3: one interface, implementations chosen by config) and the one
 * place that builds the configured one.
 */
import type { CacheStore } from '../types.js';
import { DiskStore } from './disk-store.js';
import { MemoryStore } from './memory-store.js';
import { TieredStore } from './tiered-store.js';

export { DiskStore, type DiskStoreOptions } from './disk-store.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { TieredStore } from './tiered-store.js';

export interface StoreConfig {
  memory: { maxSize: number; maxObjectSize: number };
  /**
   * A directory shared by the workers; without it the cache lives in memory only. `maxObjectSize`
   * (default maxSize / 8) is set for the node's own tier (node-tier.ts) to the memory tier's.
   */
  disk?: { path: string; maxSize: number; maxObjectSize?: number };
}

/** Memory only, or memory over disk. */
export function createStore(config: StoreConfig): CacheStore {
  const memory = new MemoryStore(config.memory);
  if (config.disk === undefined) return memory;
  // A disk hit whose body the memory tier would take comes back whole, so it is kept in memory and
  // the next hits read no file (a shared tier's 100 KiB hits read one each time otherwise).
  const disk = new DiskStore({ path: config.disk.path, maxSize: config.disk.maxSize, maxObjectSize: config.disk.maxObjectSize, smallBodySize: config.memory.maxObjectSize });
  return new TieredStore(memory, disk);
}
