/**
 * DeskStore on PostgreSQL (`pg`), for deployments whose Desk nodes share one database. Same
 * schema and semantics as SqliteStore (store/contract.ts runs against both); what differs is how
 * concurrent writers are kept apart, since here they are real:
 *
 * - appendMessage: `UPDATE conversations SET last_seq = last_seq + 1 … RETURNING` takes the
 *   conversation's row lock, so concurrent appends to one conversation get consecutive seqs in
 *   lock order; the insert is `ON CONFLICT DO NOTHING`, and on a conflict (clientId or email
 *   Message-ID already stored) the transaction rolls back, giving the seq back, and the stored
 *   message is returned as a duplicate.
 * - openConversation locks the visitor's row, so two hellos of one visitor open one conversation.
 * - migrate holds an advisory lock, so nodes starting together apply each step once.
 *
 * BIGINT (ms times, counts) is parsed to number: ms epochs stay far below 2^53.
 */
import pg from 'pg';
import { StoreNotFoundError } from './errors.js';
import { newId, newReplyToken } from './ids.js';
import { MIGRATIONS, MIGRATIONS_TABLE, migrationSql } from './migrations.js';
import {
  ATTACHMENT_COLUMNS,
  MESSAGE_COLUMNS,
  attachmentFrom,
  attachmentValues,
  appendFlags,
  appendUpdate,
  summaryQuery,
  cannedFrom,
  conversationFrom,
  dueEmailFrom,
  emailsDueQuery,
  inboxQuery,
  messageFrom,
  messageValues,
  searchWords,
  operatorFrom,
  summaryFrom,
  visitorFrom,
  workspaceFrom,
  type Row,
} from './rows.js';
import type {
  Attachment,
  CannedResponse,
  Conversation,
  ConversationPatch,
  ConversationFilter,
  ConversationSummary,
  DeskStore,
  DueEmail,
  EmailSide,
  Message,
  NewMessage,
  Operator,
  Visitor,
  VisitorPatch,
  Workspace,
} from './types.js';

const INT8_OID = 20;
/** pg_advisory_xact_lock key of Desk's migrations (any constant shared by all nodes). */
const MIGRATION_LOCK = 0x6465736b; // "desk"

const APPEND_UPDATE = appendUpdate((n) => `$${n}`, 'GREATEST');
const SUMMARY = summaryQuery('$1');
const INSERT_MESSAGE = `INSERT INTO messages (${MESSAGE_COLUMNS.join(', ')})
  VALUES (${MESSAGE_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT DO NOTHING RETURNING *`;

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/** Thrown inside appendMessage's transaction to roll it back when the insert hit a stored message. */
class AlreadyStored extends Error {}

/** A visitor's open conversation (the latest, should there be two). */
const OPEN_CONVERSATION = `SELECT * FROM conversations WHERE visitor_id = $1 AND state = 'open' ORDER BY created_at DESC, id LIMIT 1`;

export class PostgresStore implements DeskStore {
  readonly pool: pg.Pool;

  constructor(config: string | pg.PoolConfig) {
    const base: pg.PoolConfig = typeof config === 'string' ? { connectionString: config } : config;
    this.pool = new pg.Pool({ connectionTimeoutMillis: 5_000, max: 10, ...base, types });
    // An idle client losing its server emits here; without a listener that would crash the
    // process. The next query fails and says so (and ping() turns false), which is enough.
    this.pool.on('error', () => {});
  }

  private async one(sql: string, params: unknown[] = []): Promise<Row | undefined> {
    return (await this.pool.query<Row>(sql, params)).rows[0];
  }

  private async many(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query<Row>(sql, params)).rows;
  }

  /** Runs `fn` in a transaction on one client: COMMIT when it returns, ROLLBACK when it throws. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      // A client that cannot even roll back is discarded, not returned to the pool.
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async migrate(): Promise<void> {
    await this.tx(async (c) => {
      // Concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog: lock first.
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query(MIGRATIONS_TABLE);
    });
    for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
      await this.tx(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        if ((await c.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version])).rowCount) return;
        await c.query(migrationSql(m, 'postgres')); // no parameters: the simple protocol runs every statement
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      });
    }
  }

  async close(): Promise<void> {
    if (!this.pool.ended && !this.pool.ending) await this.pool.end();
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.one('SELECT 1 AS ok'))?.ok === 1;
    } catch {
      return false;
    }
  }

  async createWorkspace(w: Omit<Workspace, 'createdAt'>): Promise<Workspace> {
    const row = await this.one(
      `INSERT INTO workspaces (id, name, allowed_origins, email_domain, webhook_secret, identity_secret, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [w.id, w.name, JSON.stringify(w.allowedOrigins), w.emailDomain, w.webhookSecret, w.identitySecret ?? null, Date.now()],
    );
    return workspaceFrom(row!);
  }

  async getWorkspace(id: string): Promise<Workspace | undefined> {
    const row = await this.one('SELECT * FROM workspaces WHERE id = $1', [id]);
    return row && workspaceFrom(row);
  }

  async hasEmailDomain(domain: string): Promise<boolean> {
    return (await this.one('SELECT 1 AS one FROM workspaces WHERE lower(email_domain) = $1 LIMIT 1', [domain.toLowerCase()])) !== undefined;
  }

  async createOperator(o: Omit<Operator, 'id' | 'createdAt'>): Promise<Operator> {
    const row = await this.one(
      `INSERT INTO operators (id, workspace_id, email, name, password_hash, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [newId('o'), o.workspaceId, o.email, o.name, o.passwordHash, Date.now()],
    );
    return operatorFrom(row!);
  }

  async getOperator(id: string): Promise<Operator | undefined> {
    const row = await this.one('SELECT * FROM operators WHERE id = $1', [id]);
    return row && operatorFrom(row);
  }

  async operatorByEmail(email: string): Promise<Operator | undefined> {
    const row = await this.one('SELECT * FROM operators WHERE lower(email) = lower($1)', [email]);
    return row && operatorFrom(row);
  }

  async listOperators(workspaceId: string): Promise<Operator[]> {
    return (await this.many('SELECT * FROM operators WHERE workspace_id = $1 ORDER BY created_at, id', [workspaceId])).map(operatorFrom);
  }

  async createSession(token: string, operatorId: string, expiresAt: number): Promise<void> {
    // Expired sessions are swept here, where sessions are written anyway.
    await this.pool.query('DELETE FROM operator_sessions WHERE expires_at <= $1', [Date.now()]);
    await this.pool.query(
      `INSERT INTO operator_sessions (token, operator_id, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (token) DO UPDATE SET operator_id = excluded.operator_id, expires_at = excluded.expires_at`,
      [token, operatorId, expiresAt],
    );
  }

  async operatorBySession(token: string, now: number): Promise<Operator | undefined> {
    const row = await this.one('SELECT o.* FROM operator_sessions s JOIN operators o ON o.id = s.operator_id WHERE s.token = $1 AND s.expires_at > $2', [token, now]);
    return row && operatorFrom(row);
  }

  async deleteSession(token: string): Promise<void> {
    await this.pool.query('DELETE FROM operator_sessions WHERE token = $1', [token]);
  }

  async createVisitor(v: { workspaceId: string; token: string; meta: Record<string, string> }): Promise<Visitor> {
    const now = Date.now();
    const row = await this.one(
      `INSERT INTO visitors (id, workspace_id, token, meta, created_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $5) RETURNING *`,
      [newId('v'), v.workspaceId, v.token, JSON.stringify(v.meta), now],
    );
    return visitorFrom(row!);
  }

  async visitorByToken(token: string): Promise<Visitor | undefined> {
    const row = await this.one('SELECT * FROM visitors WHERE token = $1', [token]);
    return row && visitorFrom(row);
  }

  async getVisitor(id: string): Promise<Visitor | undefined> {
    const row = await this.one('SELECT * FROM visitors WHERE id = $1', [id]);
    return row && visitorFrom(row);
  }

  async updateVisitor(id: string, patch: VisitorPatch): Promise<Visitor> {
    const verified = patch.emailVerified === undefined ? null : patch.emailVerified ? 1 : 0;
    // SET expressions all read the row as it was: email_verified compares against the old email.
    const row = await this.one(
      `UPDATE visitors SET
         email_verified = CASE WHEN $6::integer IS NOT NULL THEN $6::integer
           WHEN $1::text IS NOT NULL AND $1::text IS DISTINCT FROM email THEN 0 ELSE email_verified END,
         email = COALESCE($1, email), name = COALESCE($2, name), meta = COALESCE($3, meta),
         last_seen_at = COALESCE($4, last_seen_at)
       WHERE id = $5 RETURNING *`,
      [patch.email ?? null, patch.name ?? null, patch.meta === undefined ? null : JSON.stringify(patch.meta), patch.lastSeenAt ?? null, id, verified],
    );
    if (!row) throw new StoreNotFoundError('visitor', id);
    return visitorFrom(row);
  }

  async openConversation(workspaceId: string, visitorId: string, id?: string): Promise<Conversation> {
    // Most hellos are returning visitors with an open conversation: a plain read, no row lock.
    const found = await this.one(OPEN_CONVERSATION, [visitorId]);
    if (found) return conversationFrom(found);
    const row = await this.tx(async (c) => {
      // The visitor's row lock makes "find the open one, else create" atomic per visitor.
      const visitor = await c.query('SELECT 1 FROM visitors WHERE id = $1 FOR NO KEY UPDATE', [visitorId]);
      if (!visitor.rowCount) throw new StoreNotFoundError('visitor', visitorId);
      const existing = await c.query<Row>(OPEN_CONVERSATION, [visitorId]);
      if (existing.rows[0]) return existing.rows[0];
      const now = Date.now();
      const created = await c.query<Row>(
        `INSERT INTO conversations (id, workspace_id, visitor_id, state, reply_token, last_activity_at, created_at)
         VALUES ($1, $2, $3, 'open', $4, $5, $5) RETURNING *`,
        [id ?? newId('c'), workspaceId, visitorId, newReplyToken(), now],
      );
      return created.rows[0]!;
    });
    return conversationFrom(row);
  }

  async getConversation(id: string): Promise<Conversation | undefined> {
    const row = await this.one('SELECT * FROM conversations WHERE id = $1', [id]);
    return row && conversationFrom(row);
  }

  async visitorConversations(visitorId: string, limit: number): Promise<Conversation[]> {
    const rows = await this.many('SELECT * FROM conversations WHERE visitor_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2', [visitorId, Math.max(0, Math.floor(limit))]);
    return rows.map(conversationFrom);
  }

  async conversationByReplyToken(token: string): Promise<Conversation | undefined> {
    const row = await this.one('SELECT * FROM conversations WHERE reply_token = $1', [token]);
    return row && conversationFrom(row);
  }

  async listConversations(workspaceId: string, q: { filter: ConversationFilter; operatorId?: string; limit?: number; now?: number }): Promise<ConversationSummary[]> {
    const { sql, params } = inboxQuery(workspaceId, q, (n) => `$${n}`);
    return (await this.many(sql, params)).map(summaryFrom);
  }

  async updateConversation(id: string, patch: ConversationPatch): Promise<Conversation> {
    // Read marks never move back and never pass the last message.
    const row = await this.one(
      `UPDATE conversations SET
         state = COALESCE($1, state),
         assignee_id = CASE WHEN $2::boolean THEN $3::text ELSE assignee_id END,
         visitor_read_seq = GREATEST(visitor_read_seq, LEAST(COALESCE($4::integer, 0), last_seq)),
         operator_read_seq = GREATEST(operator_read_seq, LEAST(COALESCE($5::integer, 0), last_seq)),
         email_subject = COALESCE($6, email_subject),
         rating = COALESCE($7, rating),
         labels = CASE WHEN $10::boolean THEN $11::text ELSE labels END,
         snoozed_until = CASE WHEN $12::boolean THEN $13::bigint ELSE snoozed_until END,
         last_activity_at = GREATEST(last_activity_at, $8::bigint)
       WHERE id = $9 RETURNING *`,
      [
        patch.state ?? null,
        patch.assigneeId !== undefined,
        patch.assigneeId ?? null,
        patch.visitorReadSeq ?? null,
        patch.operatorReadSeq ?? null,
        patch.emailSubject ?? null,
        patch.rating ?? null,
        Date.now(),
        id,
        patch.labels !== undefined,
        patch.labels?.length ? JSON.stringify(patch.labels) : null,
        patch.snoozedUntil !== undefined,
        patch.snoozedUntil ?? null,
      ],
    );
    if (!row) throw new StoreNotFoundError('conversation', id);
    return conversationFrom(row);
  }

  async appendMessage(m: NewMessage): Promise<{ message: Message; duplicate: boolean; conversation?: Conversation }> {
    try {
      const { row, conv } = await this.tx(async (c) => {
        const now = Date.now();
        const f = appendFlags(m);
        const updated = await c.query<Row>(APPEND_UPDATE, [now, f.visitorRead, f.operatorRead, f.reopen, f.wake, m.conversationId]);
        const conv = updated.rows[0];
        if (!conv) throw new StoreNotFoundError('conversation', m.conversationId);
        const inserted = await c.query<Row>(INSERT_MESSAGE, messageValues(newId('m'), Number(conv.last_seq), m, now));
        if (!inserted.rows[0]) throw new AlreadyStored();
        return { row: inserted.rows[0], conv };
      });
      return { message: messageFrom(row), duplicate: false, conversation: conversationFrom(conv) };
    } catch (err) {
      if (!(err instanceof AlreadyStored)) throw err;
    }
    const stored =
      (await this.one('SELECT * FROM messages WHERE conversation_id = $1 AND client_id = $2', [m.conversationId, m.clientId])) ??
      (m.email ? await this.one('SELECT * FROM messages WHERE email_message_id = $1', [m.email.messageId]) : undefined);
    if (!stored) throw new Error(`message ${m.clientId} conflicted on insert but is not stored`);
    return { message: messageFrom(stored), duplicate: true };
  }

  async wakeSnoozed(now: number): Promise<Conversation[]> {
    return (await this.many('UPDATE conversations SET snoozed_until = NULL WHERE snoozed_until <= $1 RETURNING *', [now])).map(conversationFrom);
  }

  async conversationSummary(id: string): Promise<ConversationSummary | undefined> {
    const row = await this.one(SUMMARY, [id]);
    return row && summaryFrom(row);
  }

  async searchMessages(workspaceId: string, query: string, limit: number): Promise<Message[]> {
    const words = searchWords(query);
    if (!words.length) return [];
    const tsquery = words.map((w, i) => (i === words.length - 1 ? `${w}:*` : w)).join(' & ');
    const rows = await this.many(
      `SELECT m.* FROM messages m JOIN conversations c ON c.id = m.conversation_id
        WHERE c.workspace_id = $1 AND to_tsvector('simple', m.body) @@ to_tsquery('simple', $2)
        ORDER BY m.created_at DESC, m.id DESC LIMIT $3`,
      [workspaceId, tsquery, Math.max(0, Math.floor(limit))],
    );
    return rows.map(messageFrom);
  }

  async messagesAfter(conversationId: string, afterSeq: number, limit = 500): Promise<Message[]> {
    return (await this.many('SELECT * FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [conversationId, afterSeq, Math.max(0, Math.floor(limit))])).map(messageFrom);
  }

  async messageByEmailId(messageId: string): Promise<Message | undefined> {
    const row = await this.one('SELECT * FROM messages WHERE email_message_id = $1', [messageId]);
    return row && messageFrom(row);
  }

  async emailsDue(side: EmailSide, writtenBefore: number, limit = 100): Promise<DueEmail[]> {
    return (
      await this.many(
        emailsDueQuery(side, (n) => `$${n}`),
        [writtenBefore, Math.max(0, Math.floor(limit))],
      )
    ).map(dueEmailFrom);
  }

  async claimEmail(conversationId: string, side: EmailSide, seq: number): Promise<boolean> {
    // The row lock makes concurrent claims queue; the loser re-checks the WHERE and updates nothing.
    const column = side === 'visitor' ? 'visitor_emailed_seq' : 'operator_emailed_seq';
    const r = await this.pool.query(`UPDATE conversations SET ${column} = $1 WHERE id = $2 AND ${column} < $1`, [seq, conversationId]);
    return r.rowCount === 1;
  }

  async addThreadEmail(conversationId: string, messageId: string): Promise<void> {
    // clock_timestamp() would do too; ms from this node keep both stores alike.
    await this.pool.query('INSERT INTO email_thread (message_id, conversation_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (message_id) DO NOTHING', [messageId, conversationId, Date.now()]);
  }

  async emailThread(conversationId: string): Promise<string[]> {
    return (await this.many('SELECT message_id FROM email_thread WHERE conversation_id = $1 ORDER BY created_at, message_id', [conversationId])).map((r) => String(r.message_id));
  }

  async conversationByEmailId(messageId: string): Promise<Conversation | undefined> {
    const row = await this.one(
      `SELECT c.* FROM conversations c WHERE c.id = COALESCE(
         (SELECT conversation_id FROM email_thread WHERE message_id = $1),
         (SELECT conversation_id FROM messages WHERE email_message_id = $1))`,
      [messageId],
    );
    return row && conversationFrom(row);
  }

  async createAttachment(a: Omit<Attachment, 'createdAt'>): Promise<Attachment> {
    const row = await this.one(
      `INSERT INTO attachments (${ATTACHMENT_COLUMNS.join(', ')}) VALUES (${ATTACHMENT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
      attachmentValues(a, Date.now()),
    );
    return attachmentFrom(row!);
  }

  async getAttachment(id: string): Promise<Attachment | undefined> {
    const row = await this.one('SELECT * FROM attachments WHERE id = $1', [id]);
    return row && attachmentFrom(row);
  }

  async listCanned(workspaceId: string): Promise<CannedResponse[]> {
    return (await this.many('SELECT * FROM canned_responses WHERE workspace_id = $1 ORDER BY shortcut', [workspaceId])).map(cannedFrom);
  }

  async createCanned(c: Omit<CannedResponse, 'id'>): Promise<CannedResponse> {
    const row = await this.one('INSERT INTO canned_responses (id, workspace_id, shortcut, body) VALUES ($1, $2, $3, $4) RETURNING *', [newId('cr'), c.workspaceId, c.shortcut, c.body]);
    return cannedFrom(row!);
  }
}
