/**
 * Desk's schema as numbered steps, applied in order by both stores and recorded in
 * `schema_migrations` (version, name, applied_at), each step in one transaction with its record.
 * A step is one SQL text when it is portable between SQLite and PostgreSQL, or one per dialect
 * when it is not. Steps are append-only: a deployed step is never edited, a change is a new step.
 *
 * Portable choices in step 1: ids and enums are TEXT (enums checked), times BIGINT (ms epoch; an
 * INTEGER in SQLite, which is 64-bit), flags INTEGER 0/1, lists and maps JSON in TEXT (nothing
 * queries inside them). UNIQUE on a nullable column allows many NULLs in both dialects.
 */

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  name: string;
  sql: string | Record<Dialect, string>;
}

/** The bookkeeping table, created before any step runs. */
export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'desk schema',
    sql: `
CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  allowed_origins TEXT NOT NULL,
  email_domain TEXT NOT NULL,
  webhook_secret TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE operators (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces (id),
  email TEXT NOT NULL,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
-- Sign-in is by email alone, so an address names one operator, whatever its case.
CREATE UNIQUE INDEX operators_email ON operators (lower(email));
CREATE INDEX operators_workspace ON operators (workspace_id);

CREATE TABLE operator_sessions (
  token TEXT PRIMARY KEY,
  operator_id TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
  expires_at BIGINT NOT NULL
);
CREATE INDEX operator_sessions_expiry ON operator_sessions (expires_at);

CREATE TABLE visitors (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces (id),
  token TEXT NOT NULL UNIQUE,
  email TEXT,
  name TEXT,
  meta TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL
);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces (id),
  visitor_id TEXT NOT NULL REFERENCES visitors (id),
  state TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
  assignee_id TEXT REFERENCES operators (id) ON DELETE SET NULL,
  reply_token TEXT NOT NULL UNIQUE,
  last_seq INTEGER NOT NULL DEFAULT 0,
  visitor_read_seq INTEGER NOT NULL DEFAULT 0,
  operator_read_seq INTEGER NOT NULL DEFAULT 0,
  email_subject TEXT,
  last_activity_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX conversations_inbox ON conversations (workspace_id, last_activity_at);
CREATE INDEX conversations_visitor ON conversations (visitor_id, created_at);

CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations (id),
  seq INTEGER NOT NULL,
  client_id TEXT NOT NULL,
  author_kind TEXT NOT NULL CHECK (author_kind IN ('visitor', 'operator', 'system')),
  author_id TEXT NOT NULL,
  author_name TEXT NOT NULL,
  body TEXT NOT NULL,
  note INTEGER NOT NULL DEFAULT 0 CHECK (note IN (0, 1)),
  via TEXT NOT NULL CHECK (via IN ('chat', 'email')),
  email_message_id TEXT UNIQUE,
  email_in_reply_to TEXT,
  email_references TEXT,
  email_from TEXT,
  email_subject TEXT,
  created_at BIGINT NOT NULL,
  UNIQUE (conversation_id, seq),
  UNIQUE (conversation_id, client_id)
);

CREATE TABLE canned_responses (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces (id),
  shortcut TEXT NOT NULL,
  body TEXT NOT NULL,
  UNIQUE (workspace_id, shortcut)
);
`,
  },
  {
    version: 2,
    name: 'email replies',
    // The *_emailed_seq marks are the multi-node claim: the node whose conditional UPDATE moves a
    // mark forward sends that email (DeskStore.claimEmail). email_thread holds every Message-ID of
    // a conversation's visitor thread, sent or received, for In-Reply-To / References and routing.
    sql: `
ALTER TABLE conversations ADD COLUMN visitor_emailed_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN operator_emailed_seq INTEGER NOT NULL DEFAULT 0;
-- The sweep (emailsDue) reads only conversations with something unread and not yet emailed.
CREATE INDEX conversations_visitor_email_due ON conversations (last_activity_at)
  WHERE last_seq > visitor_read_seq AND last_seq > visitor_emailed_seq;
CREATE INDEX conversations_operator_email_due ON conversations (last_activity_at)
  WHERE last_seq > operator_read_seq AND last_seq > operator_emailed_seq;

CREATE TABLE email_thread (
  message_id TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations (id),
  created_at BIGINT NOT NULL
);
CREATE INDEX email_thread_conversation ON email_thread (conversation_id, created_at);
`,
  },
  {
    version: 3,
    name: 'verified visitor email',
    // Transcripts go only to an address its visitor confirmed (desk/EMAIL.md, Transcripts).
    sql: `ALTER TABLE visitors ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    version: 4,
    name: 'message search',
    // The inbox's search (DeskStore.searchMessages). SQLite: an FTS5 table of its own, kept by a
    // trigger (an external-content table would key on the implicit rowid, which VACUUM may
    // renumber). PostgreSQL: a GIN index on the body's words ('simple': no stemming, any language).
    sql: {
      sqlite: `
CREATE VIRTUAL TABLE messages_search USING fts5(body, message_id UNINDEXED, workspace_id UNINDEXED);
INSERT INTO messages_search (body, message_id, workspace_id)
  SELECT m.body, m.id, c.workspace_id FROM messages m JOIN conversations c ON c.id = m.conversation_id;
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_search (body, message_id, workspace_id)
    SELECT new.body, new.id, workspace_id FROM conversations WHERE id = new.conversation_id;
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
  DELETE FROM messages_search WHERE message_id = old.id;
END;
`,
      postgres: `CREATE INDEX messages_search ON messages USING gin (to_tsvector('simple', body));`,
    },
  },
  {
    version: 5,
    name: 'visitor identity',
    // The key host sites sign their logged-in users' emails with (Desk.identify); none = no identify.
    sql: `ALTER TABLE workspaces ADD COLUMN identity_secret TEXT;`,
  },
  {
    version: 6,
    name: 'conversation rating',
    // What the visitor said of a resolved conversation (good or bad); checked by the event's schema.
    sql: `ALTER TABLE conversations ADD COLUMN rating TEXT;`,
  },
  {
    version: 7,
    name: 'attachments',
    // Uploaded files (their bytes in the attachment storage, keyed by id) and, on each message,
    // the files it carries as JSON ([{id, name, type, size}]): read with the message, never joined.
    sql: `
CREATE TABLE attachments (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces (id),
  conversation_id TEXT NOT NULL REFERENCES conversations (id),
  uploader TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  size BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
ALTER TABLE messages ADD COLUMN attachments TEXT;
`,
  },
  {
    version: 8,
    name: 'search indexed in batches',
    // SQLite: the FTS5 insert per message (a new index segment per commit, and the merges after)
    // wrote ~40 KiB per message under load. A message now only joins a queue; the store moves the
    // queue into the index in batches (SqliteStore.indexSearch: every second, and before a search,
    // so a search never misses a message). PostgreSQL's GIN index is kept by the database.
    sql: {
      sqlite: `
DROP TRIGGER messages_search_insert;
CREATE TABLE messages_search_queue (message_id TEXT NOT NULL);
CREATE TRIGGER messages_search_enqueue AFTER INSERT ON messages BEGIN
  INSERT INTO messages_search_queue (message_id) VALUES (new.id);
END;
CREATE TRIGGER messages_search_dequeue AFTER DELETE ON messages BEGIN
  DELETE FROM messages_search_queue WHERE message_id = old.id;
END;
`,
      postgres: 'SELECT 1;',
    },
  },
  {
    version: 9,
    name: 'labels and snooze',
    // Labels as JSON (few per conversation, read with it, never queried by); a snooze as the time
    // it ends, NULL when none (the inbox filters compare it with now).
    sql: `
ALTER TABLE conversations ADD COLUMN labels TEXT;
ALTER TABLE conversations ADD COLUMN snoozed_until BIGINT;
CREATE INDEX conversations_snoozed ON conversations (snoozed_until) WHERE snoozed_until IS NOT NULL;
`,
  },
];

export function migrationSql(m: Migration, dialect: Dialect): string {
  return typeof m.sql === 'string' ? m.sql : m.sql[dialect];
}

/** The steps not yet applied, in order. */
export function pendingMigrations(applied: Iterable<number>, all: readonly Migration[] = MIGRATIONS): Migration[] {
  const done = new Set(applied);
  return [...all].sort((a, b) => a.version - b.version).filter((m) => !done.has(m.version));
}
