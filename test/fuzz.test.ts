/**
 * A bounded fuzz of what strangers can send a node (issue 14): random request lines, targets,
 * headers and raw bytes at the HTTP listener, the admin listener (with and without the token) and
 * the TLS listener, plus random `:path`s over HTTP/2. A real node (supervisor + one worker) must
 * stay up, never answer 500 (a phase that threw), and count none of it against its origin.
 *
 * Random but repeatable: the seed is printed on failure; FUZZ_SEED=<n> replays a run and
 * FUZZ_ROUNDS sets its length (default 300 per listener).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../src/balancer/origin/seeded-random.js';
import { closedPort, ensureBuilt, repoRoot, sendRaw, startOrigin, waitFor, writeDevTls, type DevTlsFiles, type TestServer } from './helpers.js';

const TOKEN = 'fuzz-admin-token-0123456789';
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 300);

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'PRI', 'G3T', 'get', ''];
const PIECES = [
  '/',
  '/api/',
  '/api/pools',
  '/api/cache/purge',
  '/metrics',
  '/status',
  '..',
  '.',
  '%',
  '%2e',
  '%2F',
  '%E0%A4%A',
  '%ff',
  '%00',
  '//',
  '?',
  '#',
  '*',
  'http://',
  'https://',
  '[',
  ']',
  '@',
  ':',
  '\\',
  ' ',
  '\t',
  '\x00',
  '\x7f',
  '\u00e9',
  '\ud83d\ude00',
  'a',
  'Z',
  '0',
  '-',
  '~',
  ';',
  '&',
  '=',
  '"',
  "'",
  '<script>',
];
const HEADERS = [
  'Host: a.test',
  'Host: ',
  'Host: [',
  'Host: a.test:99999',
  'Content-Length: 5',
  'Content-Length: -1',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: gzip, chunked',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Expect: 100-continue',
  'X-Forwarded-For: 1.2.3.4',
  'Cookie: a=b',
  `Authorization: Bearer ${TOKEN}`,
  'Authorization: Bearer x',
  'Content-Type: application/json',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version: 13',
  'X-: y',
  ': x',
  'Bad Header: 1',
  `X-Long: ${'x'.repeat(3000)}`,
];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)];
}

/** One random HTTP/1.x message: mostly well-shaped, with random targets and headers; sometimes raw noise. */
function randomMessage(rand: () => number): Buffer {
  if (rand() < 0.15) {
    const bytes = Buffer.alloc(1 + Math.floor(rand() * 400));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
    return bytes;
  }
  let target = '';
  const n = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) target += pick(rand, PIECES);
  if (rand() < 0.5 && !target.startsWith('/')) target = `/${target}`;
  const version = rand() < 0.9 ? 'HTTP/1.1' : pick(rand, ['HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 x', '']);
  const lines = [`${pick(rand, METHODS)} ${target} ${version}`];
  const headers = Math.floor(rand() * 5);
  if (rand() < 0.8) lines.push('Host: a.test');
  for (let i = 0; i < headers; i++) lines.push(pick(rand, HEADERS));
  const body = rand() < 0.3 ? '{"everything":true}' : '';
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

/** The statuses in whatever came back (pipelined answers included). */
function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}

describe('fuzz: a node stays up whatever it is sent', () => {
  let proc: ChildProcess;
  let dir: string;
  let tlsFiles: DevTlsFiles;
  let origin: TestServer;
  let httpPort: number;
  let httpsPort: number;
  let adminPort: number;
  let output = '';

  beforeAll(async () => {
    origin = await startOrigin((req, res) => {
      req.resume();
      res.end('origin');
    });
    [httpPort, httpsPort, adminPort] = [await closedPort(), await closedPort(), await closedPort()];
    dir = mkdtempSync(join(tmpdir(), 'outpost-fuzz-'));
    tlsFiles = writeDevTls(join(dir, 'tls'));
    const file = join(dir, 'outpost.yaml');
    writeFileSync(
      file,
      [
        'pop: { id: fuzz }',
        `listen: { http: 127.0.0.1:${httpPort}, https: 127.0.0.1:${httpsPort}, admin: 127.0.0.1:${adminPort} }`,
        'workers: 1',
        'log: { level: error, access: false }',
        `admin: { token: ${TOKEN} }`,
        `tls: { certificates: [{ cert: ${tlsFiles.certFile}, key: ${tlsFiles.keyFile} }] }`,
        'limits: { clientConnections: 0, clientConnectionRate: 0 }',
        'health: { passive: { consecutiveFailures: 3 } }',
        `pools: { p: { origins: [{ name: o, address: "${origin.url}" }] } }`,
        'loadBalancers: [{ hostname: "*", defaultPools: [p] }]',
        '',
      ].join('\n'),
    );
    await ensureBuilt();
    proc = spawn(process.execPath, [join(repoRoot, 'bin/outpost.js'), 'start', '-c', file], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    proc.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    await waitFor('/readyz', async () => (await request(`http://127.0.0.1:${adminPort}/readyz`)).statusCode === 200, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${output}`);
    });
  });
  afterAll(async () => {
    if (proc?.pid && proc.exitCode === null) {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const alive = async () => {
    expect(proc.exitCode, output).toBeNull();
    expect((await request(`http://127.0.0.1:${adminPort}/healthz`)).statusCode).toBe(200);
    const r = await request(`http://127.0.0.1:${httpPort}/after`, { headers: { host: 'a.test' } });
    expect(await r.body.text()).toBe('origin');
  };

  it(`HTTP/1.1 and admin listeners (seed ${SEED})`, async () => {
    const rand = seededRandom(SEED);
    const seen = new Map<number, number>();
    // In batches of 20 at once; an answer kept alive is read for 500 ms, then the socket dropped.
    for (let i = 0; i < ROUNDS; i += 10) {
      const batch = Array.from({ length: 20 }, (_, k) => ({ port: k % 2 ? adminPort : httpPort, message: randomMessage(rand) }));
      const replies = await Promise.all(batch.map(({ port, message }) => sendRaw(port, message, 500)));
      replies.forEach((r, k) => {
        for (const s of statuses(r.text)) {
          seen.set(s, (seen.get(s) ?? 0) + 1);
          expect(s, `seed ${SEED}: ${JSON.stringify(batch[k].message.toString('latin1').slice(0, 200))} → ${r.text.slice(0, 200)}`).not.toBe(500);
        }
      });
    }
    // The fuzz reached past the parser: it was refused for many reasons, and some got through.
    expect(seen.get(400)).toBeGreaterThan(0);
    expect([...seen.keys()].length).toBeGreaterThan(3);
    await alive();
  }, 120_000);

  it(`TLS listener: random bytes, and random :paths over HTTP/2 (seed ${SEED})`, async () => {
    const rand = seededRandom(SEED + 1);
    await Promise.all(Array.from({ length: ROUNDS / 10 }, () => sendRaw(httpsPort, randomMessage(rand), 500)));
    const session = http2.connect(`https://127.0.0.1:${httpsPort}`, { ca: tlsFiles.ca, servername: 'localhost' });
    session.on('error', () => {});
    const answers: number[] = [];
    const ask = (path: string) =>
      new Promise<number>((resolve) => {
        let stream: http2.ClientHttp2Stream;
        try {
          stream = session.request({ ':method': pick(rand, ['GET', 'POST', 'OPTIONS']), ':path': path, ':authority': 'a.test' }, { endStream: true });
        } catch {
          return resolve(-1); // node's client refused to send it
        }
        stream.on('response', (h) => resolve(Number(h[':status'])));
        stream.on('error', () => resolve(-2)); // nghttp2 resets a stream whose :path is not a path (PROTOCOL_ERROR)
        stream.on('close', () => resolve(-3));
        stream.resume();
      });
    for (let i = 0; i < ROUNDS / 2 && !session.destroyed; i += 10) {
      const paths = Array.from({ length: 10 }, () => {
        let path = rand() < 0.5 ? '/' : '';
        for (let k = 1 + Math.floor(rand() * 5); k > 0; k--) path += pick(rand, PIECES);
        return path;
      });
      // One target the edge itself must refuse in every batch, whatever the seed.
      paths[0] = '/%E0%A4%A';
      const got = await Promise.all(paths.map(ask));
      got.forEach((status, k) => {
        expect(status, `seed ${SEED}: h2 :path ${JSON.stringify(paths[k])}`).not.toBe(500);
      });
      answers.push(...got);
    }
    session.close();
    expect(answers.some((s) => s === 400)).toBe(true);
    // TLS with a wrong first byte, then a real TLS socket that closes mid-handshake.
    await new Promise<void>((resolve) => {
      const s = tls.connect({ port: httpsPort, host: '127.0.0.1', rejectUnauthorized: false });
      s.on('error', () => resolve());
      s.on('secureConnect', () => {
        s.write(randomMessage(rand));
        s.end();
        resolve();
      });
    });
    await alive();
  }, 120_000);

  it('counted nothing against the origin', async () => {
    const metrics = await (await request(`http://127.0.0.1:${adminPort}/metrics`)).body.text();
    const errors = [...metrics.matchAll(/^outpost_upstream_errors_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(errors).toBe(0);
    expect(metrics).toMatch(/outpost_requests_total\{[^}]*origin="p\/o"[^}]*\} [1-9]/);
  });
});
