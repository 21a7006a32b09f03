/**
 * The state a page starts with: what the last page left in storage (the thread as of `lastSeq`,
 * the outbox, the read marks), so a returning visitor sees their conversation at once, before
 * the welcome.
 */
import type { VisitorConversationView } from '../../src/protocol.js';
import type { OutboxItem, ThreadMessage, WidgetState } from './state.js';
import type { WidgetStorage } from './storage.js';

export function initialState(storage: WidgetStorage, title: string): WidgetState {
  const cached = cachedThread(storage.getJSON('messages'));
  const conversation: VisitorConversationView | null = cached
    ? {
        id: cached.conversation,
        state: 'open',
        lastSeq: 0,
        operatorReadSeq: Number(storage.get('operatorReadSeq')) || 0,
        visitorReadSeq: Number(storage.get('visitorReadSeq')) || 0,
        rating: null,
      }
    : null;
  const outbox = storage.getJSON('outbox');
  return {
    open: storage.wasOpen(),
    session: storage.get('session'),
    conversation,
    messages: cached?.messages ?? [],
    earlier: [],
    emailOn: false,
    attachments: null,
    emailAsked: false,
    outbox: Array.isArray(outbox) ? (outbox as OutboxItem[]) : [],
    lastSeq: cached ? Number(storage.get('lastSeq')) || 0 : 0,
    readSent: conversation?.visitorReadSeq ?? 0,
    availability: { available: false, operators: [] },
    title,
    email: storage.get('email'),
    identity: null,
    typing: null,
    conn: 'connecting',
    shownConn: 'starting',
    connected: false,
  };
}

/** The cached thread, as thread.ts saves it: `{ conversation, messages }`. */
function cachedThread(value: unknown): { conversation: string; messages: ThreadMessage[] } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { conversation, messages } = value as { conversation?: unknown; messages?: unknown };
  if (typeof conversation !== 'string' || !conversation) return undefined;
  return { conversation, messages: Array.isArray(messages) ? (messages as ThreadMessage[]) : [] };
}
