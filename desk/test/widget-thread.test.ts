/**
 * The widget's pure parts, without a browser: the language it picks, messages kept one per seq
 * in the server's order, the thread's rows (day lines, grouping, receipts, end and rating rows)
 * and the unread count of the launcher's badge. The browser tests cover the rest.
 */
import { describe, expect, it } from 'vitest';
import type { EarlierConversation, MessageView, VisitorConversationView } from '../src/protocol.js';
import { de } from '../web/widget/locales/de.js';
import { en } from '../web/widget/locales/en.js';
import { fr } from '../web/widget/locales/fr.js';
import { pickLocale } from '../web/widget/locales/pick.js';
import { type IncomingMessage, indexBySeq, place } from '../web/widget/messages.js';
import { unreadCount } from '../web/widget/unread.js';
import type { OutboxItem, ThreadMessage } from '../web/widget/state.js';
import { type Row, threadItems, threadRows } from '../web/widget/thread-items.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 10, 0);

function message(seq: number, kind: 'visitor' | 'operator' | 'system', at = T0 + seq * MIN, body = `m${seq}`): MessageView {
  return {
    id: `m_${seq}`,
    conversation: 'c_1',
    seq,
    clientId: `k_${seq}`,
    author: { kind, id: kind === 'system' ? '' : `${kind[0]}_1`, name: kind === 'operator' ? 'Ada' : '' },
    body,
    note: false,
    via: 'chat',
    attachments: [],
    createdAt: at,
  };
}

function conversation(over: Partial<VisitorConversationView> = {}): VisitorConversationView {
  return { id: 'c_1', state: 'open', visitorReadSeq: 0, operatorReadSeq: 0, lastSeq: 0, rating: null, ...over };
}

const thread = (...ms: MessageView[]): ThreadMessage[] => {
  const list: ThreadMessage[] = [];
  for (const m of ms) place(list, m, false);
  return list;
};

describe('the language', () => {
  it('is the first of the visitor’s languages the widget speaks, by primary subtag, else English', () => {
    expect(pickLocale(['fr-CA', 'en'])).toMatchObject({ lang: 'fr', tag: 'fr-CA' });
    expect(pickLocale(['es-ES', 'es', 'DE-at', 'fr'])).toMatchObject({ lang: 'de', tag: 'DE-at' });
    expect(pickLocale(['en-GB', 'fr'])).toMatchObject({ lang: 'en', tag: 'en-GB' });
    expect(pickLocale(['es-ES', 'pt'])).toMatchObject({ lang: 'en', tag: 'en' });
    expect(pickLocale([])).toMatchObject({ lang: 'en', tag: 'en' });
    // No accidental match on an object's own machinery.
    expect(pickLocale(['constructor', 'toString'])).toMatchObject({ lang: 'en' });
    expect(pickLocale(['de']).t).toBe(de);
  });

  it('every locale has every text, none blank, and places the values it is given', () => {
    for (const t of [en, fr, de]) {
      for (const [key, value] of Object.entries(t)) {
        if (typeof value === 'string') expect(value.trim(), key).not.toBe('');
        else expect((value as (v: unknown) => string)('⟨v⟩'), key).toContain('⟨v⟩');
      }
      expect(t.openChat(0)).not.toMatch(/\d/);
    }
    expect([en.openChat(1), en.openChat(2)]).toEqual(['Open chat, 1 unread message', 'Open chat, 2 unread messages']);
    expect([fr.openChat(1), fr.openChat(3)]).toEqual(['Ouvrir la discussion, 1 message non lu', 'Ouvrir la discussion, 3 messages non lus']);
    expect([de.openChat(1), de.openChat(3)]).toEqual(['Chat öffnen, 1 ungelesene Nachricht', 'Chat öffnen, 3 ungelesene Nachrichten']);
  });
});

describe('messages', () => {
  it('stay in seq order whatever order they arrive in, one per seq', () => {
    const list = thread(message(3, 'operator'), message(1, 'visitor'), message(2, 'visitor'), message(1, 'visitor', T0, 'again'));
    expect(list.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(list[0]!.body).toBe('again');
    expect(indexBySeq(list, 2)).toEqual({ found: true, index: 1 });
    expect(indexBySeq(list, 9)).toEqual({ found: false, index: 3 });
  });

  it('made from an ack, never replace the real one; the real one replaces them', () => {
    const acked: IncomingMessage = { id: 'm_1', seq: 1, clientId: 'k_1', body: 'hi', author: { kind: 'visitor', id: '', name: 'You' }, createdAt: T0 };
    const list: ThreadMessage[] = [];
    place(list, message(1, 'visitor', T0, 'hi'), false);
    place(list, acked, true);
    expect(list[0]!.author.name).toBe('');
    const other: ThreadMessage[] = [];
    place(other, acked, true);
    place(other, message(1, 'visitor', T0, 'hi'), false);
    expect(other).toHaveLength(1);
    expect(other[0]).toEqual({ id: 'm_1', seq: 1, clientId: 'k_1', body: 'hi', via: 'chat', author: { kind: 'visitor', name: '' }, createdAt: T0 });
  });
});

describe('the thread’s rows', () => {
  const rowsOf = (state: Parameters<typeof threadItems>[0]) => threadRows(threadItems(state, en), (at) => (at < T0 + 60 * MIN ? 'Day 1' : 'Day 2'));
  const shape = (rows: Row[]) =>
    rows.map((r) =>
      r.type === 'day'
        ? `day ${r.label}`
        : r.type === 'message'
          ? `${r.item.key}${r.first ? ' first' : ''}${r.last ? ' last' : ''}${r.receipt ? ` (${r.item.receipt})` : ''}`
          : `${r.type} ${r.item.body}`,
    );

  it('groups an author’s messages within 5 minutes and a day; the receipt goes under the last own message', () => {
    const messages = thread(message(1, 'visitor'), message(2, 'visitor'), message(3, 'operator'), message(4, 'visitor', T0 + 20 * MIN), message(5, 'visitor', T0 + 70 * MIN));
    expect(shape(rowsOf({ earlier: [], messages, conversation: conversation({ operatorReadSeq: 4 }), outbox: [] }))).toEqual([
      'day Day 1',
      'k_1 first',
      'k_2 last',
      'k_3 first last',
      'k_4 first last',
      'day Day 2',
      'k_5 first last (sent)',
    ]);
  });

  it('shows the outbox after the thread, each pending or refused one with its receipt', () => {
    const outbox: OutboxItem[] = [
      { clientId: 'k_a', body: 'a', createdAt: T0 + 3 * MIN, failed: 'too_large' },
      { clientId: 'k_b', body: 'b', createdAt: T0 + 4 * MIN },
      { clientId: 'k_c', body: 'c', createdAt: T0 + 5 * MIN, accepted: true },
    ];
    const messages = thread(message(1, 'visitor'), message(2, 'operator'));
    expect(shape(rowsOf({ earlier: [], messages, conversation: conversation({ operatorReadSeq: 1 }), outbox }))).toEqual([
      'day Day 1',
      'k_1 first last',
      'k_2 first last',
      'k_a first (failed)',
      'k_b (sending)',
      'k_c last (sent)',
    ]);
  });

  it('closes earlier conversations with their end line, a resolved one with its rating row, and the open one once resolved', () => {
    const earlier: EarlierConversation[] = [
      { conversation: conversation({ id: 'c_0', state: 'resolved', visitorReadSeq: 1 }), messages: [message(1, 'visitor'), message(2, 'operator')] },
      { conversation: conversation({ id: 'c_9', state: 'open' }), messages: [message(1, 'visitor', T0 + 10 * MIN)] },
    ];
    const messages = thread(message(1, 'visitor', T0 + 30 * MIN));
    const rows = rowsOf({ earlier, messages, conversation: conversation({ state: 'resolved', rating: 'good' }), outbox: [] });
    expect(rows.filter((r) => r.type === 'system' || r.type === 'rate').map((r) => `${r.type} ${r.type === 'rate' ? r.conversation.id : r.item.body}`)).toEqual([
      'system Conversation resolved',
      'rate c_0',
      'system Earlier conversation',
      'system Conversation resolved',
      'rate c_1',
    ]);
  });
});

describe('the badge', () => {
  it('counts operators’ answers after the read marks, earlier conversations included', () => {
    const messages = thread(message(1, 'visitor'), message(2, 'operator'), message(3, 'operator'), message(4, 'system'));
    const earlier: EarlierConversation[] = [{ conversation: conversation({ id: 'c_0', visitorReadSeq: 1 }), messages: [message(1, 'operator'), message(2, 'operator')] }];
    expect(unreadCount({ messages, earlier, conversation: conversation({ visitorReadSeq: 2 }), readSent: 0 })).toBe(2);
    expect(unreadCount({ messages, earlier, conversation: conversation({ visitorReadSeq: 0 }), readSent: 3 })).toBe(1);
    expect(unreadCount({ messages, earlier: [], conversation: null, readSent: 0 })).toBe(2);
  });
});
