/**
 * The store named by a URL, migrated: `sqlite:<path>` (`sqlite::memory:` for a throwaway one,
 * `sqlite:///abs/path` also accepted) or `postgres://…` / `postgresql://…`. Each driver is loaded
 * only when its URL is used.
 */
import type { DeskStore } from './types.js';

export async function openStore(url: string): Promise<DeskStore> {
  const store = await storeFor(url);
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}

async function storeFor(url: string): Promise<DeskStore> {
  if (url.startsWith('sqlite:')) {
    const { SqliteStore } = await import('./sqlite.js');
    return new SqliteStore(sqlitePath(url));
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { PostgresStore } = await import('./postgres.js');
    return new PostgresStore(url);
  }
  throw new TypeError(`unsupported store URL ${JSON.stringify(redact(url))}: use sqlite:<path>, sqlite::memory: or postgres://…`);
}

/** `sqlite:data/desk.db` → `data/desk.db`; `sqlite:///var/desk.db` → `/var/desk.db`; `sqlite::memory:` → `:memory:`. */
export function sqlitePath(url: string): string {
  const rest = url.slice('sqlite:'.length);
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  if (path === '') throw new TypeError('sqlite: URL without a path (use sqlite::memory: for an in-memory store)');
  return path;
}

/** A URL fit for an error message: no password. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
