/**
 * Rows ↔ records, shared by both stores: the schema (migrations.ts) has the same columns in both
 * dialects, and both drivers hand back plain objects keyed by column name. SQL NULL becomes
 * `undefined`, JSON columns are parsed, 0/1 flags become booleans. Numbers arrive as numbers
 * (PostgresStore parses BIGINT, which `pg` leaves as a string by default).
 */
import type { Attachment, AttachmentRef, CannedResponse, Conversation, ConversationFilter, ConversationSummary, Message, NewMessage, Operator, Visitor, Workspace } from './types.js';

export type Row = Record<string, unknown>;

const str = (v: unknown): string => v as string;
const num = (v: unknown): number => Number(v);
const opt = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : (v as string));

export function workspaceFrom(r: Row): Workspace {
  return {
    id: str(r.id),
    name: str(r.name),
    allowedOrigins: JSON.parse(str(r.allowed_origins)) as string[],
    emailDomain: str(r.email_domain),
    webhookSecret: str(r.webhook_secret),
    ...(r.identity_secret == null ? {} : { identitySecret: str(r.identity_secret) }),
    createdAt: num(r.created_at),
  };
}

export function operatorFrom(r: Row): Operator {
  return {
    id: str(r.id),
    workspaceId: str(r.workspace_id),
    email: str(r.email),
    name: str(r.name),
    passwordHash: str(r.password_hash),
    createdAt: num(r.created_at),
  };
}

export function visitorFrom(r: Row): Visitor {
  return {
    id: str(r.id),
    workspaceId: str(r.workspace_id),
    token: str(r.token),
    email: opt(r.email),
    emailVerified: Number(r.email_verified ?? 0) === 1,
    name: opt(r.name),
    meta: JSON.parse(str(r.meta)) as Record<string, string>,
    createdAt: num(r.created_at),
    lastSeenAt: num(r.last_seen_at),
  };
}

export function conversationFrom(r: Row): Conversation {
  return {
    id: str(r.id),
    workspaceId: str(r.workspace_id),
    visitorId: str(r.visitor_id),
    state: str(r.state) as Conversation['state'],
    assigneeId: opt(r.assignee_id),
    replyToken: str(r.reply_token),
    lastSeq: num(r.last_seq),
    visitorReadSeq: num(r.visitor_read_seq),
    operatorReadSeq: num(r.operator_read_seq),
    emailSubject: opt(r.email_subject),
    rating: opt(r.rating) as Conversation['rating'],
    labels: r.labels === null || r.labels === undefined ? [] : (JSON.parse(str(r.labels)) as string[]),
    snoozedUntil: r.snoozed_until === null || r.snoozed_until === undefined ? undefined : num(r.snoozed_until),
    lastActivityAt: num(r.last_activity_at),
    createdAt: num(r.created_at),
  };
}

/**
 * A row of the inbox query: the conversation's columns, `visitor_email`, `visitor_name`, `unread`,
 * and the last message's `lm_*` columns (NULL before the first message).
 */
export function summaryFrom(r: Row): ConversationSummary {
  return {
    ...conversationFrom(r),
    visitorEmail: opt(r.visitor_email),
    visitorName: opt(r.visitor_name),
    visitorMeta: r.visitor_meta === null || r.visitor_meta === undefined ? {} : (JSON.parse(str(r.visitor_meta)) as Record<string, string>),
    unread: num(r.unread),
    lastMessage:
      r.lm_body === null || r.lm_body === undefined
        ? undefined
        : {
            body: str(r.lm_body),
            author: { kind: str(r.lm_author_kind) as Message['author']['kind'], id: str(r.lm_author_id), name: str(r.lm_author_name) },
            createdAt: num(r.lm_created_at),
            note: num(r.lm_note) === 1,
          },
  };
}

export function messageFrom(r: Row): Message {
  return {
    id: str(r.id),
    conversationId: str(r.conversation_id),
    seq: num(r.seq),
    clientId: str(r.client_id),
    author: { kind: str(r.author_kind) as Message['author']['kind'], id: str(r.author_id), name: str(r.author_name) },
    body: str(r.body),
    note: num(r.note) === 1,
    via: str(r.via) as Message['via'],
    email:
      r.email_message_id === null || r.email_message_id === undefined
        ? undefined
        : {
            messageId: str(r.email_message_id),
            inReplyTo: opt(r.email_in_reply_to),
            references: JSON.parse(str(r.email_references ?? '[]')) as string[],
            from: str(r.email_from),
            subject: str(r.email_subject),
          },
    attachments: r.attachments === null || r.attachments === undefined ? [] : (JSON.parse(str(r.attachments)) as AttachmentRef[]),
    createdAt: num(r.created_at),
  };
}

export function attachmentFrom(r: Row): Attachment {
  return {
    id: str(r.id),
    workspaceId: str(r.workspace_id),
    conversationId: str(r.conversation_id),
    uploader: str(r.uploader),
    name: str(r.name),
    type: str(r.type),
    size: num(r.size),
    createdAt: num(r.created_at),
  };
}

/** The attachments table's columns in insert order, and an attachment's values for them. */
export const ATTACHMENT_COLUMNS = ['id', 'workspace_id', 'conversation_id', 'uploader', 'name', 'type', 'size', 'created_at'] as const;

export function attachmentValues(a: Omit<Attachment, 'createdAt'>, now: number): unknown[] {
  return [a.id, a.workspaceId, a.conversationId, a.uploader, a.name, a.type, a.size, now];
}

export function cannedFrom(r: Row): CannedResponse {
  return { id: str(r.id), workspaceId: str(r.workspace_id), shortcut: str(r.shortcut), body: str(r.body) };
}

/** The messages table's columns in insert order, and a new message's values for them. */
export const MESSAGE_COLUMNS = [
  'id',
  'conversation_id',
  'seq',
  'client_id',
  'author_kind',
  'author_id',
  'author_name',
  'body',
  'note',
  'via',
  'email_message_id',
  'email_in_reply_to',
  'email_references',
  'email_from',
  'email_subject',
  'attachments',
  'created_at',
] as const;

export function messageValues(id: string, seq: number, m: NewMessage, now: number): unknown[] {
  const e = m.email;
  return [
    id,
    m.conversationId,
    seq,
    m.clientId,
    m.author.kind,
    m.author.id,
    m.author.name,
    m.body,
    m.note ? 1 : 0,
    m.via ?? (e ? 'email' : 'chat'),
    e?.messageId ?? null,
    e?.inReplyTo ?? null,
    e ? JSON.stringify(e.references) : null,
    e?.from ?? null,
    e?.subject ?? null,
    m.attachments?.length ? JSON.stringify(m.attachments.map(({ id, name, type, size }) => ({ id, name, type, size }))) : null,
    now,
  ];
}

/** The inbox filters as SQL conditions on `c` (conversations); `mine` compares with `operatorParam`, snoozes with `nowParam`. */
export function filterCondition(filter: ConversationFilter, operatorParam: string, nowParam: string): string {
  const awake = `(c.snoozed_until IS NULL OR c.snoozed_until <= ${nowParam})`;
  switch (filter) {
    case 'open':
      return `c.state = 'open' AND ${awake}`;
    case 'unassigned':
      return `c.state = 'open' AND c.assignee_id IS NULL AND ${awake}`;
    case 'mine':
      return `c.state = 'open' AND c.assignee_id = ${operatorParam} AND ${awake}`;
    case 'snoozed':
      return `c.state = 'open' AND c.snoozed_until > ${nowParam}`;
    case 'resolved':
      return `c.state = 'resolved'`;
    case 'all':
      return '1 = 1';
    default:
      throw new TypeError(`unknown conversation filter ${String(filter satisfies never)}`);
  }
}

/** Inbox rows when `listConversations` gets no limit. */
export const DEFAULT_LIST_LIMIT = 50;

/** A conversation summary's columns (summaryFrom): the conversation, its visitor's email, name and meta, the unread count and the last message. */
const SUMMARY_SELECT = `SELECT c.*, v.email AS visitor_email, v.name AS visitor_name, v.meta AS visitor_meta,
  (SELECT COUNT(*) FROM messages u
    WHERE u.conversation_id = c.id AND u.seq > c.operator_read_seq AND u.author_kind = 'visitor' AND u.note = 0) AS unread,
  lm.body AS lm_body, lm.author_kind AS lm_author_kind, lm.author_id AS lm_author_id, lm.author_name AS lm_author_name,
  lm.created_at AS lm_created_at, lm.note AS lm_note
FROM conversations c
JOIN visitors v ON v.id = c.visitor_id
LEFT JOIN messages lm ON lm.conversation_id = c.id AND lm.seq = c.last_seq`;

/** One conversation's summary (placeholder 1: its id). */
export function summaryQuery(placeholder: string): string {
  return `${SUMMARY_SELECT}\nWHERE c.id = ${placeholder}`;
}

/**
 * The conversation update of appendMessage: the next seq, the activity time, and the author's read
 * mark and the reopening when asked (placeholders, in the order they appear: 1 now, 2 visitor
 * read, 3 operator read, 4 reopen, 5 wake, 6 id; the flags are 1/0 in SQLite, booleans in
 * PostgreSQL). A visitor's message ends a snooze (wake): the visitor is back. Right-hand sides read the
 * row before the update: `last_seq + 1` is the new message's seq.
 */
export function appendUpdate(p: (n: number) => string, max: 'MAX' | 'GREATEST'): string {
  return `UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = ${max}(last_activity_at, ${p(1)}),
  visitor_read_seq = CASE WHEN ${p(2)} THEN last_seq + 1 ELSE visitor_read_seq END,
  operator_read_seq = CASE WHEN ${p(3)} THEN last_seq + 1 ELSE operator_read_seq END,
  state = CASE WHEN ${p(4)} THEN 'open' ELSE state END,
  snoozed_until = CASE WHEN ${p(5)} THEN NULL ELSE snoozed_until END
WHERE id = ${p(6)} RETURNING *`;
}

/** appendMessage's flags for appendUpdate: which read mark moves, and whether it reopens. */
export function appendFlags(m: NewMessage): { visitorRead: boolean; operatorRead: boolean; reopen: boolean; wake: boolean } {
  const read = m.markRead === true;
  return { visitorRead: read && m.author.kind === 'visitor', operatorRead: read && m.author.kind === 'operator' && !m.note, reopen: m.reopen === true, wake: m.author.kind === 'visitor' };
}

/**
 * The inbox query, the same in both dialects but for placeholders (`?` or `$n`): conversations of
 * a workspace, newest activity first, with the visitor's email and name, the unread count (visitor
 * messages after the operators' read mark) and the last message (joined on seq = last_seq).
 */
export function inboxQuery(
  workspaceId: string,
  q: { filter: ConversationFilter; operatorId?: string; limit?: number; now?: number },
  placeholder: (n: number) => string,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const bind = (v: unknown) => (params.push(v), placeholder(params.length));
  // Bound in the order they appear (SQLite's `?` are positional).
  const workspace = bind(workspaceId);
  const operator = q.filter === 'mine' ? bind(q.operatorId ?? null) : '';
  const now = ['open', 'unassigned', 'mine', 'snoozed'].includes(q.filter) ? bind(q.now ?? Date.now()) : '';
  const where = `c.workspace_id = ${workspace} AND ${filterCondition(q.filter, operator, now)}`;
  const sql = `${SUMMARY_SELECT}
WHERE ${where}
ORDER BY c.last_activity_at DESC, c.id
LIMIT ${bind(Math.max(0, Math.floor(q.limit ?? DEFAULT_LIST_LIMIT)))}`;
  return { sql, params };
}

/**
 * The emailsDue query: `side`'s unread, unemailed messages written at or before the cutoff
 * (placeholders 1: cutoff, 2: limit). The EXISTS walks the conversation's messages by its
 * (conversation_id, seq) index from the larger of the read and emailed marks.
 */
export function emailsDueQuery(side: 'visitor' | 'operator', ph: (n: number) => string): string {
  const read = side === 'visitor' ? 'visitor_read_seq' : 'operator_read_seq';
  const emailed = side === 'visitor' ? 'visitor_emailed_seq' : 'operator_emailed_seq';
  const author = side === 'visitor' ? "m.author_kind = 'operator' AND m.note = 0" : "m.author_kind = 'visitor'";
  return `SELECT c.*, c.${emailed} AS emailed_seq FROM conversations c JOIN visitors v ON v.id = c.visitor_id
    WHERE c.last_seq > c.${read} AND c.last_seq > c.${emailed}${side === 'visitor' ? ' AND v.email IS NOT NULL' : ''}
      AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.seq > c.${read} AND m.seq > c.${emailed}
        AND ${author} AND m.created_at <= ${ph(1)})
    ORDER BY c.last_activity_at LIMIT ${ph(2)}`;
}

export function dueEmailFrom(r: Row): { conversation: Conversation; emailedSeq: number } {
  return { conversation: conversationFrom(r), emailedSeq: num(r.emailed_seq) };
}

/** The words of a search query (letters and digits), at most 8, each at most 64 characters. */
export function searchWords(query: string): string[] {
  return (query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 8).map((w) => w.slice(0, 64));
}
