/**
 * What clients see of the stored objects (PROTOCOL.md, Objects): messages without email headers,
 * conversations in full for operators and reduced to state and read marks for visitors. Pure,
 * except `operatorConversation`, which reads the few rows a summary needs.
 */
import type { AttachmentRef, Author, Conversation, ConversationSummary, DeskStore, Message, Operator, Visitor } from '../store/types.js';

export interface MessageView {
  id: string;
  conversation: string;
  seq: number;
  clientId: string;
  author: Author;
  body: string;
  note: boolean;
  via: 'chat' | 'email';
  /** Files it carries; `url` is relative to the Desk node (server/attachments.ts). */
  attachments: AttachmentView[];
  createdAt: number;
}

export interface AttachmentView extends AttachmentRef {
  url: string;
}

/** Where a file is served, relative to the Desk node. */
export function fileUrl(a: AttachmentRef): string {
  return `/files/${a.id}/${encodeURIComponent(a.name)}`;
}

export interface VisitorConversationView {
  id: string;
  state: Conversation['state'];
  visitorReadSeq: number;
  operatorReadSeq: number;
  lastSeq: number;
  /** What the visitor said of it once resolved (`conversation.rate`). */
  rating: Conversation['rating'] | null;
}

export interface OperatorConversationView extends VisitorConversationView {
  assignee: string | null;
  labels: string[];
  /** Out of the open lists until then (ms), or null. */
  snoozedUntil: number | null;
  unread: number;
  visitor: { id: string; email: string | null; name: string | null; meta: Record<string, string> };
  lastMessage: { body: string; author: Author; createdAt: number; note: boolean } | null;
  lastActivityAt: number;
  createdAt: number;
}

export function messageView(m: Message): MessageView {
  return {
    id: m.id,
    conversation: m.conversationId,
    seq: m.seq,
    clientId: m.clientId,
    author: m.author,
    body: m.body,
    note: m.note,
    via: m.via,
    attachments: m.attachments.map((a) => ({ ...a, url: fileUrl(a) })),
    createdAt: m.createdAt,
  };
}

export function visitorConversation(c: Conversation): VisitorConversationView {
  return { id: c.id, state: c.state, visitorReadSeq: c.visitorReadSeq, operatorReadSeq: c.operatorReadSeq, lastSeq: c.lastSeq, rating: c.rating ?? null };
}

/** A conversation as the inbox lists it, from the store's summary and (when known) its visitor. */
export function summaryView(s: ConversationSummary, visitor?: Visitor): OperatorConversationView {
  return {
    ...visitorConversation(s),
    assignee: s.assigneeId ?? null,
    labels: s.labels,
    snoozedUntil: s.snoozedUntil ?? null,
    unread: s.unread,
    visitor: {
      id: s.visitorId,
      email: visitor?.email ?? s.visitorEmail ?? null,
      name: visitor?.name ?? s.visitorName ?? null,
      meta: visitor?.meta ?? s.visitorMeta,
    },
    lastMessage: s.lastMessage ? { body: s.lastMessage.body, author: s.lastMessage.author, createdAt: s.lastMessage.createdAt, note: s.lastMessage.note } : null,
    lastActivityAt: s.lastActivityAt,
    createdAt: s.createdAt,
  };
}

/** The summary of one conversation as the inbox lists it (one query). */
export async function operatorConversation(store: DeskStore, c: Conversation): Promise<OperatorConversationView> {
  const summary = await store.conversationSummary(c.id);
  if (!summary) throw new Error(`conversation ${c.id} has no summary`);
  return summaryView(summary);
}

export function operatorView(o: Operator): { id: string; name: string; email: string } {
  return { id: o.id, name: o.name, email: o.email };
}

export function visitorAuthor(v: Visitor): Author {
  return { kind: 'visitor', id: v.id, name: v.name ?? 'Visitor' };
}

export function operatorAuthor(o: Operator): Author {
  return { kind: 'operator', id: o.id, name: o.name };
}

/**
 * Messages after `afterSeq` a reader may see, at most `limit`: notes are skipped for visitors, and
 * pages are read on until `limit` visible messages or the end (a run of notes never looks like
 * the end of the conversation to a visitor).
 */
export async function visibleMessagesAfter(store: DeskStore, conversationId: string, afterSeq: number, forVisitor: boolean, limit = 500): Promise<Message[]> {
  const out: Message[] = [];
  let from = afterSeq;
  for (let pages = 0; pages < 20 && out.length < limit; pages++) {
    const page = await store.messagesAfter(conversationId, from, limit);
    for (const m of page) if (!forVisitor || !m.note) out.push(m);
    if (page.length < limit) break;
    from = page[page.length - 1]!.seq;
  }
  return out.slice(0, limit);
}
