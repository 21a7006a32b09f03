/**
 * The DeskStore contract: one vitest suite that every implementation passes (sqlite.test.ts,
 * postgres.test.ts). `open` returns a fresh, migrated, empty store for each test; the suite closes
 * it. Everything the server relies on is pinned here: seq order without gaps under concurrency,
 * idempotency by clientId and by email Message-ID, read marks that only move forward, the inbox
 * filters with unread counts and last messages, session expiry.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Author, DeskStore, NewMessage, Operator, Visitor, Workspace } from './types.js';

const ID = (prefix: string) => new RegExp(`^${prefix}_[A-Za-z0-9_-]{16,}$`);

export function storeContract(name: string, open: () => Promise<DeskStore>): void {
  describe(`DeskStore contract: ${name}`, () => {
    let store: DeskStore;
    let n = 0;

    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    const workspace = (id = `w_test${++n}`): Promise<Workspace> =>
      store.createWorkspace({ id, name: 'Acme', allowedOrigins: ['https://shop.example'], emailDomain: 'desk.example', webhookSecret: 's3cret' });
    const operator = (ws: Workspace, name = 'Ada', email = `${name.toLowerCase()}${++n}@acme.test`): Promise<Operator> =>
      store.createOperator({ workspaceId: ws.id, email, name, passwordHash: 'scrypt$16384$8$1$salt$hash' });
    const visitor = (ws: Workspace, meta: Record<string, string> = {}): Promise<Visitor> => store.createVisitor({ workspaceId: ws.id, token: `tok-${++n}-${Math.random()}`, meta });
    const fromVisitor = (v: Visitor): Author => ({ kind: 'visitor', id: v.id, name: v.name ?? 'Visitor' });
    const fromOperator = (o: Operator): Author => ({ kind: 'operator', id: o.id, name: o.name });
    const send = (conversationId: string, author: Author, body: string, extra: Partial<NewMessage> = {}) => store.appendMessage({ conversationId, clientId: `k_${++n}`, author, body, ...extra });
    /** A conversation with a visitor, in a fresh workspace. */
    const setup = async () => {
      const ws = await workspace();
      const v = await visitor(ws);
      const conv = await store.openConversation(ws.id, v.id);
      return { ws, v, conv, author: fromVisitor(v) };
    };
    const tick = () => new Promise((r) => setTimeout(r, 3));

    describe('lifecycle', () => {
      it('answers ping while open and not after close', async () => {
        expect(await store.ping()).toBe(true);
        const other = await open();
        await other.close();
        expect(await other.ping()).toBe(false);
      });

      it('migrates again harmlessly, data kept (also concurrently)', async () => {
        const ws = await workspace();
        await store.migrate();
        await Promise.all([store.migrate(), store.migrate()]);
        expect(await store.getWorkspace(ws.id)).toEqual(ws);
      });
    });

    describe('workspaces', () => {
      it('creates and reads a workspace', async () => {
        const before = Date.now();
        const ws = await workspace('w_acme');
        expect(ws).toEqual({
          id: 'w_acme',
          name: 'Acme',
          allowedOrigins: ['https://shop.example'],
          emailDomain: 'desk.example',
          webhookSecret: 's3cret',
          createdAt: expect.any(Number),
        });
        expect(ws.createdAt).toBeGreaterThanOrEqual(before);
        expect(ws.createdAt).toBeLessThanOrEqual(Date.now());
        expect(await store.getWorkspace('w_acme')).toEqual(ws);
        expect(await store.getWorkspace('w_nope')).toBeUndefined();
        // An identity secret (Desk.identify) when one is given.
        const signed = await store.createWorkspace({ id: 'w_signed', name: 'S', allowedOrigins: [], emailDomain: 's.example', webhookSecret: 'w', identitySecret: 'i' });
        expect(signed.identitySecret).toBe('i');
        expect((await store.getWorkspace('w_signed'))?.identitySecret).toBe('i');
      });

      it('tells whether a domain is some workspace’s email domain, whatever its case', async () => {
        await workspace();
        expect(await store.hasEmailDomain('desk.example')).toBe(true);
        expect(await store.hasEmailDomain('DESK.Example')).toBe(true);
        expect(await store.hasEmailDomain('other.example')).toBe(false);
      });

      it('refuses a second workspace with the same id', async () => {
        await workspace('w_twice');
        await expect(workspace('w_twice')).rejects.toThrow();
      });
    });

    describe('operators and sessions', () => {
      it('creates, gets, finds by email (any case) and lists per workspace', async () => {
        const ws = await workspace();
        const other = await workspace();
        const ada = await operator(ws, 'Ada', 'Ada@Acme.test');
        const grace = await operator(ws, 'Grace');
        await operator(other, 'Linus');
        expect(ada).toEqual({
          id: expect.stringMatching(ID('o')),
          workspaceId: ws.id,
          email: 'Ada@Acme.test',
          name: 'Ada',
          passwordHash: 'scrypt$16384$8$1$salt$hash',
          createdAt: expect.any(Number),
        });
        expect(await store.getOperator(ada.id)).toEqual(ada);
        expect(await store.getOperator('o_nope')).toBeUndefined();
        expect(await store.operatorByEmail('Ada@Acme.test')).toEqual(ada);
        expect(await store.operatorByEmail('ada@acme.test')).toEqual(ada);
        expect(await store.operatorByEmail('nobody@acme.test')).toBeUndefined();
        expect((await store.listOperators(ws.id)).map((o) => o.id).sort()).toEqual([ada.id, grace.id].sort());
        expect(await store.listOperators('w_nope')).toEqual([]);
      });

      it('refuses a second operator with the same email, whatever its case', async () => {
        const ws = await workspace();
        await operator(ws, 'Ada', 'ada@acme.test');
        await expect(operator(ws, 'Ada again', 'ADA@acme.test')).rejects.toThrow();
      });

      it('finds the operator of a session until it expires or is deleted', async () => {
        const ws = await workspace();
        const ada = await operator(ws);
        const now = Date.now();
        await store.createSession('sess-1', ada.id, now + 60_000);
        await store.createSession('sess-2', ada.id, now + 60_000);
        expect(await store.operatorBySession('sess-1', now)).toEqual(ada);
        expect(await store.operatorBySession('sess-1', now + 59_999)).toEqual(ada);
        expect(await store.operatorBySession('sess-1', now + 60_000)).toBeUndefined(); // expired at expiresAt
        expect(await store.operatorBySession('sess-nope', now)).toBeUndefined();
        await store.deleteSession('sess-1');
        expect(await store.operatorBySession('sess-1', now)).toBeUndefined();
        expect(await store.operatorBySession('sess-2', now)).toEqual(ada); // other sessions untouched
        await store.deleteSession('sess-nope'); // deleting an unknown session is fine
      });
    });

    describe('visitors', () => {
      it('creates, finds by token and id', async () => {
        const ws = await workspace();
        const v = await visitor(ws, { page: 'https://shop.example/cart', country: 'DE' });
        expect(v).toEqual({
          id: expect.stringMatching(ID('v')),
          workspaceId: ws.id,
          token: v.token,
          email: undefined,
          emailVerified: false,
          name: undefined,
          meta: { page: 'https://shop.example/cart', country: 'DE' },
          createdAt: expect.any(Number),
          lastSeenAt: v.createdAt,
        });
        expect(await store.visitorByToken(v.token)).toEqual(v);
        expect(await store.getVisitor(v.id)).toEqual(v);
        expect(await store.visitorByToken('nope')).toBeUndefined();
        expect(await store.getVisitor('v_nope')).toBeUndefined();
      });

      it('updates only the fields given (meta replaced as a whole)', async () => {
        const ws = await workspace();
        const v = await visitor(ws, { page: '/a', country: 'DE' });
        const named = await store.updateVisitor(v.id, { email: 'eve@example.com', name: 'Eve' });
        expect(named).toEqual({ ...v, email: 'eve@example.com', name: 'Eve' });
        const moved = await store.updateVisitor(v.id, { meta: { page: '/b' }, lastSeenAt: v.lastSeenAt + 1000 });
        expect(moved).toEqual({ ...named, meta: { page: '/b' }, lastSeenAt: v.lastSeenAt + 1000 });
        expect(await store.getVisitor(v.id)).toEqual(moved);
        expect(await store.updateVisitor(v.id, {})).toEqual(moved);
      });

      it('keeps an address verified until it changes', async () => {
        const ws = await workspace();
        const v = await visitor(ws);
        const typed = await store.updateVisitor(v.id, { email: 'eve@example.com' });
        expect(typed.emailVerified).toBe(false);
        expect((await store.updateVisitor(v.id, { emailVerified: true })).emailVerified).toBe(true);
        expect((await store.updateVisitor(v.id, { email: 'eve@example.com', name: 'Eve' })).emailVerified).toBe(true);
        const changed = await store.updateVisitor(v.id, { email: 'mallory@example.com' });
        expect(changed).toMatchObject({ email: 'mallory@example.com', emailVerified: false });
        expect((await store.getVisitor(v.id))?.emailVerified).toBe(false);
      });

      it('throws when updating an unknown visitor', async () => {
        await expect(store.updateVisitor('v_nope', { name: 'x' })).rejects.toThrow();
      });
    });

    describe('conversations', () => {
      it('opens a conversation, then returns the open one', async () => {
        const { ws, v, conv } = await setup();
        expect(conv).toEqual({
          id: expect.stringMatching(ID('c')),
          workspaceId: ws.id,
          visitorId: v.id,
          state: 'open',
          assigneeId: undefined,
          replyToken: expect.stringMatching(/^[a-z0-9]{16,}$/),
          lastSeq: 0,
          visitorReadSeq: 0,
          operatorReadSeq: 0,
          emailSubject: undefined,
          labels: [],
          lastActivityAt: expect.any(Number),
          createdAt: expect.any(Number),
        });
        expect(await store.openConversation(ws.id, v.id)).toEqual(conv);
        expect(await store.getConversation(conv.id)).toEqual(conv);
        expect(await store.conversationByReplyToken(conv.replyToken)).toEqual(conv);
        expect(await store.getConversation('c_nope')).toBeUndefined();
        expect(await store.conversationByReplyToken('nope')).toBeUndefined();
      });

      it('opens a new conversation after the last one was resolved', async () => {
        const { ws, v, conv } = await setup();
        await store.updateConversation(conv.id, { state: 'resolved' });
        const next = await store.openConversation(ws.id, v.id);
        expect(next.id).not.toBe(conv.id);
        expect(next.replyToken).not.toBe(conv.replyToken);
        expect(next.state).toBe('open');
        expect(await store.openConversation(ws.id, v.id)).toEqual(next);
        expect((await store.getConversation(conv.id))!.state).toBe('resolved');
      });

      it('lists a visitor’s conversations, newest first, at most limit, resolved ones included', async () => {
        const { ws, v, conv } = await setup();
        await store.updateConversation(conv.id, { state: 'resolved' });
        await tick(); // created_at in ms: the next one is strictly newer
        const next = await store.openConversation(ws.id, v.id);
        const other = await visitor(ws);
        await store.openConversation(ws.id, other.id);
        expect((await store.visitorConversations(v.id, 10)).map((c) => [c.id, c.state])).toEqual([
          [next.id, 'open'],
          [conv.id, 'resolved'],
        ]);
        expect((await store.visitorConversations(v.id, 1)).map((c) => c.id)).toEqual([next.id]);
        expect(await store.visitorConversations('v_nope', 10)).toEqual([]);
      });

      it('opens a conversation with the id it is given, and gives the open one whatever the id', async () => {
        const ws = await workspace();
        const v = await visitor(ws);
        const conv = await store.openConversation(ws.id, v.id, 'c_from_a_regional_node');
        expect(conv).toMatchObject({ id: 'c_from_a_regional_node', state: 'open', visitorId: v.id });
        expect((await store.openConversation(ws.id, v.id, 'c_another')).id).toBe('c_from_a_regional_node');
      });

      it('opens one conversation for concurrent opens by the same visitor', async () => {
        const ws = await workspace();
        const v = await visitor(ws);
        const convs = await Promise.all(Array.from({ length: 8 }, () => store.openConversation(ws.id, v.id)));
        expect(new Set(convs.map((c) => c.id)).size).toBe(1);
      });

      it('throws when opening a conversation for an unknown visitor', async () => {
        const ws = await workspace();
        await expect(store.openConversation(ws.id, 'v_nope')).rejects.toThrow();
      });

      it('updates state, assignee and email subject, and bumps lastActivityAt', async () => {
        const { ws, conv } = await setup();
        const ada = await operator(ws);
        await tick();
        const assigned = await store.updateConversation(conv.id, { assigneeId: ada.id, emailSubject: 'Order #1' });
        expect(assigned).toEqual({ ...conv, assigneeId: ada.id, emailSubject: 'Order #1', lastActivityAt: expect.any(Number) });
        expect(assigned.lastActivityAt).toBeGreaterThan(conv.lastActivityAt);
        const resolved = await store.updateConversation(conv.id, { state: 'resolved' });
        expect(resolved).toMatchObject({ state: 'resolved', assigneeId: ada.id, emailSubject: 'Order #1' });
        const unassigned = await store.updateConversation(conv.id, { assigneeId: null, state: 'open' });
        expect(unassigned).toMatchObject({ state: 'open', assigneeId: undefined, emailSubject: 'Order #1' });
        expect(await store.getConversation(conv.id)).toEqual(unassigned);
      });

      it('moves read marks only forward, and never past the last message', async () => {
        const { conv, author } = await setup();
        for (let i = 0; i < 5; i++) await send(conv.id, author, `m${i}`);
        let c = await store.updateConversation(conv.id, { visitorReadSeq: 3, operatorReadSeq: 2 });
        expect([c.visitorReadSeq, c.operatorReadSeq]).toEqual([3, 2]);
        c = await store.updateConversation(conv.id, { visitorReadSeq: 1 });
        expect([c.visitorReadSeq, c.operatorReadSeq]).toEqual([3, 2]);
        c = await store.updateConversation(conv.id, { operatorReadSeq: 4 });
        expect([c.visitorReadSeq, c.operatorReadSeq]).toEqual([3, 4]);
        c = await store.updateConversation(conv.id, { visitorReadSeq: 99 });
        expect(c.visitorReadSeq).toBe(5);
        expect(await store.getConversation(conv.id)).toEqual(c);
      });

      it('throws when updating an unknown conversation', async () => {
        await expect(store.updateConversation('c_nope', { state: 'resolved' })).rejects.toThrow();
      });
    });

    describe('inbox lists', () => {
      /** Four conversations in one workspace and one in another. */
      const inbox = async () => {
        const ws = await workspace();
        const ada = await operator(ws, 'Ada');
        const grace = await operator(ws, 'Grace');
        const mk = async (name?: string) => {
          const v = await visitor(ws);
          const named = name ? await store.updateVisitor(v.id, { name, email: `${name.toLowerCase()}@example.com` }) : v;
          return { v: named, c: await store.openConversation(ws.id, v.id) };
        };
        const fresh = await mk('Eve'); // open, unassigned, 2 unread
        await send(fresh.c.id, fromVisitor(fresh.v), 'hello');
        await send(fresh.c.id, fromVisitor(fresh.v), 'anyone?');
        await tick();
        const adas = await mk(); // open, Ada's; visitor wrote 3, Ada read 1 and replied, then a note
        for (const body of ['a', 'b', 'c']) await send(adas.c.id, fromVisitor(adas.v), body);
        await store.updateConversation(adas.c.id, { assigneeId: ada.id, operatorReadSeq: 1 });
        await send(adas.c.id, fromOperator(ada), 'on it');
        await send(adas.c.id, fromOperator(ada), 'check the order', { note: true });
        await tick();
        const graces = await mk(); // open, Grace's
        await store.updateConversation(graces.c.id, { assigneeId: grace.id });
        await tick();
        const done = await mk(); // resolved
        await send(done.c.id, fromVisitor(done.v), 'thanks');
        await store.updateConversation(done.c.id, { state: 'resolved', operatorReadSeq: 1 });
        const elsewhere = await workspace();
        const ev = await visitor(elsewhere);
        await store.openConversation(elsewhere.id, ev.id);
        return { ws, ada, grace, fresh, adas, graces, done };
      };
      const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort();

      it('filters: open, unassigned, mine, resolved, all', async () => {
        const { ws, ada, grace, fresh, adas, graces, done } = await inbox();
        const list = (filter: 'open' | 'unassigned' | 'mine' | 'resolved' | 'all', operatorId?: string) => store.listConversations(ws.id, { filter, operatorId });
        expect(ids(await list('open'))).toEqual(ids([fresh.c, adas.c, graces.c]));
        expect(ids(await list('unassigned'))).toEqual(ids([fresh.c]));
        expect(ids(await list('mine', ada.id))).toEqual(ids([adas.c]));
        expect(ids(await list('mine', grace.id))).toEqual(ids([graces.c]));
        expect(await list('mine')).toEqual([]); // no operator, nothing is "mine"
        expect(ids(await list('resolved'))).toEqual(ids([done.c]));
        expect(ids(await list('all'))).toEqual(ids([fresh.c, adas.c, graces.c, done.c]));
        expect(await store.listConversations('w_nope', { filter: 'all' })).toEqual([]);
      });

      it('orders by last activity, newest first, and honours the limit', async () => {
        const { ws, done } = await inbox();
        const all = await store.listConversations(ws.id, { filter: 'all' });
        expect(all[0]!.id).toBe(done.c.id);
        for (let i = 1; i < all.length; i++) expect(all[i - 1]!.lastActivityAt).toBeGreaterThanOrEqual(all[i]!.lastActivityAt);
        const two = await store.listConversations(ws.id, { filter: 'all', limit: 2 });
        expect(two.map((c) => c.id)).toEqual(all.slice(0, 2).map((c) => c.id));
      });

      it('summarises: visitor, unread visitor messages, last message', async () => {
        const { ws, ada, fresh, adas, graces, done } = await inbox();
        const rows = new Map((await store.listConversations(ws.id, { filter: 'all' })).map((r) => [r.id, r]));
        const f = rows.get(fresh.c.id)!;
        expect(f).toMatchObject({ visitorName: 'Eve', visitorEmail: 'eve@example.com', unread: 2, lastSeq: 2 });
        expect(f.lastMessage).toEqual({ body: 'anyone?', author: fromVisitor(fresh.v), createdAt: expect.any(Number), note: false });
        const a = rows.get(adas.c.id)!;
        // Three visitor messages, the operators read the first: two unread; the reply and the note do not count.
        expect(a).toMatchObject({ visitorName: undefined, visitorEmail: undefined, unread: 2, lastSeq: 5, operatorReadSeq: 1, assigneeId: ada.id });
        expect(a.lastMessage).toEqual({ body: 'check the order', author: fromOperator(ada), createdAt: expect.any(Number), note: true });
        const g = rows.get(graces.c.id)!;
        expect(g).toMatchObject({ unread: 0, lastSeq: 0, lastMessage: undefined });
        expect(rows.get(done.c.id)).toMatchObject({ state: 'resolved', unread: 0, lastSeq: 1 });
        // A summary is a conversation plus the summary fields.
        expect(await store.getConversation(a.id)).toEqual({
          id: a.id,
          workspaceId: a.workspaceId,
          visitorId: a.visitorId,
          state: a.state,
          assigneeId: a.assigneeId,
          replyToken: a.replyToken,
          lastSeq: a.lastSeq,
          visitorReadSeq: a.visitorReadSeq,
          operatorReadSeq: a.operatorReadSeq,
          emailSubject: a.emailSubject,
          labels: a.labels,
          lastActivityAt: a.lastActivityAt,
          createdAt: a.createdAt,
        });
      });
    });

    describe('messages', () => {
      it('appends with seqs 1, 2, 3 and stores every field', async () => {
        const { ws, conv, author } = await setup();
        const ada = await operator(ws);
        const before = Date.now();
        const first = await store.appendMessage({ conversationId: conv.id, clientId: 'k_1', author, body: 'Hi, my order?' });
        expect(first).toEqual({
          duplicate: false,
          conversation: expect.objectContaining({ id: conv.id, lastSeq: 1 }),
          message: {
            id: expect.stringMatching(ID('m')),
            conversationId: conv.id,
            seq: 1,
            clientId: 'k_1',
            author,
            body: 'Hi, my order?',
            note: false,
            via: 'chat',
            email: undefined,
            attachments: [],
            createdAt: expect.any(Number),
          },
        });
        expect(first.message.createdAt).toBeGreaterThanOrEqual(before);
        const second = await store.appendMessage({ conversationId: conv.id, clientId: 'k_2', author: fromOperator(ada), body: 'Looking', note: true });
        expect(second.message).toMatchObject({ seq: 2, note: true, author: fromOperator(ada) });
        const system = await store.appendMessage({ conversationId: conv.id, clientId: 'k_3', author: { kind: 'system', id: '', name: 'Desk' }, body: 'Ada joined' });
        expect(system.message).toMatchObject({ seq: 3, author: { kind: 'system', id: '', name: 'Desk' } });
        const after = await store.getConversation(conv.id);
        expect(after!.lastSeq).toBe(3);
        expect(after!.lastActivityAt).toBeGreaterThanOrEqual(conv.lastActivityAt);
        expect(await store.messagesAfter(conv.id, 0)).toEqual([first.message, second.message, system.message]);
      });

      it('gives 50 concurrent appends the seqs 1..50, no gap, no duplicate', async () => {
        const { conv, author } = await setup();
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.appendMessage({ conversationId: conv.id, clientId: `k_${i}`, author, body: `#${i}` })));
        expect(results.every((r) => !r.duplicate)).toBe(true);
        expect(results.map((r) => r.message.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        const stored = await store.messagesAfter(conv.id, 0);
        expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        expect((await store.getConversation(conv.id))!.lastSeq).toBe(50);
      });

      it('keeps seqs per conversation, concurrently across conversations', async () => {
        const a = await setup();
        const b = await setup();
        await Promise.all(Array.from({ length: 20 }, (_, i) => send(i % 2 ? a.conv.id : b.conv.id, i % 2 ? a.author : b.author, `#${i}`)));
        expect((await store.messagesAfter(a.conv.id, 0)).map((m) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
        expect((await store.messagesAfter(b.conv.id, 0)).map((m) => m.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      });

      it('stores a clientId once: a retry returns the stored message as a duplicate', async () => {
        const { conv, author } = await setup();
        const first = await store.appendMessage({ conversationId: conv.id, clientId: 'k_retry', author, body: 'once' });
        const again = await store.appendMessage({ conversationId: conv.id, clientId: 'k_retry', author, body: 'once (edited?)' });
        expect(again).toEqual({ message: first.message, duplicate: true });
        const next = await store.appendMessage({ conversationId: conv.id, clientId: 'k_next', author, body: 'next' });
        expect(next.message.seq).toBe(2); // the retry used no seq
        expect((await store.messagesAfter(conv.id, 0)).map((m) => m.clientId)).toEqual(['k_retry', 'k_next']);
      });

      it('stores a clientId once under concurrent retries', async () => {
        const { conv, author } = await setup();
        const results = await Promise.all(Array.from({ length: 10 }, () => store.appendMessage({ conversationId: conv.id, clientId: 'k_storm', author, body: 'x' })));
        expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
        expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
        expect(results.every((r) => r.message.seq === 1)).toBe(true);
        expect(await store.messagesAfter(conv.id, 0)).toHaveLength(1);
        expect((await store.getConversation(conv.id))!.lastSeq).toBe(1);
      });

      it('scopes clientIds to their conversation', async () => {
        const a = await setup();
        const b = await setup();
        const one = await store.appendMessage({ conversationId: a.conv.id, clientId: 'k_same', author: a.author, body: 'a' });
        const two = await store.appendMessage({ conversationId: b.conv.id, clientId: 'k_same', author: b.author, body: 'b' });
        expect([one.duplicate, two.duplicate]).toEqual([false, false]);
        expect(two.message.id).not.toBe(one.message.id);
      });

      it('throws on an unknown conversation and stores nothing', async () => {
        const { author } = await setup();
        await expect(store.appendMessage({ conversationId: 'c_nope', clientId: 'k_1', author, body: 'lost' })).rejects.toThrow();
        expect(await store.messagesAfter('c_nope', 0)).toEqual([]);
      });

      it('pages with messagesAfter: after a seq, oldest first, at most limit (500 by default)', async () => {
        const { conv, author } = await setup();
        await Promise.all(Array.from({ length: 510 }, (_, i) => send(conv.id, author, `#${i}`)));
        const page = await store.messagesAfter(conv.id, 0);
        expect(page).toHaveLength(500);
        expect(page[0]!.seq).toBe(1);
        expect(page[499]!.seq).toBe(500);
        expect((await store.messagesAfter(conv.id, 500)).map((m) => m.seq)).toEqual([501, 502, 503, 504, 505, 506, 507, 508, 509, 510]);
        expect((await store.messagesAfter(conv.id, 7, 3)).map((m) => m.seq)).toEqual([8, 9, 10]);
        expect(await store.messagesAfter(conv.id, 510)).toEqual([]);
        expect(await store.messagesAfter(conv.id, 0, 0)).toEqual([]);
      });

      it('searches the words of a workspace’s messages, the last word as a prefix, newest first', async () => {
        const { ws, conv, author } = await setup();
        const other = await setup(); // another workspace: never in the results
        await send(conv.id, author, 'Where is my parcel? Order 1042');
        await tick();
        await send(conv.id, author, 'The parcel arrived, thanks!');
        await send(other.conv.id, other.author, 'my parcel too');
        const bodies = async (q: string, limit = 10) => (await store.searchMessages(ws.id, q, limit)).map((m) => m.body);
        expect(await bodies('parcel')).toEqual(['The parcel arrived, thanks!', 'Where is my parcel? Order 1042']);
        expect(await bodies('PARC')).toEqual(['The parcel arrived, thanks!', 'Where is my parcel? Order 1042']);
        expect(await bodies('parcel order')).toEqual(['Where is my parcel? Order 1042']);
        expect(await bodies('1042')).toEqual(['Where is my parcel? Order 1042']);
        expect(await bodies('parcel', 1)).toEqual(['The parcel arrived, thanks!']);
        expect(await bodies('arrived parcel')).toEqual(['The parcel arrived, thanks!']);
        expect(await bodies('nothing')).toEqual([]);
        // Query syntax is never the user's: quotes, operators and stars are only characters.
        expect(await bodies('"parcel" OR * NEAR(')).toEqual([]);
        expect(await bodies('  ?! ')).toEqual([]);
        expect(await bodies('parcel" -')).toEqual(['The parcel arrived, thanks!', 'Where is my parcel? Order 1042']);
      });
    });

    describe('email messages', () => {
      const headers = (messageId: string) => ({
        messageId,
        inReplyTo: '<out-1@desk.example>',
        references: ['<root@desk.example>', '<out-1@desk.example>'],
        from: 'Eve <eve@example.com>',
        subject: 'Re: Order #1',
      });

      it('stores the headers, finds by Message-ID', async () => {
        const { conv, author } = await setup();
        const r = await store.appendMessage({ conversationId: conv.id, clientId: 'k_mail1', author, body: 'by mail', via: 'email', email: headers('<in-1@example.com>') });
        expect(r.duplicate).toBe(false);
        expect(r.message).toMatchObject({ via: 'email', email: headers('<in-1@example.com>') });
        expect(await store.messageByEmailId('<in-1@example.com>')).toEqual(r.message);
        expect(await store.messageByEmailId('<nope@example.com>')).toBeUndefined();
        const bare = await store.appendMessage({
          conversationId: conv.id,
          clientId: 'k_mail2',
          author,
          body: 'first in thread',
          via: 'email',
          email: { messageId: '<in-2@example.com>', inReplyTo: undefined, references: [], from: 'eve@example.com', subject: 'Help' },
        });
        expect(bare.message.email).toEqual({ messageId: '<in-2@example.com>', inReplyTo: undefined, references: [], from: 'eve@example.com', subject: 'Help' });
      });

      it('stores an email once even under another clientId (a redelivery), in any conversation', async () => {
        const a = await setup();
        const b = await setup();
        const first = await store.appendMessage({ conversationId: a.conv.id, clientId: 'k_m1', author: a.author, body: 'x', via: 'email', email: headers('<dup@example.com>') });
        const again = await store.appendMessage({ conversationId: a.conv.id, clientId: 'k_m2', author: a.author, body: 'x', via: 'email', email: headers('<dup@example.com>') });
        expect(again).toEqual({ message: first.message, duplicate: true });
        const elsewhere = await store.appendMessage({ conversationId: b.conv.id, clientId: 'k_m3', author: b.author, body: 'x', via: 'email', email: headers('<dup@example.com>') });
        expect(elsewhere).toEqual({ message: first.message, duplicate: true });
        expect((await store.getConversation(a.conv.id))!.lastSeq).toBe(1);
        expect((await store.getConversation(b.conv.id))!.lastSeq).toBe(0); // no seq spent
        const both = await Promise.all(
          [a, b].map((s, i) => store.appendMessage({ conversationId: s.conv.id, clientId: `k_race${i}`, author: s.author, body: 'y', via: 'email', email: headers('<race@example.com>') })),
        );
        expect(both.filter((r) => !r.duplicate)).toHaveLength(1);
        expect(both[0]!.message.id).toBe(both[1]!.message.id);
      });

      it('lets any number of chat messages go without a Message-ID', async () => {
        const { conv, author } = await setup();
        await send(conv.id, author, 'one');
        await send(conv.id, author, 'two');
        expect((await store.messagesAfter(conv.id, 0)).map((m) => m.email)).toEqual([undefined, undefined]);
      });
    });

    describe('email claims and threads', () => {
      it('lists operator replies unread by a visitor with an email, past the cutoff, until claimed', async () => {
        const { ws, v, conv, author } = await setup();
        const ada = await operator(ws);
        await send(conv.id, author, 'hi');
        await send(conv.id, fromOperator(ada), 'a note', { note: true });
        expect(await store.emailsDue('visitor', Date.now() + 1000)).toEqual([]); // no reply yet, only a note
        const reply = (await send(conv.id, fromOperator(ada), 'hello!')).message;
        expect(await store.emailsDue('visitor', Date.now() + 1000)).toEqual([]); // no email address yet
        await store.updateVisitor(v.id, { email: 'eve@example.com' });
        expect(await store.emailsDue('visitor', reply.createdAt - 1)).toEqual([]); // not old enough
        const due = await store.emailsDue('visitor', reply.createdAt);
        expect(due).toEqual([{ conversation: await store.getConversation(conv.id), emailedSeq: 0 }]);

        expect(await store.claimEmail(conv.id, 'visitor', reply.seq)).toBe(true);
        expect(await store.claimEmail(conv.id, 'visitor', reply.seq)).toBe(false); // once
        expect(await store.emailsDue('visitor', Date.now() + 1000)).toEqual([]);
        const later = (await send(conv.id, fromOperator(ada), 'anything else?')).message;
        expect((await store.emailsDue('visitor', Date.now() + 1000)).map((d) => d.emailedSeq)).toEqual([reply.seq]);
        await store.updateConversation(conv.id, { visitorReadSeq: later.seq }); // seen in the widget
        expect(await store.emailsDue('visitor', Date.now() + 1000)).toEqual([]);
      });

      it('lists visitor messages unread by the operators, separately claimed', async () => {
        const { ws, conv, author } = await setup();
        const ada = await operator(ws);
        const first = (await send(conv.id, author, 'help')).message;
        await send(conv.id, fromOperator(ada), 'a reply');
        await store.updateConversation(conv.id, { operatorReadSeq: 0 });
        expect((await store.emailsDue('operator', Date.now() + 1000)).map((d) => d.conversation.id)).toEqual([conv.id]);
        expect(await store.claimEmail(conv.id, 'operator', first.seq)).toBe(true);
        expect(await store.emailsDue('operator', Date.now() + 1000)).toEqual([]);
        expect(await store.claimEmail(conv.id, 'visitor', first.seq)).toBe(true); // the other side's mark is its own
      });

      it('gives one winner among concurrent claims', async () => {
        const { conv, author } = await setup();
        const m = (await send(conv.id, author, 'x')).message;
        const wins = await Promise.all(Array.from({ length: 8 }, () => store.claimEmail(conv.id, 'operator', m.seq)));
        expect(wins.filter(Boolean)).toHaveLength(1);
        expect(await store.claimEmail(conv.id, 'operator', m.seq - 1)).toBe(false); // never backwards
      });

      it('keeps a thread of Message-IDs and finds the conversation by any of them', async () => {
        const { conv, author } = await setup();
        const other = await setup();
        await store.addThreadEmail(conv.id, '<a@desk.example>');
        await store.addThreadEmail(conv.id, '<b@mail.example>');
        await store.addThreadEmail(conv.id, '<a@desk.example>'); // repeat ignored
        await store.addThreadEmail(other.conv.id, '<z@desk.example>');
        expect(await store.emailThread(conv.id)).toEqual(['<a@desk.example>', '<b@mail.example>']);
        expect((await store.conversationByEmailId('<b@mail.example>'))?.id).toBe(conv.id);
        expect((await store.conversationByEmailId('<z@desk.example>'))?.id).toBe(other.conv.id);
        await send(conv.id, author, 'by mail', { via: 'email', email: { messageId: '<m@mail.example>', inReplyTo: undefined, references: [], from: 'e@x.test', subject: 's' } });
        expect((await store.conversationByEmailId('<m@mail.example>'))?.id).toBe(conv.id);
        expect(await store.conversationByEmailId('<nope@x>')).toBeUndefined();
      });
    });

    describe('appends with the conversation', () => {
      it('returns the conversation as updated in the same transaction: seq, activity, the author’s read mark, reopening', async () => {
        const { ws, conv, author } = await setup();
        const ada = await operator(ws);
        const first = await store.appendMessage({ conversationId: conv.id, clientId: 'k_r1', author, body: 'Hi', markRead: true });
        expect(first.conversation).toMatchObject({ id: conv.id, lastSeq: 1, visitorReadSeq: 1, operatorReadSeq: 0, state: 'open' });
        expect(await store.getConversation(conv.id)).toEqual(first.conversation);
        // An operator's note marks nothing read; an operator's reply marks the operators' side.
        const note = await store.appendMessage({ conversationId: conv.id, clientId: 'k_r2', author: fromOperator(ada), body: 'hmm', note: true, markRead: true });
        expect(note.conversation).toMatchObject({ lastSeq: 2, visitorReadSeq: 1, operatorReadSeq: 0 });
        const answer = await store.appendMessage({ conversationId: conv.id, clientId: 'k_r3', author: fromOperator(ada), body: 'Hello', markRead: true });
        expect(answer.conversation).toMatchObject({ lastSeq: 3, visitorReadSeq: 1, operatorReadSeq: 3 });
        // Without markRead nothing moves; reopen opens a resolved conversation.
        await store.updateConversation(conv.id, { state: 'resolved' });
        const back = await store.appendMessage({ conversationId: conv.id, clientId: 'k_r4', author, body: 'Again', reopen: true });
        expect(back.conversation).toMatchObject({ lastSeq: 4, visitorReadSeq: 1, state: 'open' });
        expect(back.conversation!.lastActivityAt).toBeGreaterThanOrEqual(conv.lastActivityAt);
        // A duplicate changes nothing and returns no conversation.
        const again = await store.appendMessage({ conversationId: conv.id, clientId: 'k_r4', author, body: 'Again', markRead: true });
        expect(again.duplicate).toBe(true);
        expect(again.conversation).toBeUndefined();
        expect((await store.getConversation(conv.id))!.lastSeq).toBe(4);
      });

      it('a summary of one conversation is the inbox’s row for it', async () => {
        const { ws, v, conv, author } = await setup();
        await store.updateVisitor(v.id, { email: 'lin@example.com', name: 'Lin', meta: { country: 'SG' } });
        await send(conv.id, author, 'one');
        await send(conv.id, author, 'two');
        const summary = await store.conversationSummary(conv.id);
        expect(summary).toMatchObject({ id: conv.id, unread: 2, visitorEmail: 'lin@example.com', visitorName: 'Lin', visitorMeta: { country: 'SG' }, lastMessage: { body: 'two' } });
        const [listed] = await store.listConversations(ws.id, { filter: 'all' });
        expect(summary).toEqual(listed);
        expect(await store.conversationSummary('c_nope')).toBeUndefined();
      });
    });

    describe('labels and snooze', () => {
      it('keeps labels in order and replaces or clears them', async () => {
        const { conv } = await setup();
        expect((await store.updateConversation(conv.id, { labels: ['billing', 'Refund ✓'] })).labels).toEqual(['billing', 'Refund ✓']);
        expect((await store.getConversation(conv.id))!.labels).toEqual(['billing', 'Refund ✓']);
        expect((await store.updateConversation(conv.id, { state: 'resolved' })).labels).toEqual(['billing', 'Refund ✓']);
        expect((await store.updateConversation(conv.id, { labels: [] })).labels).toEqual([]);
      });

      it('a snoozed conversation leaves the open lists until it is due, and comes back once', async () => {
        const { ws, conv, author } = await setup();
        const ada = await operator(ws);
        await send(conv.id, author, 'hello');
        await store.updateConversation(conv.id, { assigneeId: ada.id });
        const now = Date.now();
        expect((await store.updateConversation(conv.id, { snoozedUntil: now + 60_000 })).snoozedUntil).toBe(now + 60_000);
        const ids = async (filter: 'open' | 'mine' | 'snoozed' | 'unassigned' | 'all', at = now) => (await store.listConversations(ws.id, { filter, operatorId: ada.id, now: at })).map((c) => c.id);
        expect(await ids('open')).toEqual([]);
        expect(await ids('mine')).toEqual([]);
        expect(await ids('snoozed')).toEqual([conv.id]);
        expect(await ids('all')).toEqual([conv.id]);
        // Due: back in the lists, and woken once whatever the number of callers.
        expect(await ids('open', now + 60_001)).toEqual([conv.id]);
        expect(await store.wakeSnoozed(now + 59_000)).toEqual([]);
        const [woken, again] = await Promise.all([store.wakeSnoozed(now + 60_000), store.wakeSnoozed(now + 60_000)]);
        expect([...woken, ...again].map((c) => [c.id, c.snoozedUntil])).toEqual([[conv.id, undefined]]);
        // The visitor writing ends a snooze too.
        await store.updateConversation(conv.id, { snoozedUntil: now + 60_000 });
        const back = await store.appendMessage({ conversationId: conv.id, clientId: 'k_back', author, body: 'still there?', markRead: true });
        expect(back.conversation!.snoozedUntil).toBeUndefined();
        // An operator's reply does not.
        await store.updateConversation(conv.id, { snoozedUntil: now + 60_000 });
        const reply = await store.appendMessage({ conversationId: conv.id, clientId: 'k_reply', author: fromOperator(ada), body: 'on it', markRead: true });
        expect(reply.conversation!.snoozedUntil).toBe(now + 60_000);
        expect((await store.updateConversation(conv.id, { snoozedUntil: null })).snoozedUntil).toBeUndefined();
      });
    });

    describe('attachments', () => {
      it('records an upload and reads it back; unknown ids are undefined', async () => {
        const { ws, v, conv } = await setup();
        const before = Date.now();
        const a = await store.createAttachment({
          id: 'f_0123456789abcdefghij',
          workspaceId: ws.id,
          conversationId: conv.id,
          uploader: `visitor:${v.id}`,
          name: 'receipt.pdf',
          type: 'application/pdf',
          size: 12_345,
        });
        expect(a).toEqual({
          id: 'f_0123456789abcdefghij',
          workspaceId: ws.id,
          conversationId: conv.id,
          uploader: `visitor:${v.id}`,
          name: 'receipt.pdf',
          type: 'application/pdf',
          size: 12_345,
          createdAt: expect.any(Number),
        });
        expect(a.createdAt).toBeGreaterThanOrEqual(before);
        expect(await store.getAttachment(a.id)).toEqual(a);
        expect(await store.getAttachment('f_nope')).toBeUndefined();
      });

      it('a message carries its files, in order, read back with it (and a duplicate keeps the first)', async () => {
        const { conv, author } = await setup();
        const files = [
          { id: 'f_a', name: 'photo.png', type: 'image/png', size: 10 },
          { id: 'f_b', name: 'Ünïcode — name.txt', type: 'text/plain', size: 2_000_000_000 },
        ];
        const sent = await store.appendMessage({ conversationId: conv.id, clientId: 'k_files', author, body: '', attachments: files });
        expect(sent.message).toMatchObject({ body: '', attachments: files });
        const again = await store.appendMessage({ conversationId: conv.id, clientId: 'k_files', author, body: 'other', attachments: [] });
        expect(again).toMatchObject({ duplicate: true, message: { attachments: files } });
        expect((await store.messagesAfter(conv.id, 0))[0]!.attachments).toEqual(files);
      });
    });

    describe('canned responses', () => {
      it('creates and lists per workspace, by shortcut', async () => {
        const ws = await workspace();
        const other = await workspace();
        const refund = await store.createCanned({ workspaceId: ws.id, shortcut: 'refund', body: 'Refunds take 5 days.' });
        const hello = await store.createCanned({ workspaceId: ws.id, shortcut: 'hello', body: 'Hi!' });
        await store.createCanned({ workspaceId: other.id, shortcut: 'hello', body: 'Hallo!' });
        expect(refund).toEqual({ id: expect.any(String), workspaceId: ws.id, shortcut: 'refund', body: 'Refunds take 5 days.' });
        expect(await store.listCanned(ws.id)).toEqual([hello, refund]);
        expect(await store.listCanned('w_nope')).toEqual([]);
      });

      it('refuses a second response under the same shortcut in a workspace', async () => {
        const ws = await workspace();
        await store.createCanned({ workspaceId: ws.id, shortcut: 'hello', body: 'Hi!' });
        await expect(store.createCanned({ workspaceId: ws.id, shortcut: 'hello', body: 'Hey!' })).rejects.toThrow();
      });
    });
  });
}
