/**
 * Conversations and messages as the inbox holds them: pure functions, no DOM, no socket. A
 * conversation is the server's OperatorConversationView, merged over what the inbox already knew
 * (read marks and seqs only grow; an event may come after a fresher local change).
 */
import type { MessageView, OperatorConversationView, VisitorConversationView } from '../../src/protocol.js';

/**
 * The server's summary, its last message holding the names of the files it carries when the inbox
 * saw that message (a `message.new` or a thread it loaded): the summary itself names none.
 */
export type InboxConversation = Omit<OperatorConversationView, 'lastMessage'> & { lastMessage: LastMessage };

export type LastMessage = (NonNullable<OperatorConversationView['lastMessage']> & { files?: string[] }) | null;

export type Filter = 'open' | 'unassigned' | 'mine' | 'snoozed' | 'resolved';

export const FILTERS: readonly { id: Filter; label: string }[] = [
  { id: 'open', label: 'Open' },
  { id: 'unassigned', label: 'Unassigned' },
  { id: 'mine', label: 'Mine' },
  { id: 'snoozed', label: 'Snoozed' },
  { id: 'resolved', label: 'Resolved' },
];

/** `conversation.update` carries the whole view to operators; the reduced one is the visitors'. */
export function isOperatorView(c: OperatorConversationView | VisitorConversationView): c is OperatorConversationView {
  return 'visitor' in c;
}

/** `next` over `prev`: seqs and read marks never go back, a missing visitor field or last message keeps the known one. */
export function mergeConversation(next: OperatorConversationView | VisitorConversationView, prev: InboxConversation | undefined): InboxConversation {
  const base = isOperatorView(next) ? next : prev ? { ...prev, ...next } : stubConversation(next.id, Date.now(), next);
  const visitor = base.visitor;
  return {
    ...base,
    lastSeq: Math.max(next.lastSeq, prev?.lastSeq ?? 0),
    visitorReadSeq: Math.max(next.visitorReadSeq, prev?.visitorReadSeq ?? 0),
    operatorReadSeq: Math.max(next.operatorReadSeq, prev?.operatorReadSeq ?? 0),
    visitor: {
      id: visitor.id || prev?.visitor.id || '',
      email: visitor.email ?? prev?.visitor.email ?? null,
      name: visitor.name ?? prev?.visitor.name ?? null,
      meta: visitor.meta,
    },
    lastMessage: lastWords(prev?.lastMessage ?? null, base.lastMessage),
    lastActivityAt: base.lastActivityAt || prev?.lastActivityAt || Date.now(),
    createdAt: base.createdAt || prev?.createdAt || 0,
  };
}

/**
 * The list's preview of a conversation: what a person last wrote, the newer of `current` and
 * `candidate`. An activity line (a system note: "Ada resolved this conversation", which the server
 * makes the summary's last message) shows only while nothing a person wrote is known.
 */
export function lastWords(current: LastMessage, candidate: LastMessage): LastMessage {
  if (!candidate || !current) return candidate ?? current;
  const line = (m: NonNullable<LastMessage>) => m.author.kind === 'system';
  if (line(candidate) !== line(current)) return line(candidate) ? current : candidate;
  if (candidate.createdAt < current.createdAt) return current;
  // The same message again from a summary, which names no files: the names known stay.
  const same = candidate.createdAt === current.createdAt && candidate.author.id === current.author.id && candidate.body === current.body;
  return same && !candidate.files && current.files ? { ...candidate, files: current.files } : candidate;
}

/**
 * A message in the list's words: its text, else its files ("📎 photo.png", "📎 2 files"). A body
 * is empty only when files came with it (PROTOCOL.md, message.send), so an empty one whose files
 * the inbox never saw still says there are some.
 */
export function previewText(m: { body: string; files?: string[] }): string {
  if (m.body.trim()) return m.body;
  const files = m.files ?? [];
  if (files.length > 1) return `📎 ${files.length} files`;
  return `📎 ${files[0] ?? 'Attachment'}`;
}

/** A conversation known only by a message in it, until the list comes back (`createdAt` 0: unknown). */
export function stubConversation(id: string, at: number, known?: VisitorConversationView): InboxConversation {
  return {
    id,
    state: known?.state ?? 'open',
    rating: known?.rating ?? null,
    assignee: null,
    labels: [],
    snoozedUntil: null,
    lastSeq: known?.lastSeq ?? 0,
    visitorReadSeq: known?.visitorReadSeq ?? 0,
    operatorReadSeq: known?.operatorReadSeq ?? 0,
    unread: 0,
    visitor: { id: '', email: null, name: null, meta: {} },
    lastMessage: null,
    lastActivityAt: at,
    createdAt: 0,
  };
}

/** Snoozed now: open, its snooze still ahead (the server's `snoozed` list; PROTOCOL.md, conversation.snooze). */
export function isSnoozed(c: Pick<InboxConversation, 'state' | 'snoozedUntil'>, now = Date.now()): boolean {
  return c.state === 'open' && c.snoozedUntil !== null && c.snoozedUntil > now;
}

/** Open, unassigned and mine leave out what is snoozed (until it is due), as the server's lists do. */
export function matchesFilter(c: InboxConversation, filter: Filter, meId: string | undefined, now = Date.now()): boolean {
  switch (filter) {
    case 'open':
      return c.state === 'open' && !isSnoozed(c, now);
    case 'unassigned':
      return c.state === 'open' && !c.assignee && !isSnoozed(c, now);
    case 'mine':
      return c.state === 'open' && c.assignee === meId && !isSnoozed(c, now);
    case 'snoozed':
      return isSnoozed(c, now);
    case 'resolved':
      return c.state === 'resolved';
  }
}

export function filterCounts(conversations: Iterable<InboxConversation>, meId: string | undefined, now = Date.now()): Record<Filter, number> {
  const counts: Record<Filter, number> = { open: 0, unassigned: 0, mine: 0, snoozed: 0, resolved: 0 };
  for (const c of conversations) for (const f of FILTERS) if (matchesFilter(c, f.id, meId, now)) counts[f.id]++;
  return counts;
}

/** The snooze menu's times, local: in an hour, tomorrow at 9:00, next week's Monday at 9:00. */
export function snoozeChoices(now = Date.now()): { id: string; label: string; until: number }[] {
  const at9 = (days: number) => {
    const d = new Date(now);
    d.setDate(d.getDate() + days);
    d.setHours(9, 0, 0, 0);
    return d.getTime();
  };
  const day = new Date(now).getDay();
  return [
    { id: 'hour', label: '1 hour', until: now + 3_600_000 },
    { id: 'tomorrow', label: 'Tomorrow 9:00', until: at9(1) },
    { id: 'monday', label: 'Next week Monday 9:00', until: at9((8 - day) % 7 || 7) },
  ];
}

/** `labels` with `label` added (trimmed; one of each whatever its case), or null when there is nothing to add. */
export function withLabel(labels: readonly string[], label: string): string[] | null {
  const l = label.trim();
  if (!l || labels.some((x) => x.toLowerCase() === l.toLowerCase())) return null;
  return [...labels, l];
}

/** Name, else email, else a stable "Visitor #1a2b3c" from the visitor id. */
export function visitorLabel(c: InboxConversation): string {
  const v = c.visitor;
  if (v.name) return v.name;
  if (v.email) return v.email;
  const tail = (v.id || c.id).replace(/^[a-z]+_/, '').slice(-6);
  return `Visitor #${tail}`;
}

/** Inserts or replaces by seq, keeping the list ordered by the server's seq (never by clocks); true when inserted. */
export function upsertBySeq<M extends Pick<MessageView, 'seq'>>(list: M[], message: M): boolean {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].seq === message.seq) {
      list[mid] = message;
      return false;
    }
    if (list[mid].seq < message.seq) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, message);
  return true;
}
