/**
 * Issue 14, item 2: a request or a WebSocket upgrade whose target is not a URL (`GET http://[`)
 * or not valid percent-encoding (`%E0%A4%A`) must get a 400 and a closed socket, never kill the
 * node. Real processes (`node desk/dist/main.js`, a core and a regional node relaying to it), raw
 * TCP sockets, and a normal request after each bad one to prove the node is still up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnDesk, type DeskProcess } from './support/desk-process.js';
import { login, until, visitor } from './support/desk-client.js';

const SECRET = 'bad-target-secret';
let dir: string;
let core: DeskProcess;
let regional: DeskProcess;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'desk-bad-target-'));
  core = await spawnDesk('core-1', ['--db', `sqlite:${path.join(dir, 'desk.db')}`, '--seed'], { DESK_REGIONAL_SECRET: SECRET });
  regional = await spawnDesk('sin-1', ['--core', core.base, '--journal', path.join(dir, 'journal.db')], { DESK_REGIONAL_SECRET: SECRET });
  await until(async () => (await fetch(`${regional.base}/healthz`)).status === 200, 10_000, 'regional node linked to the core');
}, 30_000);

afterAll(async () => {
  for (const p of [regional, core]) {
    if (p?.proc.exitCode === null) {
      p.proc.kill('SIGTERM');
      await p.exit;
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Writes `raw` on a new TCP connection; resolves with everything read until the server closed it. */
function rawExchange(base: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let got = '';
    socket.on('data', (d) => (got += String(d)));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
    socket.setTimeout(5000, () => reject(new Error(`socket still open after 5 s; got ${JSON.stringify(got)}`)));
    socket.write(raw);
  });
}

const upgrade = (target: string) =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
const plain = (target: string) => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

describe.each([
  ['a core node', () => core],
  ['a regional node', () => regional],
])('%s', (_name, node) => {
  it('answers an upgrade to a target that is not a URL with 400, closes the socket, and stays up', async () => {
    for (const target of ['http://[', 'http://[/ws', '//[::1/ws?workspace=w_demo']) {
      const answer = await rawExchange(node().base, upgrade(target));
      expect(answer, target).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect(node().proc.exitCode).toBeNull();
    // A real visitor still gets welcomed over the same node.
    const v = await visitor(node().base);
    expect(v.welcome.type).toBe('visitor.welcome');
    await v.client.close();
  });

  it('answers a plain request to a target that is not a URL with 400 and closes the connection', async () => {
    const answer = await rawExchange(node().base, plain('http://['));
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect((await fetch(`${node().base}/healthz`)).status).toBe(200);
  });

  it('answers a path with broken percent-encoding with 400 or 404, never 500', async () => {
    const token = await login(node().base);
    for (const p of ['/%E0%A4%A', '/api/conversations/%E0%A4%A/messages', '/regional/workspaces/%E0%A4%A', '/ws/%E0%A4%A']) {
      const res = await fetch(`${node().base}${p}`, { headers: { authorization: `Bearer ${token}` } });
      expect([400, 403, 404], p).toContain(res.status);
    }
    expect((await fetch(`${node().base}/healthz`)).status).toBe(200);
  });

  it('refuses an upgrade to another path with 404 and closes the socket', async () => {
    expect(await rawExchange(node().base, upgrade('/nope'))).toMatch(/^HTTP\/1\.1 404 /);
    expect((await fetch(`${node().base}/healthz`)).status).toBe(200);
  });
});
