/**
 * Cross-node fan-out through a shared SQLite file, for nodes on one machine without Redis (the
 * `npm start` demo: two regions on a laptop). Same messages as the Redis fan-out (fanout.ts),
 * carried by a log table instead of a channel: a node publishes by appending a row, and reads the
 * rows after the last one it saw every `pollMs` (25 ms: a poll is one indexed query on a WAL
 * database, a few microseconds when there is nothing new). Rows older than a minute are pruned by
 * whichever node gets there first: a node that was away longer catches up from the messages
 * table like it does after a Redis outage.
 *
 * Across machines SQLite is not an option anyway (one file); Redis is the fan-out there.
 */
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { CHANNEL_PREFIX, parseMessage, type Fanout, type FanoutMessage } from './fanout.js';

export interface SqliteFanoutOptions {
  /** The database file the nodes share (not `:memory:`, which no other process sees). */
  path: string;
  nodeId: string;
  log: Logger;
  onMessage(msg: FanoutMessage): void;
  onHealth(up: boolean): void;
  pollMs?: number;
}

const KEEP_MS = 60_000;
const PRUNE_EVERY_MS = 10_000;
const BATCH = 1000;

export function sqliteFanout(opts: SqliteFanoutOptions): Fanout {
  const { nodeId, log } = opts;
  if (opts.path === ':memory:') throw new TypeError('the database fan-out needs a database file that the nodes share, not :memory:');
  const db = new Database(opts.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 2000');
  db.exec('CREATE TABLE IF NOT EXISTS fanout_log (id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, channel TEXT NOT NULL, body TEXT NOT NULL, at INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO fanout_log (origin, channel, body, at) VALUES (?, ?, ?, ?)');
  const after = db.prepare('SELECT id, origin, channel, body FROM fanout_log WHERE id > ? ORDER BY id LIMIT ?');
  const prune = db.prepare('DELETE FROM fanout_log WHERE at < ?');
  let last = (db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM fanout_log').get() as { id: number }).id;
  let up = true;
  let lastPrune = 0;
  let lastErrorLog = 0;

  const setUp = (now: boolean, err?: unknown): void => {
    if (err && Date.now() - lastErrorLog > 10_000) {
      lastErrorLog = Date.now();
      log.warn({ err }, 'desk fan-out: database error');
    }
    if (now === up) return;
    up = now;
    if (up) log.info('desk fan-out through the database back');
    else log.warn('desk fan-out through the database down; serving local sockets only');
    opts.onHealth(up);
  };

  const poll = (): void => {
    let rows: { id: number; origin: string; channel: string; body: string }[];
    try {
      rows = after.all(last, BATCH) as typeof rows;
      const now = Date.now();
      if (now - lastPrune > PRUNE_EVERY_MS) {
        lastPrune = now;
        prune.run(now - KEEP_MS);
      }
    } catch (err) {
      setUp(false, err);
      return;
    }
    setUp(true);
    for (const row of rows) {
      last = row.id;
      if (row.origin === nodeId) continue;
      const msg = parseMessage(row.channel, row.body);
      if (!msg) continue;
      try {
        opts.onMessage(msg);
      } catch (err) {
        log.error({ err }, 'desk fan-out: delivery failed');
      }
    }
    // A full batch means more are waiting: read on without waiting for the next tick.
    if (rows.length === BATCH) setImmediate(poll);
  };
  const timer = setInterval(poll, opts.pollMs ?? 25);
  timer.unref();
  log.info({ path: opts.path }, 'desk fan-out through the database');
  queueMicrotask(() => opts.onHealth(true));

  return {
    configured: true,
    healthy: () => up,
    publish(workspace, payload) {
      try {
        insert.run(nodeId, CHANNEL_PREFIX + workspace, JSON.stringify({ origin: nodeId, workspace, ...payload }), Date.now());
      } catch (err) {
        setUp(false, err);
      }
    },
    async close() {
      clearInterval(timer);
      db.close();
    },
  };
}
