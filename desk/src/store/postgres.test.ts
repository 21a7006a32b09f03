import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { storeContract } from './contract.js';
import { MIGRATIONS } from './migrations.js';
import { openStore } from './open.js';
import { PostgresStore } from './postgres.js';

/** Every migration, in order, once. */
const APPLIED = MIGRATIONS.map(({ version, name }) => ({ version, name }));

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

storeContract('postgres', async () => openStore(await server.createSchema()));

describe('PostgresStore', () => {
  it('works in the schema its URL names (each test store is isolated)', async () => {
    const [a, b] = [(await openStore(await server.createSchema())) as PostgresStore, (await openStore(await server.createSchema())) as PostgresStore];
    try {
      const schemaOf = async (s: PostgresStore) => (await s.pool.query('SELECT current_schema() AS s')).rows[0].s as string;
      expect(await schemaOf(a)).not.toBe(await schemaOf(b));
      await a.createWorkspace({ id: 'w_iso', name: 'I', allowedOrigins: [], emailDomain: 'd.example', webhookSecret: 'x' });
      expect(await b.getWorkspace('w_iso')).toBeUndefined();
      expect(await a.getWorkspace('w_iso')).toBeDefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('records its migrations, and nodes migrating one database together apply each step once', async () => {
    const url = await server.createSchema();
    const nodes = [new PostgresStore(url), new PostgresStore(url), new PostgresStore(url)];
    try {
      await Promise.all(nodes.map((s) => s.migrate()));
      const rows = (await nodes[0]!.pool.query('SELECT version, name FROM schema_migrations ORDER BY version')).rows;
      expect(rows).toEqual(APPLIED);
    } finally {
      await Promise.all(nodes.map((s) => s.close()));
    }
  });

  it('gives consecutive seqs to appends from several nodes (pools) at once', async () => {
    const url = await server.createSchema();
    const [a, b] = [await openStore(url), await openStore(url)];
    try {
      await a.createWorkspace({ id: 'w_multi', name: 'M', allowedOrigins: [], emailDomain: 'd.example', webhookSecret: 'x' });
      const v = await a.createVisitor({ workspaceId: 'w_multi', token: 't', meta: {} });
      const [c1, c2] = await Promise.all([a.openConversation('w_multi', v.id), b.openConversation('w_multi', v.id)]);
      expect(c1.id).toBe(c2.id);
      const author = { kind: 'visitor' as const, id: v.id, name: 'V' };
      const sends = Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).appendMessage({ conversationId: c1.id, clientId: `k${i % 40}`, author, body: '.' }));
      const results = await Promise.all(sends);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(40); // 20 clientIds sent twice, once per node
      expect((await b.messagesAfter(c1.id, 0)).map((m) => m.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('reads BIGINT times as numbers', async () => {
    const store = (await openStore(await server.createSchema())) as PostgresStore;
    try {
      const ws = await store.createWorkspace({ id: 'w_t', name: 'T', allowedOrigins: [], emailDomain: 'd.example', webhookSecret: 'x' });
      expect(typeof ws.createdAt).toBe('number');
      expect((await store.pool.query('SELECT created_at FROM workspaces')).rows[0].created_at).toBe(ws.createdAt);
    } finally {
      await store.close();
    }
  });
});
