/**
 * Desk's data model and the one repository interface behind which SQLite (the embedded default)
 * and PostgreSQL (deployments that outgrow one machine) sit. One contract test suite
 * (store/contract.ts) runs against both.
 *
 * Ordering and idempotency live here, not in the callers: `appendMessage` gives each message the
 * next per-conversation `seq` atomically and returns the stored message (duplicate: true) when
 * the same `clientId` was already stored in that conversation, so a retried send is never
 * stored twice. Email Message-IDs are unique too (an email delivered twice is stored once).
 */

export type ConversationState = 'open' | 'resolved';
export type AuthorKind = 'visitor' | 'operator' | 'system';
export type Via = 'chat' | 'email';

export interface Workspace {
  id: string;
  name: string;
  /** Origins the widget may be loaded from (`https://shop.example`); empty = any. */
  allowedOrigins: string[];
  /** Domain of reply addresses (`reply+<token>@<emailDomain>`). */
  emailDomain: string;
  /** HMAC key of the workspace's webhooks. */
  webhookSecret: string;
  /** HMAC key of the host site's visitor identities (`Desk.identify`); none: identify is refused. */
  identitySecret?: string;
  createdAt: number;
}

export interface Operator {
  id: string;
  workspaceId: string;
  email: string;
  name: string;
  /** scrypt: `scrypt$N$r$p$salt$hash` (base64url parts). */
  passwordHash: string;
  createdAt: number;
}

export interface Visitor {
  id: string;
  workspaceId: string;
  /** The secret the widget keeps in localStorage. */
  token: string;
  email: string | undefined;
  /** The visitor proved `email` is theirs (a confirmation link); false again whenever `email` changes. */
  emailVerified: boolean;
  name: string | undefined;
  /** What the edge and the browser told us: page, country, user agent, … */
  meta: Record<string, string>;
  createdAt: number;
  lastSeenAt: number;
}

export type Rating = 'good' | 'bad';

export interface Conversation {
  id: string;
  workspaceId: string;
  visitorId: string;
  state: ConversationState;
  assigneeId: string | undefined;
  /** Secret of the conversation's reply address `reply+<replyToken>@domain`. */
  replyToken: string;
  /** Highest seq stored (0 before the first message). */
  lastSeq: number;
  /** Highest seq each side has read. */
  visitorReadSeq: number;
  operatorReadSeq: number;
  /** Subject and Message-ID of the email thread, once one exists. */
  emailSubject: string | undefined;
  /** What the visitor said of it once resolved. */
  rating: Rating | undefined;
  /** The operators' labels (`billing`, `refund`), in the order given. */
  labels: string[];
  /** Out of the open lists until then (ms), unless the visitor writes first. */
  snoozedUntil: number | undefined;
  lastActivityAt: number;
  createdAt: number;
}

/** A conversation as the inbox lists it. */
export interface ConversationSummary extends Conversation {
  visitorEmail: string | undefined;
  visitorName: string | undefined;
  visitorMeta: Record<string, string>;
  /** Visitor messages after operatorReadSeq. */
  unread: number;
  lastMessage: Pick<Message, 'body' | 'author' | 'createdAt' | 'note'> | undefined;
}

export interface Author {
  kind: AuthorKind;
  /** Visitor or operator id; empty for system. */
  id: string;
  name: string;
}

export interface EmailHeaders {
  messageId: string;
  inReplyTo: string | undefined;
  references: string[];
  from: string;
  subject: string;
}

/** A file a message carries: what clients see of an Attachment. */
export interface AttachmentRef {
  id: string;
  /** The file name as uploaded, made safe (attachments/kinds.ts). */
  name: string;
  /** Its media type, one of the allowed ones. */
  type: string;
  size: number;
}

/** An uploaded file, before and after a message carries it; its bytes are in the attachment storage under `id`. */
export interface Attachment extends AttachmentRef {
  workspaceId: string;
  conversationId: string;
  /** Who uploaded it: only they may send it (`visitor:<id>` or `operator:<id>`). */
  uploader: string;
  createdAt: number;
}

export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  /** The sender's idempotency key (unique per conversation). */
  clientId: string;
  author: Author;
  body: string;
  /** Internal note: operators only, never sent to the visitor or by email. */
  note: boolean;
  via: Via;
  email: EmailHeaders | undefined;
  /** Files it carries (none: empty). */
  attachments: AttachmentRef[];
  createdAt: number;
}

export interface VisitorPatch {
  email?: string;
  emailVerified?: boolean;
  name?: string;
  meta?: Record<string, string>;
  lastSeenAt?: number;
}

/** What updateConversation changes; read marks never move back, `null` clears. */
export interface ConversationPatch {
  state?: ConversationState;
  assigneeId?: string | null;
  visitorReadSeq?: number;
  operatorReadSeq?: number;
  emailSubject?: string;
  rating?: Rating;
  labels?: string[];
  snoozedUntil?: number | null;
}

export interface CannedResponse {
  id: string;
  workspaceId: string;
  shortcut: string;
  body: string;
}

/** `open`, `unassigned` and `mine` leave snoozed conversations out; `snoozed` lists them. */
export type ConversationFilter = 'open' | 'unassigned' | 'mine' | 'snoozed' | 'resolved' | 'all';

export interface NewMessage {
  conversationId: string;
  clientId: string;
  author: Author;
  body: string;
  note?: boolean;
  via?: Via;
  email?: EmailHeaders;
  attachments?: AttachmentRef[];
  /** The author's side has read up to this message: a visitor's own moves visitorReadSeq, an operator's (not a note) operatorReadSeq. */
  markRead?: boolean;
  /** The conversation is open again (a visitor writing into a resolved one). */
  reopen?: boolean;
}

/** Who an email goes to: the visitor (operator replies unread) or the operators (visitor messages unread). */
export type EmailSide = 'visitor' | 'operator';

/** A conversation with messages for `side` unread and not yet emailed, and the seq emailed so far. */
export interface DueEmail {
  conversation: Conversation;
  emailedSeq: number;
}

export interface DeskStore {
  /** Applies pending migrations (idempotent; a schema_migrations table records them). */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** True when the database answers (for /healthz). */
  ping(): Promise<boolean>;

  createWorkspace(w: Omit<Workspace, 'createdAt'>): Promise<Workspace>;
  getWorkspace(id: string): Promise<Workspace | undefined>;
  /** Whether `domain` (any case) is the email domain of some workspace: inbound mail to `reply@<domain>` is refused otherwise. */
  hasEmailDomain(domain: string): Promise<boolean>;

  createOperator(o: Omit<Operator, 'id' | 'createdAt'>): Promise<Operator>;
  getOperator(id: string): Promise<Operator | undefined>;
  operatorByEmail(email: string): Promise<Operator | undefined>;
  listOperators(workspaceId: string): Promise<Operator[]>;
  /** Sign-in sessions (token → operator), expiring. */
  createSession(token: string, operatorId: string, expiresAt: number): Promise<void>;
  operatorBySession(token: string, now: number): Promise<Operator | undefined>;
  deleteSession(token: string): Promise<void>;

  createVisitor(v: { workspaceId: string; token: string; meta: Record<string, string> }): Promise<Visitor>;
  visitorByToken(token: string): Promise<Visitor | undefined>;
  getVisitor(id: string): Promise<Visitor | undefined>;
  /** Only the fields given change; a new `email` (another than the stored one) makes `emailVerified` false unless it is given too. */
  updateVisitor(id: string, patch: VisitorPatch): Promise<Visitor>;

  /** The visitor's latest conversation if it is open, else a new one. */
  /**
   * The visitor's open conversation, created when there is none; `newId` is the id it is created
   * with (a regional node's, which welcomed the visitor before the core knew of it), else a new one.
   */
  openConversation(workspaceId: string, visitorId: string, newId?: string): Promise<Conversation>;
  getConversation(id: string): Promise<Conversation | undefined>;
  /** The visitor's conversations, newest first (by creation), at most `limit`: what its widget shows above the open one. */
  visitorConversations(visitorId: string, limit: number): Promise<Conversation[]>;
  conversationByReplyToken(token: string): Promise<Conversation | undefined>;
  /** `now`: the time snoozes are compared with (default: now). */
  listConversations(workspaceId: string, q: { filter: ConversationFilter; operatorId?: string; limit?: number; now?: number }): Promise<ConversationSummary[]>;
  /** Read seqs only move forward (the store keeps the larger); `assigneeId: null` unassigns. Bumps lastActivityAt. */
  updateConversation(id: string, patch: ConversationPatch): Promise<Conversation>;
  /** Ends the snoozes due by `now` (one caller gets each, whatever the number of nodes): the conversations woken. */
  wakeSnoozed(now: number): Promise<Conversation[]>;

  /**
   * Stores a message with the next seq, or returns the one already stored under (conversationId,
   * clientId). Throws on an unknown conversation. One transaction with the conversation's update
   * (last seq, activity, `markRead`, `reopen`), whose row it returns when it stored the message.
   */
  appendMessage(m: NewMessage): Promise<{ message: Message; duplicate: boolean; conversation?: Conversation }>;
  /** One conversation as the inbox lists it (listConversations' row), or undefined. */
  conversationSummary(id: string): Promise<ConversationSummary | undefined>;
  /** Messages with seq > afterSeq, oldest first, at most `limit` (default 500). */
  messagesAfter(conversationId: string, afterSeq: number, limit?: number): Promise<Message[]>;
  /**
   * Messages of the workspace (notes included) containing every word of `query`, the last one as
   * a prefix (search as you type), newest first, at most `limit`. Words are letters and digits;
   * a query without any finds nothing.
   */
  searchMessages(workspaceId: string, query: string, limit: number): Promise<Message[]>;
  messageByEmailId(messageId: string): Promise<Message | undefined>;

  /**
   * Conversations whose messages for `side` (operator replies, no notes, for the visitor; visitor
   * messages for the operators) are unread by that side, not yet emailed and written at or before
   * `writtenBefore` (ms). For the visitor side only visitors with an email address. At most `limit` (100).
   */
  emailsDue(side: EmailSide, writtenBefore: number, limit?: number): Promise<DueEmail[]>;
  /**
   * Claims the email of `side` up to `seq`: true for exactly one caller across all nodes (the one
   * whose conditional update moved the conversation's emailed mark below `seq` up to it).
   */
  claimEmail(conversationId: string, side: EmailSide, seq: number): Promise<boolean>;
  /** Records a Message-ID of the conversation's email thread (sent or received); a repeat is ignored. */
  addThreadEmail(conversationId: string, messageId: string): Promise<void>;
  /** The thread's Message-IDs, oldest first. */
  emailThread(conversationId: string): Promise<string[]>;
  /** The conversation a Message-ID belongs to (its thread or a stored message). */
  conversationByEmailId(messageId: string): Promise<Conversation | undefined>;

  /** Records an uploaded file (its bytes are already stored). */
  createAttachment(a: Omit<Attachment, 'createdAt'>): Promise<Attachment>;
  getAttachment(id: string): Promise<Attachment | undefined>;

  listCanned(workspaceId: string): Promise<CannedResponse[]>;
  createCanned(c: Omit<CannedResponse, 'id'>): Promise<CannedResponse>;
}
