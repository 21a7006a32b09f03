/**
 * Two Desk nodes without Redis, as `npm start` runs them: two processes sharing one SQLite file
 * tell each other their events through it (fanout-sqlite.ts). A visitor on one node and an
 * operator on the other talk both ways, presence crosses, and a node that was stopped catches up.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { login, operator, visitor, type DeskClient } from './support/desk-client.js';
import { spawnDesk, type DeskProcess } from './support/desk-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'desk-fanout-'));
const db = path.join(dir, 'desk.db');
const procs: ChildProcess[] = [];
const clients: DeskClient[] = [];

async function spawnNode(nodeId: string, seed: boolean): Promise<DeskProcess> {
  const node = await spawnDesk(nodeId, ['--db', `sqlite:${db}`, ...(seed ? ['--seed'] : [])]);
  procs.push(node.proc);
  return node;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('two nodes sharing a SQLite file, no Redis', () => {
  it('say which fan-out they use, and a visitor on A and an operator on B talk both ways', async () => {
    const a = await spawnNode('fra-1', true);
    const b = await spawnNode('sin-1', false);
    for (const n of [a, b]) expect(await (await fetch(`${n.base}/healthz`)).json()).toMatchObject({ ok: true, redis: null, fanout: 'database' });

    const token = await login(b.base);
    const v = await visitor(a.base);
    clients.push(v.client);
    const op = await operator(b.base, token);
    clients.push(op.client);
    // B's operator is announced to A's visitor through the file.
    expect(await v.client.next((e) => e.type === 'presence' && e.available === true)).toMatchObject({ operators: [{ name: 'Ada', status: 'online' }] });

    v.client.send({ type: 'message.send', clientId: 'k_f1', body: 'Hello from Frankfurt' });
    const ack = await v.client.next('message.ack');
    const seen = await op.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_f1');
    expect(seen.message).toMatchObject({ body: 'Hello from Frankfurt', seq: ack.seq, author: { kind: 'visitor' } });

    op.client.send({ type: 'typing', conversation: ack.conversation, state: 'start' });
    expect(await v.client.next('typing')).toMatchObject({ state: 'start', author: { kind: 'operator' } });
    op.client.send({ type: 'message.send', conversation: ack.conversation, clientId: 'k_s1', body: 'Hi from Singapore' });
    expect((await v.client.next((e) => e.type === 'message.new' && e.message.clientId === 'k_s1')).message).toMatchObject({ body: 'Hi from Singapore', seq: ack.seq + 1 });
    // Delivered once: the event log is read once per node, never echoed back to its writer.
    await v.client.none((e) => e.type === 'message.new' && e.message.clientId === 'k_s1');
    await op.client.none((e) => e.type === 'message.new' && e.message.clientId === 'k_f1');
  });

  it('a visitor whose node is killed resumes on the other with nothing lost', async () => {
    const a = await spawnNode('fra-1', true);
    const b = await spawnNode('sin-1', false);
    const token = await login(b.base);
    const op = await operator(b.base, token);
    clients.push(op.client);
    const v = await visitor(a.base);
    clients.push(v.client);
    v.client.send({ type: 'message.send', clientId: 'k_k1', body: 'before' });
    const ack = await v.client.next('message.ack');

    a.proc.kill('SIGKILL');
    await v.client.closed;
    // While the visitor is away, the operator answers twice on B.
    op.client.send({ type: 'message.send', conversation: ack.conversation, clientId: 'k_k2', body: 'one' });
    op.client.send({ type: 'message.send', conversation: ack.conversation, clientId: 'k_k3', body: 'two' });
    await op.client.next((e) => e.type === 'message.ack' && e.clientId === 'k_k3');

    const back = await visitor(b.base, { session: v.welcome.session, lastSeq: ack.seq });
    clients.push(back.client);
    expect(back.welcome.messages.map((m: { body: string }) => m.body)).toEqual(['one', 'two']);
  });
});
