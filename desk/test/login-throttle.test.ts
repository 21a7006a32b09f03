/**
 * Issue 14, item 11: sign-ins are throttled per account and per client address, answered 429 with
 * Retry-After before the password is checked (each check is a scrypt). A Desk node on a
 * temporary SQLite file; client addresses given as X-Forwarded-For from 127.0.0.1 (what an edge
 * in front of Desk sends).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../src/seed.js';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { openStore, type DeskStore } from '../src/store/index.js';

let dir: string;
let store: DeskStore;
let node: DeskNode;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'desk-login-'));
  store = await openStore(`sqlite:${path.join(dir, 'desk.db')}`);
  await seedDemo(store);
  // The default bursts, refilled slowly enough that a slow machine does not see a token come back mid-test.
  node = await startDeskNode({ port: 0, store, nodeId: 'login-1', log: pino({ level: 'silent' }), loginLimits: { accountEveryMs: 600_000, addressEveryMs: 600_000 } });
  base = `http://127.0.0.1:${node.port}`;
});

afterAll(async () => {
  await node?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function login(email: string, password: string, from: string): Promise<Response> {
  return fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
    body: JSON.stringify({ email, password }),
  });
}

describe('sign-in throttling', () => {
  it('refuses an account after 5 wrong passwords with 429 and Retry-After, even the right password, from any address', async () => {
    for (let i = 0; i < 5; i++) expect((await login('grace@acme.test', `guess-${i}`, `203.0.113.${i + 1}`)).status).toBe(401);
    const refused = await login('grace@acme.test', 'demo-password', '203.0.113.50');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    // Another account is untouched.
    expect((await login('ada@acme.test', 'demo-password', '203.0.113.50')).status).toBe(200);
  });

  it('refuses an address after 20 failures whatever accounts it tries', async () => {
    const from = '198.51.100.20';
    for (let i = 0; i < 20; i++) expect((await login(`nobody${i}@acme.test`, 'x', from)).status).toBe(401);
    expect((await login('ada@acme.test', 'demo-password', from)).status).toBe(429);
    expect((await login('ada@acme.test', 'demo-password', '198.51.100.21')).status).toBe(200);
  });

  it('counts guesses sent at once: of 30 in parallel on one account, at most 5 reach the password check', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => login('parallel@acme.test', `g${i}`, `192.0.2.${i + 1}`)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(25);
  });

  it('does not count successful sign-ins', async () => {
    for (let i = 0; i < 8; i++) expect((await login('ada@acme.test', 'demo-password', '198.51.100.30')).status).toBe(200);
    // ... nor on the address: its failures still have the whole burst.
    for (let i = 0; i < 20; i++) expect((await login(`none${i}@acme.test`, 'x', '198.51.100.30')).status).toBe(401);
  }, 30_000);
});
