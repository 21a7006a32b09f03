/**
 * The inbox's model (desk/web/inbox/conversations.ts and state.ts), without a DOM: conversations
 * merged over what was known, threads ordered by seq whatever the arrival order, pending sends
 * settled by clientId, the list as the filters and the search show it.
 */
import { describe, expect, it } from 'vitest';
import type { MessageView, OperatorConversationView } from '../src/protocol.js';
import {
  filterCounts,
  isSnoozed,
  lastWords,
  matchesFilter,
  mergeConversation,
  previewText,
  snoozeChoices,
  stubConversation,
  upsertBySeq,
  visitorLabel,
  withLabel,
} from '../web/inbox/conversations.js';
import { InboxState } from '../web/inbox/state.js';

function conversation(over: Partial<OperatorConversationView> = {}): OperatorConversationView {
  return {
    id: 'c_1',
    state: 'open',
    rating: null,
    assignee: null,
    labels: [],
    snoozedUntil: null,
    lastSeq: 2,
    visitorReadSeq: 1,
    operatorReadSeq: 1,
    unread: 1,
    visitor: { id: 'v_abc123xyz', email: null, name: null, meta: {} },
    lastMessage: null,
    lastActivityAt: 1000,
    createdAt: 900,
    ...over,
  };
}

function message(seq: number, over: Partial<MessageView> = {}): MessageView {
  return {
    id: `m_${seq}`,
    conversation: 'c_1',
    seq,
    clientId: `k_${seq}`,
    author: { kind: 'visitor', id: 'v_abc123xyz', name: 'Visitor' },
    body: `message ${seq}`,
    note: false,
    via: 'chat',
    attachments: [],
    createdAt: 1000 + seq,
    ...over,
  } as MessageView;
}

describe('conversations', () => {
  it('merge over what was known: read marks and seqs never go back, a missing email or last message is kept', () => {
    const known = mergeConversation(conversation({ lastSeq: 5, operatorReadSeq: 4, visitor: { id: 'v_1', email: 'ada@x.test', name: null, meta: {} } }), undefined);
    const next = mergeConversation(conversation({ lastSeq: 3, operatorReadSeq: 2, state: 'resolved', visitor: { id: 'v_1', email: null, name: 'Ada', meta: { page: 'https://shop.test/' } } }), known);
    expect(next).toMatchObject({ state: 'resolved', lastSeq: 5, operatorReadSeq: 4, visitor: { email: 'ada@x.test', name: 'Ada', meta: { page: 'https://shop.test/' } } });
  });

  it('a visitor-side update (no visitor field) changes state and marks only', () => {
    const known = mergeConversation(conversation({ assignee: 'o_1', visitor: { id: 'v_1', email: 'a@x.test', name: null, meta: {} } }), undefined);
    const next = mergeConversation({ id: 'c_1', state: 'resolved', rating: 'good', lastSeq: 9, visitorReadSeq: 9, operatorReadSeq: 1 }, known);
    expect(next).toMatchObject({ state: 'resolved', rating: 'good', lastSeq: 9, assignee: 'o_1', visitor: { email: 'a@x.test' } });
  });

  it('previews what a person last wrote: an activity line only while nothing else is known', () => {
    const words = { body: 'Is it waterproof?', author: { kind: 'visitor' as const, id: 'v_1', name: 'Visitor' }, createdAt: 10, note: false };
    const line = { body: 'Ada resolved this conversation', author: { kind: 'system' as const, id: '', name: 'Desk' }, createdAt: 20, note: true };
    const later = { ...words, body: 'Thanks!', createdAt: 30 };
    expect(lastWords(words, line)).toBe(words);
    expect(lastWords(null, line)).toBe(line);
    expect(lastWords(line, words)).toBe(words);
    expect(lastWords(words, later)).toBe(later);
    expect(lastWords(later, words)).toBe(later);
    // A summary whose last message is an activity line keeps the words known before.
    const known = mergeConversation(conversation({ lastMessage: words }), undefined);
    expect(mergeConversation(conversation({ lastSeq: 3, lastMessage: line }), known).lastMessage).toBe(words);
  });

  it('previews a message of files alone by its files, and keeps their names when a summary repeats it', () => {
    const author = { kind: 'visitor' as const, id: 'v_1', name: 'Visitor' };
    expect(previewText({ body: 'See *this*', files: ['a.png'] })).toBe('See *this*');
    expect(previewText({ body: '', files: ['photo.png'] })).toBe('📎 photo.png');
    expect(previewText({ body: ' ', files: ['a.png', 'b.pdf'] })).toBe('📎 2 files');
    // A summary's last message names no files: an empty body still says there is one.
    expect(previewText({ body: '' })).toBe('📎 Attachment');
    const seen = { body: '', author, createdAt: 10, note: false, files: ['photo.png'] };
    const summary = { body: '', author, createdAt: 10, note: false };
    expect(lastWords(seen, summary)).toEqual({ ...summary, files: ['photo.png'] });
    expect(lastWords(seen, { ...summary, createdAt: 11 })).toEqual({ ...summary, createdAt: 11 });
    const known = mergeConversation(conversation({ lastMessage: seen }), undefined);
    expect(mergeConversation(conversation({ lastMessage: summary }), known).lastMessage?.files).toEqual(['photo.png']);
  });

  it('labels a visitor by name, else email, else a stable tail of their id', () => {
    expect(visitorLabel(conversation({ visitor: { id: 'v_1', email: 'a@x.test', name: 'Ada', meta: {} } }))).toBe('Ada');
    expect(visitorLabel(conversation({ visitor: { id: 'v_1', email: 'a@x.test', name: null, meta: {} } }))).toBe('a@x.test');
    expect(visitorLabel(conversation())).toBe('Visitor #123xyz');
    expect(visitorLabel(stubConversation('c_zz9876', 1))).toBe('Visitor #zz9876');
  });

  it('counts each filter: open, unassigned, mine, resolved', () => {
    const list = [conversation({ id: 'a' }), conversation({ id: 'b', assignee: 'o_me' }), conversation({ id: 'c', assignee: 'o_other' }), conversation({ id: 'd', state: 'resolved' })];
    expect(filterCounts(list, 'o_me')).toEqual({ open: 3, unassigned: 1, mine: 1, snoozed: 0, resolved: 1 });
  });

  it('keeps snoozed conversations out of open, unassigned and mine until they are due, and lists them under snoozed', () => {
    const now = 1_000_000;
    const list = [
      conversation({ id: 'a', snoozedUntil: now + 60_000 }),
      conversation({ id: 'b', assignee: 'o_me', snoozedUntil: now + 1 }),
      conversation({ id: 'c', assignee: 'o_me', snoozedUntil: now }), // due: awake
      conversation({ id: 'd', snoozedUntil: now - 5 }),
      conversation({ id: 'e', state: 'resolved', snoozedUntil: now + 60_000 }),
      conversation({ id: 'f' }),
    ];
    expect(filterCounts(list, 'o_me', now)).toEqual({ open: 3, unassigned: 2, mine: 1, snoozed: 2, resolved: 1 });
    const ids = (f: Parameters<typeof matchesFilter>[1], at = now) => list.filter((c) => matchesFilter(c, f, 'o_me', at)).map((c) => c.id);
    expect(ids('snoozed')).toEqual(['a', 'b']);
    expect(ids('open')).toEqual(['c', 'd', 'f']);
    expect(ids('mine')).toEqual(['c']);
    expect(ids('unassigned')).toEqual(['d', 'f']);
    // An hour later every snooze is due.
    expect(ids('snoozed', now + 3_600_000)).toEqual([]);
    expect(ids('open', now + 3_600_000)).toEqual(['a', 'b', 'c', 'd', 'f']);
    expect(isSnoozed(conversation({ snoozedUntil: null }), now)).toBe(false);
  });

  it('offers snoozes in an hour, tomorrow at 9:00 and next Monday at 9:00, local time', () => {
    const wed = new Date(2026, 11, 9, 15, 30).getTime(); // a Wednesday
    const [hour, tomorrow, monday] = snoozeChoices(wed);
    expect(hour.until).toBe(wed + 3_600_000);
    expect(new Date(tomorrow.until)).toEqual(new Date(2026, 11, 10, 9, 0));
    expect(new Date(monday.until)).toEqual(new Date(2026, 11, 14, 9, 0));
    const mon = new Date(2026, 11, 14, 8, 0).getTime(); // on a Monday: the next one
    expect(new Date(snoozeChoices(mon)[2].until)).toEqual(new Date(2026, 11, 21, 9, 0));
    const sun = new Date(2026, 11, 13, 20, 0).getTime();
    expect(new Date(snoozeChoices(sun)[2].until)).toEqual(new Date(2026, 11, 14, 9, 0));
  });

  it('adds a label once whatever its case, trimmed', () => {
    expect(withLabel(['billing'], '  vip ')).toEqual(['billing', 'vip']);
    expect(withLabel(['billing'], 'Billing')).toBeNull();
    expect(withLabel(['billing'], '   ')).toBeNull();
  });

  it('keeps a thread ordered by seq and one message per seq', () => {
    const list: MessageView[] = [];
    for (const seq of [3, 1, 2, 3]) upsertBySeq(list, message(seq));
    expect(list.map((m) => m.seq)).toEqual([1, 2, 3]);
  });
});

describe('the inbox state', () => {
  it('settles a pending send by its clientId and keeps the summary current', () => {
    const state = new InboxState();
    state.upsertConversation(conversation());
    state.thread('c_1').pending.push({ clientId: 'k_mine', body: 'hello', note: false, attachments: [], createdAt: 5 });
    state.addMessages('c_1', [message(3, { clientId: 'k_mine', body: 'hello', author: { kind: 'operator', id: 'o_me', name: 'Ada' } })]);
    expect(state.thread('c_1').pending).toEqual([]);
    expect(state.lastSeqOf('c_1')).toBe(3);
    expect(state.conversations.get('c_1')).toMatchObject({ lastSeq: 3, lastMessage: { body: 'hello' } });
  });

  it('a message of files alone: the preview names them; a pending send keeps its files until its message is stored', () => {
    const state = new InboxState();
    state.upsertConversation(conversation());
    const photo = { id: 'f_1', name: 'photo.png', type: 'image/png', size: 2048, url: '/files/f_1/photo.png' };
    state.addMessages('c_1', [message(3, { body: '', attachments: [photo] })]);
    expect(state.conversations.get('c_1')?.lastMessage).toMatchObject({ body: '', files: ['photo.png'] });
    const pdf = { id: 'f_2', name: 'invoice.pdf', type: 'application/pdf', size: 900, url: '/files/f_2/invoice.pdf' };
    state.thread('c_1').pending.push({ clientId: 'k_pdf', body: '', note: true, attachments: [pdf], createdAt: 5 });
    state.addMessages('c_1', [message(4, { clientId: 'other' })]);
    expect(state.thread('c_1').pending[0]?.attachments).toEqual([pdf]);
    state.addMessages('c_1', [message(5, { clientId: 'k_pdf', body: '', note: true, attachments: [pdf], author: { kind: 'operator', id: 'o_me', name: 'Ada' } })]);
    expect(state.thread('c_1').pending).toEqual([]);
    expect(state.conversations.get('c_1')?.lastMessage).toMatchObject({ note: true, files: ['invoice.pdf'] });
  });

  it('an activity line moves the thread on (lastSeq) but the preview keeps the words', () => {
    const state = new InboxState();
    state.upsertConversation(conversation());
    state.addMessages('c_1', [message(2), message(3, { author: { kind: 'system', id: '', name: 'Desk' }, body: 'Ada took this conversation', note: true })]);
    expect(state.conversations.get('c_1')).toMatchObject({ lastSeq: 3, lastMessage: { body: 'message 2' } });
  });

  it('shows the filter newest first, or while searching the conversations found in their order', () => {
    const state = new InboxState();
    state.me = { id: 'o_me', name: 'Ada', email: 'ada@x.test' };
    state.upsertConversation(conversation({ id: 'old', lastActivityAt: 1 }));
    state.upsertConversation(conversation({ id: 'new', lastActivityAt: 2 }));
    state.upsertConversation(conversation({ id: 'done', state: 'resolved' }));
    expect(state.visibleConversations().map((c) => c.id)).toEqual(['new', 'old']);
    state.search = { q: 'x', results: [{ conversation: conversation({ id: 'done' }), message: message(1) }] };
    expect(state.visibleConversations().map((c) => c.id)).toEqual(['done']);
  });

  it('names a teammate from presence or the operators list', () => {
    const state = new InboxState();
    state.me = { id: 'o_me', name: 'Ada', email: 'ada@x.test' };
    state.operators = [{ id: 'o_2', name: 'Grace', email: 'grace@x.test' }];
    expect([state.operatorName('o_me'), state.operatorName('o_2'), state.operatorName('o_3'), state.operatorName(null)]).toEqual(['Ada', 'Grace', 'a teammate', '']);
  });
});
