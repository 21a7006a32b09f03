/**
 * Desk's storage: the DeskStore interface (types.ts) and `openStore`, which picks SQLite
 * (sqlite.ts) or PostgreSQL (postgres.ts) by URL and migrates. The two classes are imported from
 * their own files, so that importing this one loads neither driver.
 */
export * from './types.js';
export { openStore, sqlitePath } from './open.js';
export { StoreNotFoundError } from './errors.js';
export { MIGRATIONS, type Dialect, type Migration } from './migrations.js';
