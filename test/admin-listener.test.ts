/**
 * The admin listener on its own (in-process): which endpoints need the token. /healthz and
 * /readyz are always open (load balancers probe them); /metrics and /status follow
 * admin.publicMetrics; /api/* always needs the token.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminModel } from '../src/admin/api.js';
import { type AdminSource, startAdmin } from '../src/admin/server.js';
import { configSchema } from '../src/config/schema.js';

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
    const admin = await startAdmin({ host: '127.0.0.1', port: 0 }, source);
    server = admin.server;
    base = `http://127.0.0.1:${admin.address.port}`;
  });
  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
  });

  const status = async (path: string, token?: string) =>
    (await request(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })).statusCode;

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
    const r = configSchema.safeParse({ pools: { p: { origins: [{ name: 'o', address: 'http://127.0.0.1:1' }] } }, loadBalancers: [{ hostname: '*', defaultPools: ['p'] }], admin: { publicMetrics: false } });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain('admin.publicMetrics');
  });
});
