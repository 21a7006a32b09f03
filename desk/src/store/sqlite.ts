/**
 * DeskStore on SQLite (better-sqlite3), the embedded default: one file per deployment (or
 * `:memory:` for tests and demos), WAL so readers never wait for the writer, foreign keys on.
 *
 * better-sqlite3 is synchronous, so every method runs to completion on the event loop and no two
 * of them interleave inside one process; writes that read first (appendMessage, openConversation,
 * migrate) still run in `BEGIN IMMEDIATE` transactions so that other processes sharing the file
 * queue on the write lock (busy_timeout) instead of racing.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreNotFoundError } from './errors.js';
import { newId, newReplyToken } from './ids.js';
import { MIGRATIONS, MIGRATIONS_TABLE, migrationSql, type Migration } from './migrations.js';
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

type AppendResult = Awaited<ReturnType<DeskStore['appendMessage']>>;

const APPEND_UPDATE = appendUpdate(() => '?', 'MAX');
const SUMMARY = summaryQuery('?');
const INSERT_MESSAGE = `INSERT INTO messages (${MESSAGE_COLUMNS.join(', ')}) VALUES (${MESSAGE_COLUMNS.map(() => '?').join(', ')}) RETURNING *`;

export interface SqliteStoreOptions {
  /** How long a write waits for another process's write lock before failing (ms). */
  busyTimeoutMs?: number;
}

/** A visitor's open conversation (the latest, should there be two). */
const OPEN_CONVERSATION = `SELECT * FROM conversations WHERE visitor_id = ? AND state = 'open' ORDER BY created_at DESC, id LIMIT 1`;

export class SqliteStore implements DeskStore {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private appends: { m: NewMessage; resolve: (r: AppendResult) => void; reject: (err: unknown) => void }[] = [];

  /** `path` is a file (its directory is created) or `:memory:`. */
  constructor(path: string, opts: SqliteStoreOptions = {}) {
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL'); // stays "memory" for :memory:, which has no journal file
    this.db.pragma('synchronous = NORMAL'); // with WAL: durable at checkpoints, never corrupt
    this.db.pragma('foreign_keys = ON');
    this.db.pragma(`busy_timeout = ${Math.floor(opts.busyTimeoutMs ?? 5_000)}`);
  }

  /** A prepared statement, prepared once (tables must exist, so not before migrate()). */
  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private get(sql: string, ...params: unknown[]): Row | undefined {
    return this.stmt(sql).get(...params) as Row | undefined;
  }

  private all(sql: string, ...params: unknown[]): Row[] {
    return this.stmt(sql).all(...params) as Row[];
  }

  /** Indexes the search queue every second (see indexSearch), from the first migrate until close. */
  private indexing: NodeJS.Timeout | undefined;

  async migrate(): Promise<void> {
    this.db.exec(MIGRATIONS_TABLE);
    const apply = this.db.transaction((m: Migration) => {
      // Re-checked under the write lock: another process may have applied it meanwhile.
      if (this.db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version)) return;
      this.db.exec(migrationSql(m, 'sqlite'));
      this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    });
    for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) apply.immediate(m);
    this.indexing ??= setInterval(() => {
      try {
        this.indexSearch();
      } catch {
        // The write lock was busy past busy_timeout (another node's long write): next second.
      }
    }, 1000).unref();
  }

  async close(): Promise<void> {
    clearInterval(this.indexing);
    // Appends of this tick are written, not lost to the close.
    if (this.appends.length && this.db.open) this.writeAppends();
    if (this.db.open) this.db.close();
  }

  async ping(): Promise<boolean> {
    try {
      return this.db.open && this.db.prepare('SELECT 1 AS ok').get() !== undefined;
    } catch {
      return false;
    }
  }

  async createWorkspace(w: Omit<Workspace, 'createdAt'>): Promise<Workspace> {
    const row = this.get(
      'INSERT INTO workspaces (id, name, allowed_origins, email_domain, webhook_secret, identity_secret, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
      w.id,
      w.name,
      JSON.stringify(w.allowedOrigins),
      w.emailDomain,
      w.webhookSecret,
      w.identitySecret ?? null,
      Date.now(),
    );
    return workspaceFrom(row!);
  }

  async getWorkspace(id: string): Promise<Workspace | undefined> {
    const row = this.get('SELECT * FROM workspaces WHERE id = ?', id);
    return row && workspaceFrom(row);
  }

  async hasEmailDomain(domain: string): Promise<boolean> {
    return this.get('SELECT 1 AS one FROM workspaces WHERE lower(email_domain) = ? LIMIT 1', domain.toLowerCase()) !== undefined;
  }

  async createOperator(o: Omit<Operator, 'id' | 'createdAt'>): Promise<Operator> {
    const row = this.get(
      'INSERT INTO operators (id, workspace_id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
      newId('o'),
      o.workspaceId,
      o.email,
      o.name,
      o.passwordHash,
      Date.now(),
    );
    return operatorFrom(row!);
  }

  async getOperator(id: string): Promise<Operator | undefined> {
    const row = this.get('SELECT * FROM operators WHERE id = ?', id);
    return row && operatorFrom(row);
  }

  async operatorByEmail(email: string): Promise<Operator | undefined> {
    const row = this.get('SELECT * FROM operators WHERE lower(email) = lower(?)', email);
    return row && operatorFrom(row);
  }

  async listOperators(workspaceId: string): Promise<Operator[]> {
    return this.all('SELECT * FROM operators WHERE workspace_id = ? ORDER BY created_at, id', workspaceId).map(operatorFrom);
  }

  async createSession(token: string, operatorId: string, expiresAt: number): Promise<void> {
    // Expired sessions are swept here, where sessions are written anyway.
    this.stmt('DELETE FROM operator_sessions WHERE expires_at <= ?').run(Date.now());
    this.stmt(
      `INSERT INTO operator_sessions (token, operator_id, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (token) DO UPDATE SET operator_id = excluded.operator_id, expires_at = excluded.expires_at`,
    ).run(token, operatorId, expiresAt);
  }

  async operatorBySession(token: string, now: number): Promise<Operator | undefined> {
    const row = this.get('SELECT o.* FROM operator_sessions s JOIN operators o ON o.id = s.operator_id WHERE s.token = ? AND s.expires_at > ?', token, now);
    return row && operatorFrom(row);
  }

  async deleteSession(token: string): Promise<void> {
    this.stmt('DELETE FROM operator_sessions WHERE token = ?').run(token);
  }

  async createVisitor(v: { workspaceId: string; token: string; meta: Record<string, string> }): Promise<Visitor> {
    const now = Date.now();
    const row = this.get(
      'INSERT INTO visitors (id, workspace_id, token, meta, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
      newId('v'),
      v.workspaceId,
      v.token,
      JSON.stringify(v.meta),
      now,
      now,
    );
    return visitorFrom(row!);
  }

  async visitorByToken(token: string): Promise<Visitor | undefined> {
    const row = this.get('SELECT * FROM visitors WHERE token = ?', token);
    return row && visitorFrom(row);
  }

  async getVisitor(id: string): Promise<Visitor | undefined> {
    const row = this.get('SELECT * FROM visitors WHERE id = ?', id);
    return row && visitorFrom(row);
  }

  async updateVisitor(id: string, patch: VisitorPatch): Promise<Visitor> {
    const verified = patch.emailVerified === undefined ? null : patch.emailVerified ? 1 : 0;
    // SET expressions all read the row as it was: email_verified compares against the old email.
    const row = this.get(
      `UPDATE visitors SET
         email_verified = CASE WHEN ? IS NOT NULL THEN ? WHEN ? IS NOT NULL AND ? IS NOT email THEN 0 ELSE email_verified END,
         email = COALESCE(?, email), name = COALESCE(?, name), meta = COALESCE(?, meta),
         last_seen_at = COALESCE(?, last_seen_at)
       WHERE id = ? RETURNING *`,
      verified,
      verified,
      patch.email ?? null,
      patch.email ?? null,
      patch.email ?? null,
      patch.name ?? null,
      patch.meta === undefined ? null : JSON.stringify(patch.meta),
      patch.lastSeenAt ?? null,
      id,
    );
    if (!row) throw new StoreNotFoundError('visitor', id);
    return visitorFrom(row);
  }

  async openConversation(workspaceId: string, visitorId: string, id?: string): Promise<Conversation> {
    // Most hellos are returning visitors with an open conversation: a plain read, no write lock.
    const found = this.get(OPEN_CONVERSATION, visitorId);
    if (found) return conversationFrom(found);
    const open = this.db.transaction((): Row => {
      if (!this.get('SELECT 1 AS ok FROM visitors WHERE id = ?', visitorId)) throw new StoreNotFoundError('visitor', visitorId);
      const existing = this.get(OPEN_CONVERSATION, visitorId);
      if (existing) return existing;
      const now = Date.now();
      return this.get(
        `INSERT INTO conversations (id, workspace_id, visitor_id, state, reply_token, last_activity_at, created_at)
         VALUES (?, ?, ?, 'open', ?, ?, ?) RETURNING *`,
        id ?? newId('c'),
        workspaceId,
        visitorId,
        newReplyToken(),
        now,
        now,
      )!;
    });
    return conversationFrom(open.immediate());
  }

  async getConversation(id: string): Promise<Conversation | undefined> {
    const row = this.get('SELECT * FROM conversations WHERE id = ?', id);
    return row && conversationFrom(row);
  }

  async visitorConversations(visitorId: string, limit: number): Promise<Conversation[]> {
    return this.all('SELECT * FROM conversations WHERE visitor_id = ? ORDER BY created_at DESC, id DESC LIMIT ?', visitorId, Math.max(0, Math.floor(limit))).map(conversationFrom);
  }

  async conversationByReplyToken(token: string): Promise<Conversation | undefined> {
    const row = this.get('SELECT * FROM conversations WHERE reply_token = ?', token);
    return row && conversationFrom(row);
  }

  async listConversations(workspaceId: string, q: { filter: ConversationFilter; operatorId?: string; limit?: number; now?: number }): Promise<ConversationSummary[]> {
    const { sql, params } = inboxQuery(workspaceId, q, () => '?');
    return this.all(sql, ...params).map(summaryFrom);
  }

  async updateConversation(id: string, patch: ConversationPatch): Promise<Conversation> {
    // Read marks never move back and never pass the last message (MAX/MIN are SQLite's scalar forms).
    const row = this.get(
      `UPDATE conversations SET
         state = COALESCE(?, state),
         assignee_id = CASE WHEN ? THEN ? ELSE assignee_id END,
         visitor_read_seq = MAX(visitor_read_seq, MIN(COALESCE(?, 0), last_seq)),
         operator_read_seq = MAX(operator_read_seq, MIN(COALESCE(?, 0), last_seq)),
         email_subject = COALESCE(?, email_subject),
         rating = COALESCE(?, rating),
         labels = CASE WHEN ? THEN ? ELSE labels END,
         snoozed_until = CASE WHEN ? THEN ? ELSE snoozed_until END,
         last_activity_at = MAX(last_activity_at, ?)
       WHERE id = ? RETURNING *`,
      patch.state ?? null,
      patch.assigneeId === undefined ? 0 : 1,
      patch.assigneeId ?? null,
      patch.visitorReadSeq ?? null,
      patch.operatorReadSeq ?? null,
      patch.emailSubject ?? null,
      patch.rating ?? null,
      patch.labels === undefined ? 0 : 1,
      patch.labels?.length ? JSON.stringify(patch.labels) : null,
      patch.snoozedUntil === undefined ? 0 : 1,
      patch.snoozedUntil ?? null,
      Date.now(),
      id,
    );
    if (!row) throw new StoreNotFoundError('conversation', id);
    return conversationFrom(row);
  }

  /**
   * Appends wait for the end of the tick and are written together: one transaction (one commit,
   * one write lock) for every message that came in meanwhile, each in a savepoint of its own so
   * that one failing (an unknown conversation) fails alone. Under load that is hundreds of
   * messages per commit instead of one.
   */
  appendMessage(m: NewMessage): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.appends.push({ m, resolve, reject });
      if (this.appends.length === 1) setImmediate(() => this.writeAppends());
    });
  }

  private writeAppends(): void {
    const batch = this.appends;
    this.appends = [];
    const outcomes: ({ ok: AppendResult } | { err: unknown })[] = [];
    try {
      this.db
        .transaction(() => {
          for (const { m } of batch) {
            try {
              outcomes.push({ ok: this.appendOne(m) });
            } catch (err) {
              outcomes.push({ err });
            }
          }
        })
        .immediate();
    } catch (err) {
      // The batch's own transaction failed (the write lock not had in busy_timeout): all of it did.
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if ('ok' in outcome) item.resolve(outcome.ok);
      else item.reject(outcome.err);
    });
  }

  /** One append, inside the batch's transaction (a savepoint: a throw undoes this message only). */
  private appendOne(m: NewMessage): AppendResult {
    const append = this.db.transaction((): { row: Row; duplicate: boolean; conv?: Row } => {
      const stored =
        this.get('SELECT * FROM messages WHERE conversation_id = ? AND client_id = ?', m.conversationId, m.clientId) ??
        (m.email ? this.get('SELECT * FROM messages WHERE email_message_id = ?', m.email.messageId) : undefined);
      if (stored) return { row: stored, duplicate: true };
      const now = Date.now();
      const f = appendFlags(m);
      const conv = this.get(APPEND_UPDATE, now, f.visitorRead ? 1 : 0, f.operatorRead ? 1 : 0, f.reopen ? 1 : 0, f.wake ? 1 : 0, m.conversationId);
      if (!conv) throw new StoreNotFoundError('conversation', m.conversationId);
      const row = this.get(INSERT_MESSAGE, ...messageValues(newId('m'), Number(conv.last_seq), m, now))!;
      return { row, duplicate: false, conv };
    });
    const { row, duplicate, conv } = append();
    return { message: messageFrom(row), duplicate, ...(conv ? { conversation: conversationFrom(conv) } : {}) };
  }

  async wakeSnoozed(now: number): Promise<Conversation[]> {
    return this.all('UPDATE conversations SET snoozed_until = NULL WHERE snoozed_until <= ? RETURNING *', now).map(conversationFrom);
  }

  async conversationSummary(id: string): Promise<ConversationSummary | undefined> {
    const row = this.get(SUMMARY, id);
    return row && summaryFrom(row);
  }

  /**
   * Moves messages from the search queue into the search index (migration 8), at most `limit`
   * per call, in one transaction: in a few large segments rather than one per commit. Returns how
   * many it indexed. Any node sharing the file may do it; the write lock keeps them apart.
   */
  indexSearch(limit = 10_000): number {
    return this.db
      .transaction(() => {
        const last = this.get('SELECT MAX(rowid) AS last FROM (SELECT rowid FROM messages_search_queue ORDER BY rowid LIMIT ?)', limit)?.last;
        if (last === null || last === undefined) return 0;
        this.stmt(
          `INSERT INTO messages_search (body, message_id, workspace_id)
             SELECT m.body, m.id, c.workspace_id FROM messages_search_queue q
               JOIN messages m ON m.id = q.message_id JOIN conversations c ON c.id = m.conversation_id
             WHERE q.rowid <= ? ORDER BY q.rowid`,
        ).run(last);
        return this.stmt('DELETE FROM messages_search_queue WHERE rowid <= ?').run(last).changes;
      })
      .immediate();
  }

  async searchMessages(workspaceId: string, query: string, limit: number): Promise<Message[]> {
    const words = searchWords(query);
    if (!words.length) return [];
    // What was written since the last batch is indexed first: a search never misses a message.
    while (this.indexSearch() > 0);
    // Each word quoted (FTS5 syntax never comes from the user), the last one a prefix.
    const match = words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ');
    return this.all(
      `SELECT m.* FROM messages_search s JOIN messages m ON m.id = s.message_id
        WHERE messages_search MATCH ? AND s.workspace_id = ? ORDER BY m.created_at DESC, m.id DESC LIMIT ?`,
      match,
      workspaceId,
      Math.max(0, Math.floor(limit)),
    ).map(messageFrom);
  }

  async messagesAfter(conversationId: string, afterSeq: number, limit = 500): Promise<Message[]> {
    return this.all('SELECT * FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?', conversationId, afterSeq, Math.max(0, Math.floor(limit))).map(messageFrom);
  }

  async messageByEmailId(messageId: string): Promise<Message | undefined> {
    const row = this.get('SELECT * FROM messages WHERE email_message_id = ?', messageId);
    return row && messageFrom(row);
  }

  async emailsDue(side: EmailSide, writtenBefore: number, limit = 100): Promise<DueEmail[]> {
    return this.all(
      emailsDueQuery(side, () => '?'),
      writtenBefore,
      Math.max(0, Math.floor(limit)),
    ).map(dueEmailFrom);
  }

  async claimEmail(conversationId: string, side: EmailSide, seq: number): Promise<boolean> {
    const column = side === 'visitor' ? 'visitor_emailed_seq' : 'operator_emailed_seq';
    return this.stmt(`UPDATE conversations SET ${column} = ? WHERE id = ? AND ${column} < ?`).run(seq, conversationId, seq).changes === 1;
  }

  async addThreadEmail(conversationId: string, messageId: string): Promise<void> {
    this.stmt('INSERT INTO email_thread (message_id, conversation_id, created_at) VALUES (?, ?, ?) ON CONFLICT (message_id) DO NOTHING').run(messageId, conversationId, Date.now());
  }

  async emailThread(conversationId: string): Promise<string[]> {
    return this.all('SELECT message_id FROM email_thread WHERE conversation_id = ? ORDER BY created_at, rowid', conversationId).map((r) => String(r.message_id));
  }

  async conversationByEmailId(messageId: string): Promise<Conversation | undefined> {
    const row = this.get(
      `SELECT c.* FROM conversations c WHERE c.id = COALESCE(
         (SELECT conversation_id FROM email_thread WHERE message_id = ?),
         (SELECT conversation_id FROM messages WHERE email_message_id = ?))`,
      messageId,
      messageId,
    );
    return row && conversationFrom(row);
  }

  async createAttachment(a: Omit<Attachment, 'createdAt'>): Promise<Attachment> {
    const row = this.get(`INSERT INTO attachments (${ATTACHMENT_COLUMNS.join(', ')}) VALUES (${ATTACHMENT_COLUMNS.map(() => '?').join(', ')}) RETURNING *`, ...attachmentValues(a, Date.now()));
    return attachmentFrom(row!);
  }

  async getAttachment(id: string): Promise<Attachment | undefined> {
    const row = this.get('SELECT * FROM attachments WHERE id = ?', id);
    return row && attachmentFrom(row);
  }

  async listCanned(workspaceId: string): Promise<CannedResponse[]> {
    return this.all('SELECT * FROM canned_responses WHERE workspace_id = ? ORDER BY shortcut', workspaceId).map(cannedFrom);
  }

  async createCanned(c: Omit<CannedResponse, 'id'>): Promise<CannedResponse> {
    const row = this.get('INSERT INTO canned_responses (id, workspace_id, shortcut, body) VALUES (?, ?, ?, ?) RETURNING *', newId('cr'), c.workspaceId, c.shortcut, c.body);
    return cannedFrom(row!);
  }
}
