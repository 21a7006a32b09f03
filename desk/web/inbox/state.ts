/**
 * What the inbox knows: conversations (summaries), the threads the operator opened with their
 * pending sends, who is typing, presence, the search, the filter and the selection. One plain
 * store, no DOM, no socket: the controller changes it and asks for a render.
 */
import type { AttachmentPolicy, AttachmentView, MessageView, OperatorConversationView, PresenceOperator, VisitorConversationView } from '../../src/protocol.js';
import type { CannedResponse, OperatorView, SearchResult } from './api.js';
import type { LinkState } from '../shared/connection.js';
import { type Filter, type InboxConversation, lastWords, matchesFilter, mergeConversation, upsertBySeq } from './conversations.js';

/** A send not yet acknowledged: kept, and sent again (same clientId) after a reconnect. */
export interface PendingSend {
  clientId: string;
  body: string;
  note: boolean;
  /** The files it names, uploaded already: shown with it, and named again when it is sent again. */
  attachments: AttachmentView[];
  createdAt: number;
  /** Refused by the server (not rate-limited): shown as not delivered, not sent again. */
  failed?: boolean;
}

/** What the inbox reads of a stored message. */
export type ThreadMessage = Pick<MessageView, 'id' | 'conversation' | 'seq' | 'clientId' | 'author' | 'body' | 'note' | 'via' | 'attachments' | 'createdAt'>;

export interface Thread {
  /** Stored messages, ordered by seq. */
  messages: ThreadMessage[];
  /** The whole history came over REST. */
  loaded: boolean;
  loading: boolean;
  pending: PendingSend[];
}

/** Someone typing in a conversation, shown until `until`. */
export interface TypingMark {
  name: string;
  until: number;
}

export interface SearchState {
  q: string;
  results: SearchResult[];
}

export class InboxState {
  me: OperatorView | null = null;
  readonly conversations = new Map<string, InboxConversation>();
  readonly threads = new Map<string, Thread>();
  /** The visitor typing, per conversation. */
  readonly typing = new Map<string, TypingMark>();
  /** A teammate writing a reply, per conversation. */
  readonly teamTyping = new Map<string, TypingMark>();
  presence: PresenceOperator[] = [];
  /** Every teammate (GET /api/operators), to assign to. */
  operators: OperatorView[] = [];
  /** While the search box has words. */
  search: SearchState | undefined = undefined;
  canned: CannedResponse[] = [];
  filter: Filter = 'open';
  selected: string | null = null;
  /** The conversation last focused in the list (its roving Tab stop). */
  listFocus: string | undefined = undefined;
  conn: LinkState = 'connecting';
  /** What may be attached (the welcome's `attachments`): null while unknown or when this Desk takes no files. */
  attachments: AttachmentPolicy | null = null;

  upsertConversation(view: OperatorConversationView | VisitorConversationView): InboxConversation {
    const next = mergeConversation(view, this.conversations.get(view.id));
    this.conversations.set(next.id, next);
    return next;
  }

  thread(id: string): Thread {
    let t = this.threads.get(id);
    if (!t) this.threads.set(id, (t = { messages: [], loaded: false, loading: false, pending: [] }));
    return t;
  }

  /** Adds stored messages to a thread; settles pending sends by clientId; keeps the summary current. */
  addMessages(conversationId: string, messages: ThreadMessage[]): void {
    const t = this.thread(conversationId);
    let newest: ThreadMessage | undefined;
    /** The newest a person wrote (not an activity line). */
    let words: ThreadMessage | undefined;
    for (const m of messages) {
      upsertBySeq(t.messages, m);
      if (m.clientId) t.pending = t.pending.filter((p) => p.clientId !== m.clientId);
      if (!newest || m.seq > newest.seq) newest = m;
      if (m.author.kind !== 'system' && (!words || m.seq > words.seq)) words = m;
      if (m.author.kind === 'visitor') this.typing.delete(conversationId);
    }
    const c = this.conversations.get(conversationId);
    if (c && newest && newest.seq >= c.lastSeq) {
      const last = words ?? newest;
      c.lastSeq = newest.seq;
      c.lastMessage = lastWords(c.lastMessage, {
        body: last.body,
        author: last.author,
        createdAt: last.createdAt,
        note: last.note,
        files: last.attachments.map((a) => a.name),
      });
      c.lastActivityAt = Math.max(c.lastActivityAt || 0, newest.createdAt);
    }
  }

  lastSeqOf(conversationId: string): number {
    const t = this.threads.get(conversationId);
    return t?.messages.length ? t.messages[t.messages.length - 1].seq : 0;
  }

  /** The list as shown: the search's conversations while there is one (newest match first), else the filter's, newest first. */
  visibleConversations(): InboxConversation[] {
    if (this.search) return this.search.results.flatMap((r) => this.conversations.get(r.conversation.id) ?? []);
    return [...this.conversations.values()].filter((c) => matchesFilter(c, this.filter, this.me?.id)).sort((a, b) => (b.lastActivityAt || 0) - (a.lastActivityAt || 0));
  }

  /** A teammate's name: mine, from presence, from the operators list, else "a teammate". */
  operatorName(id: string | null): string {
    if (!id) return '';
    if (this.me && id === this.me.id) return this.me.name;
    return this.presence.find((o) => o.id === id)?.name || this.operators.find((o) => o.id === id)?.name || 'a teammate';
  }

  typingIn(conversationId: string): TypingMark | undefined {
    const t = this.typing.get(conversationId);
    return t && t.until > Date.now() ? t : undefined;
  }

  teammateTypingIn(conversationId: string): TypingMark | undefined {
    const t = this.teamTyping.get(conversationId);
    return t && t.until > Date.now() ? t : undefined;
  }

  /** Unread visitor messages in open conversations other than the one on screen (the page title's count). */
  unreadElsewhere(): number {
    let n = 0;
    for (const c of this.conversations.values()) if (c.state === 'open' && c.id !== this.selected) n += c.unread || 0;
    return n;
  }
}
