import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { storeContract } from './contract.js';
import { MIGRATIONS } from './migrations.js';
import { openStore, sqlitePath } from './open.js';
import type { SqliteStore } from './sqlite.js';

/** Every migration, in order, once. */
const APPLIED = MIGRATIONS.map(({ version, name }) => ({ version, name }));

const dir = mkdtempSync(join(tmpdir(), 'desk-sqlite-'));
let files = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite :memory:', () => openStore('sqlite::memory:'));
storeContract('sqlite file (WAL)', () => openStore(`sqlite:${join(dir, `contract-${++files}.db`)}`));

describe('SqliteStore', () => {
  it('runs a file in WAL mode with foreign keys on, and records its migrations', async () => {
    const store = (await openStore(`sqlite:${join(dir, 'pragmas', 'desk.db')}`)) as SqliteStore; // creates the directory
    try {
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(store.db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual(APPLIED);
      await store.migrate();
      expect(store.db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: MIGRATIONS.length });
    } finally {
      await store.close();
    }
  });

  it('shares one file between two stores (two processes would): seqs stay consecutive', async () => {
    const url = `sqlite:${join(dir, 'shared.db')}`;
    const [a, b] = await Promise.all([openStore(url), openStore(url)]);
    try {
      await a.createWorkspace({ id: 'w_shared', name: 'S', allowedOrigins: [], emailDomain: 'd.example', webhookSecret: 'x' });
      const v = await a.createVisitor({ workspaceId: 'w_shared', token: 't', meta: {} });
      const conv = await b.openConversation('w_shared', v.id);
      const author = { kind: 'visitor' as const, id: v.id, name: 'V' };
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).appendMessage({ conversationId: conv.id, clientId: `k${i}`, author, body: '.' })));
      expect((await a.messagesAfter(conv.id, 0)).map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('SqliteStore appends', () => {
  it('writes the appends of one tick together: in order, one that fails fails alone; a close writes what is queued', async () => {
    const store = (await openStore(`sqlite:${join(dir, 'batch.db')}`)) as SqliteStore;
    await store.createWorkspace({ id: 'w_batch', name: 'B', allowedOrigins: [], emailDomain: 'b.example', webhookSecret: 'x' });
    const v = await store.createVisitor({ workspaceId: 'w_batch', token: 'tb', meta: {} });
    const conv = await store.openConversation('w_batch', v.id);
    const author = { kind: 'visitor' as const, id: v.id, name: 'V' };
    const sends = Array.from({ length: 50 }, (_, i) => store.appendMessage({ conversationId: i === 25 ? 'c_unknown' : conv.id, clientId: `kb${i}`, author, body: `m${i}` }));
    const results = await Promise.allSettled(sends);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect((results[25] as PromiseRejectedResult).reason.message).toMatch(/c_unknown/);
    expect((await store.messagesAfter(conv.id, 0)).map((m) => m.seq)).toEqual(Array.from({ length: 49 }, (_, i) => i + 1));
    // Queued, then closed at once: written, not lost.
    const late = store.appendMessage({ conversationId: conv.id, clientId: 'k_late', author, body: 'late' });
    await store.close();
    expect((await late).message.seq).toBe(50);
    const reopened = await openStore(`sqlite:${join(dir, 'batch.db')}`);
    expect((await reopened.messagesAfter(conv.id, 49)).map((m) => m.body)).toEqual(['late']);
    await reopened.close();
  });
});

describe('SqliteStore search index', () => {
  it('queues what is written, indexes it in batches every second, and before any search', async () => {
    const store = (await openStore(`sqlite:${join(dir, 'search-queue.db')}`)) as SqliteStore;
    try {
      await store.createWorkspace({ id: 'w_q', name: 'Q', allowedOrigins: [], emailDomain: 'q.example', webhookSecret: 'x' });
      const v = await store.createVisitor({ workspaceId: 'w_q', token: 'tq', meta: {} });
      const conv = await store.openConversation('w_q', v.id);
      const author = { kind: 'visitor' as const, id: v.id, name: 'V' };
      const queued = () => (store.db.prepare('SELECT COUNT(*) AS n FROM messages_search_queue').get() as { n: number }).n;
      const indexed = () => (store.db.prepare('SELECT COUNT(*) AS n FROM messages_search').get() as { n: number }).n;
      await Promise.all(['parcel lost', 'parcel found', 'refund please'].map((body, i) => store.appendMessage({ conversationId: conv.id, clientId: `kq${i}`, author, body })));
      expect([queued(), indexed()]).toEqual([3, 0]);
      // A search first indexes what is queued: nothing written is missed.
      expect((await store.searchMessages('w_q', 'parcel', 10)).map((m) => m.body).sort()).toEqual(['parcel found', 'parcel lost']);
      expect([queued(), indexed()]).toEqual([0, 3]);
      await store.appendMessage({ conversationId: conv.id, clientId: 'kq9', author, body: 'parcel again' });
      expect(queued()).toBe(1);
      await new Promise((r) => setTimeout(r, 1500));
      expect([queued(), indexed()]).toEqual([0, 4]);
      expect(store.indexSearch()).toBe(0);
    } finally {
      await store.close();
    }
  });
});

describe('openStore', () => {
  it('reads sqlite URLs', () => {
    expect(sqlitePath('sqlite::memory:')).toBe(':memory:');
    expect(sqlitePath('sqlite:data/desk.db')).toBe('data/desk.db');
    expect(sqlitePath('sqlite:///var/lib/desk.db')).toBe('/var/lib/desk.db');
    expect(() => sqlitePath('sqlite:')).toThrow(/without a path/);
  });

  it('refuses other URLs, without echoing a password', async () => {
    await expect(openStore('mysql://root:hunter2@db/desk')).rejects.toThrow(/unsupported store URL "mysql:\/\/root:\*\*\*@db\/desk"/);
  });
});
