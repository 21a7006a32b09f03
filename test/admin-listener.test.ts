/**
 * The admin listener on its own (in-process): which endpoints need the token. /healthz and
 * /readyz are always open (load balancers probe them); /metrics and /status follow
 * admin.publicMetrics; /api/* always needs the token.
 */
import net from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminModel } from '../src/admin/api.js';
import { type AdminSource, startAdmin } from '../src/admin/server.js';
import { configSchema } from '../src/config/schema.js';
import { sendRaw } from './helpers.js';

const TOKEN = 'admin-listener-token-0123456789';

describe('admin listener: admin.publicMetrics', () => {
  let publicMetrics = true;
  let server: Awaited<ReturnType<typeof startAdmin>>['server'];
  let base: string;

  beforeAll(async () => {
    const source: AdminSource = {
      metricsContentType: 'text/plain',
      metrics: async () => 'outpost_up 1\n',
      ready: () => true,
      status: () => ({ pop: 'test' }),
      api: { token: () => TOKEN, publicMetrics: () => publicMetrics, model: { loadBalancers: () => [] } as unknown as AdminModel },
    };
    const admin = await startAdmin({ host: '127.0.0.1', port: 0 }, source, { headersTimeoutMs: 300, requestTimeoutMs: 1000 });
    server = admin.server;
    base = `http://127.0.0.1:${admin.address.port}`;
  });
  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
  });

  const status = async (path: string, token?: string) => (await request(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })).statusCode;

  it('true (the default): /metrics and /status are open, /api/ is not', async () => {
    publicMetrics = true;
    expect(await status('/metrics')).toBe(200);
    expect(await status('/status')).toBe(200);
    expect(await status('/api/loadbalancers')).toBe(401);
  });

  it('false: /metrics and /status need the token; /healthz and /readyz stay open', async () => {
    publicMetrics = false;
    expect(await status('/metrics')).toBe(401);
    expect(await status('/status', 'wrong-token-wrong-token-000')).toBe(401);
    expect(await status('/metrics', TOKEN)).toBe(200);
    expect(await status('/status', TOKEN)).toBe(200);
    expect(await status('/healthz')).toBe(200);
    expect(await status('/readyz')).toBe(200);
  });

  it('false without a token is a config error naming the key', () => {
    const r = configSchema.safeParse({
      pools: { p: { origins: [{ name: 'o', address: 'http://127.0.0.1:1' }] } },
      loadBalancers: [{ hostname: '*', defaultPools: ['p'] }],
      admin: { publicMetrics: false },
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain('admin.publicMetrics');
  });
});

describe('admin listener: what a stranger may send', () => {
  let server: Awaited<ReturnType<typeof startAdmin>>['server'];
  let port: number;
  let purges = 0;

  beforeAll(async () => {
    const model = {
      purge: async () => {
        purges++;
        return { purged: 0, workers: 0, errors: [] };
      },
    } as unknown as AdminModel;
    const admin = await startAdmin(
      { host: '127.0.0.1', port: 0 },
      { metricsContentType: 'text/plain', metrics: async () => '', ready: () => true, status: () => ({}), api: { token: () => TOKEN, model } },
      { headersTimeoutMs: 300, requestTimeoutMs: 1000 },
    );
    server = admin.server;
    port = admin.address.port;
  });
  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
  });

  const healthy = async () => (await request(`http://127.0.0.1:${port}/healthz`)).statusCode;

  it('a target that is not a URL, bytes that are not HTTP, and a head over 16 KiB get 400; the listener answers after', async () => {
    for (const bytes of ['GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n', '\x00\x01\x02 garbage\r\n\r\n', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]) {
      const r = await sendRaw(port, bytes);
      expect(r.text).toMatch(/^HTTP\/1\.1 400 /);
      expect(r.closed).toBe(true);
    }
    expect(await healthy()).toBe(200);
  });

  it('a head sent slowly is cut at the head timeout, and the socket freed', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 100);
    const got = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString();
      });
      socket.on('close', () => resolve(text));
    });
    clearInterval(drip);
    expect(got).toMatch(/^HTTP\/1\.1 400 /);
    expect(await healthy()).toBe(200);
  });

  it('a purge body over 1 MiB is refused with 400 and purges nothing', async () => {
    const r = await request(`http://127.0.0.1:${port}/api/cache/purge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: `{"urls":["${'a'.repeat(1_200_000)}"]}`,
    }).catch((err: Error) => ({ statusCode: 0, error: err }));
    // Either the 400 arrives, or the listener cut the upload short: never a purge.
    if ('body' in r) await r.body.text();
    expect([0, 400]).toContain(r.statusCode);
    expect(purges).toBe(0);
    expect(await healthy()).toBe(200);
  });
});
