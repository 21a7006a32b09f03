/**
 * The inbox's model: conversations (summaries), the threads the operator opened, pending sends,
 * typing, presence. Pure functions plus one small store; no DOM, no socket.
 *
 * Shapes are normalized on the way in, so the views read one shape whether a conversation came
 * from REST (the store's ConversationSummary: assigneeId, visitorEmail, …) or from the socket
 * (PROTOCOL.md: assignee, visitor {…}).
 */

export const FILTERS = [
  { id: 'open', label: 'Open' },
  { id: 'unassigned', label: 'Unassigned' },
  { id: 'mine', label: 'Mine' },
  { id: 'resolved', label: 'Resolved' },
];

/** A conversation in one shape, merged over what we already knew (events may carry less). */
export function normalizeConversation(raw, prev) {
  const visitorRaw = raw.visitor || {};
  const visitor = {
    id: visitorRaw.id ?? raw.visitorId ?? prev?.visitor.id ?? '',
    email: visitorRaw.email ?? raw.visitorEmail ?? prev?.visitor.email,
    name: visitorRaw.name ?? raw.visitorName ?? prev?.visitor.name,
    meta: visitorRaw.meta ?? raw.visitorMeta ?? prev?.visitor.meta ?? {},
    createdAt: visitorRaw.createdAt ?? raw.visitorCreatedAt ?? prev?.visitor.createdAt,
  };
  const assignee = 'assignee' in raw ? raw.assignee : 'assigneeId' in raw ? raw.assigneeId : prev?.assignee;
  return {
    id: raw.id,
    state: raw.state ?? prev?.state ?? 'open',
    rating: raw.rating ?? prev?.rating ?? null,
    assignee: assignee ?? null,
    lastSeq: Math.max(raw.lastSeq ?? 0, prev?.lastSeq ?? 0),
    visitorReadSeq: Math.max(raw.visitorReadSeq ?? 0, prev?.visitorReadSeq ?? 0),
    operatorReadSeq: Math.max(raw.operatorReadSeq ?? 0, prev?.operatorReadSeq ?? 0),
    unread: raw.unread ?? prev?.unread ?? 0,
    visitor,
    lastMessage: raw.lastMessage ?? prev?.lastMessage,
    lastActivityAt: raw.lastActivityAt ?? prev?.lastActivityAt ?? raw.createdAt ?? Date.now(),
    createdAt: raw.createdAt ?? prev?.createdAt,
  };
}

export function normalizeMessage(raw) {
  return {
    id: raw.id,
    conversation: raw.conversation ?? raw.conversationId,
    seq: raw.seq,
    clientId: raw.clientId,
    author: raw.author || { kind: 'system', id: '', name: '' },
    body: String(raw.body ?? ''),
    note: !!raw.note,
    via: raw.via || 'chat',
    createdAt: raw.createdAt || Date.now(),
  };
}

export function matchesFilter(c, filter, meId) {
  switch (filter) {
    case 'open': return c.state === 'open';
    case 'unassigned': return c.state === 'open' && !c.assignee;
    case 'mine': return c.state === 'open' && c.assignee === meId;
    case 'resolved': return c.state === 'resolved';
    default: return true;
  }
}

export function filterCounts(conversations, meId) {
  const counts = { open: 0, unassigned: 0, mine: 0, resolved: 0 };
  for (const c of conversations) for (const f of FILTERS) if (matchesFilter(c, f.id, meId)) counts[f.id]++;
  return counts;
}

/** Name, else email, else a stable "Visitor #1a2b3c" from the visitor id. */
export function visitorLabel(c) {
  const v = c.visitor;
  if (v.name) return v.name;
  if (v.email) return v.email;
  const tail = String(v.id || c.id).replace(/^[a-z]+_/, '').slice(-6);
  return `Visitor #${tail}`;
}

/** Inserts or replaces by seq, keeping the list ordered by the server's seq (never by clocks). */
export function upsertBySeq(list, message) {
  let lo = 0, hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].seq === message.seq) { list[mid] = message; return false; }
    if (list[mid].seq < message.seq) lo = mid + 1; else hi = mid;
  }
  list.splice(lo, 0, message);
  return true;
}

/** Holds the state and tells its subscribers which part changed ('list', 'thread', 'presence', …). */
export class InboxState {
  constructor() {
    this.me = null;                 // { id, name, email }
    this.conversations = new Map(); // id → normalized conversation
    this.threads = new Map();       // id → { messages: [], loaded: bool, pending: [{ clientId, body, note, createdAt, failed? }] }
    this.typing = new Map();        // conversation id → { name, until }
    this.teamTyping = new Map();    // conversation id → { name, until }: a teammate writing there
    this.presence = [];             // [{ id, name, status }]
    this.operators = [];            // every teammate, [{ id, name, email }] (GET /api/operators)
    this.search = undefined;        // { q, results: [{ conversation, message }] } while the search box has words
    this.canned = [];
    this.filter = 'open';
    this.selected = null;
    this.conn = 'connecting';
    this.listeners = new Set();
  }

  subscribe(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }
  emit(...parts) { for (const fn of this.listeners) fn(new Set(parts)); }

  upsertConversation(raw) {
    const prev = this.conversations.get(raw.id);
    const next = normalizeConversation(raw, prev);
    this.conversations.set(next.id, next);
    return next;
  }

  thread(id) {
    let t = this.threads.get(id);
    if (!t) { t = { messages: [], loaded: false, pending: [] }; this.threads.set(id, t); }
    return t;
  }

  /** Adds stored messages to a thread; settles pending sends by clientId; keeps the summary current. */
  addMessages(conversationId, raws) {
    const t = this.thread(conversationId);
    let newest;
    for (const raw of raws) {
      const m = normalizeMessage(raw);
      upsertBySeq(t.messages, m);
      if (m.clientId) t.pending = t.pending.filter((p) => p.clientId !== m.clientId);
      if (!newest || m.seq > newest.seq) newest = m;
      if (m.author.kind === 'visitor') this.typing.delete(conversationId);
    }
    const c = this.conversations.get(conversationId);
    if (c && newest && newest.seq >= c.lastSeq) {
      c.lastSeq = newest.seq;
      c.lastMessage = { body: newest.body, author: newest.author, createdAt: newest.createdAt, note: newest.note };
      c.lastActivityAt = Math.max(c.lastActivityAt || 0, newest.createdAt);
    }
  }

  lastSeqOf(conversationId) {
    const t = this.threads.get(conversationId);
    return t && t.messages.length ? t.messages[t.messages.length - 1].seq : 0;
  }

  /** The list as shown: the search's conversations while there is one (newest match first), else the filter's. */
  visibleConversations() {
    if (this.search) return this.search.results.map((r) => this.conversations.get(r.conversation.id)).filter(Boolean);
    return [...this.conversations.values()]
      .filter((c) => matchesFilter(c, this.filter, this.me?.id))
      .sort((a, b) => (b.lastActivityAt || 0) - (a.lastActivityAt || 0));
  }

  operatorName(id) {
    if (!id) return '';
    if (this.me && id === this.me.id) return this.me.name;
    return this.presence.find((o) => o.id === id)?.name || this.operators.find((o) => o.id === id)?.name || 'a teammate';
  }

  typingIn(conversationId) {
    const t = this.typing.get(conversationId);
    return t && t.until > Date.now() ? t : undefined;
  }
}
