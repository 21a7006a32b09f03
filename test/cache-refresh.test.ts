/**
 * A background refresh (stale-while-revalidate) is a request like any other (it walks balance and
 * upstream, cache/revalidate.ts): the first origin in the load balancer's order is down (its port
 * closed), so the refresh, like the client's own request, moves on to the next pool's origin after
 * the failure to connect, and both the failure and the answer show in the upstream metrics; the
 * cache's own request counts are the clients' (a refresh is not one).
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import type { Edge } from '../src/server/edge.js';
import { closedPort, edgeUrl, startOrigin, startTestEdge, waitFor, type TestServer } from './helpers.js';

describe('a stale-while-revalidate refresh', () => {
  let origin: TestServer;
  let edge: Edge;
  let generation = 0;

  beforeAll(async () => {
    origin = await startOrigin((_req, res) => {
      generation++;
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=1, stale-while-revalidate=60' });
      res.end(`generation ${generation}`);
    });
    const dead = await closedPort();
    edge = await startTestEdge(
      configSchema.parse({
        pop: { id: 'test', region: 'local' },
        listen: { http: '127.0.0.1:0', admin: '127.0.0.1:0' },
        log: { level: 'silent', access: false },
        pools: {
          down: { origins: [{ name: 'd1', address: `http://127.0.0.1:${dead}` }] },
          up: { origins: [{ name: 'u1', address: origin.url }] },
        },
        // Failover order: `down` first, as long as nothing says it is down (no monitor); a
        // retry may go on to the next pool.
        loadBalancers: [{ hostname: '*', defaultPools: ['down', 'up'], adaptiveRouting: { failoverAcrossPools: true } }],
      }),
    );
  });

  afterAll(async () => {
    await edge?.shutdown(100);
    await origin?.close();
  });

  const get = async () => {
    const r = await request(`${edgeUrl(edge)}/page`, { headers: { host: 'site.example' } });
    return { body: await r.body.text(), cacheStatus: String(r.headers['cache-status'] ?? '') };
  };
  const metric = async (name: string, labels: string) => {
    const text = await edge.runtime.metrics.registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('moves on from the origin that refuses the connection, stores the new answer, and is counted', async () => {
    expect((await get()).body).toBe('generation 1'); // the client's retry reached `up`
    const refusedBefore = await metric('outpost_upstream_errors_total', 'origin="down/d1"');
    const answeredBefore = await metric('outpost_upstream_response_seconds_count', 'origin="up/u1"');
    const missesBefore = await metric('outpost_cache_requests_total', 'result="miss"');
    await new Promise((r) => setTimeout(r, 1100));
    const stale = await get();
    expect(stale.body).toBe('generation 1');
    expect(stale.cacheStatus).toContain('detail=stale-while-revalidate');
    // The refresh asked `down` first, as the balance phase orders them, then `up`.
    await waitFor('the refresh', () => generation === 2);
    await waitFor('the refreshed entry', async () => (await get()).body === 'generation 2');
    expect((await get()).cacheStatus).toMatch(/^outpost; hit/);
    expect(await metric('outpost_upstream_errors_total', 'origin="down/d1"')).toBeGreaterThan(refusedBefore);
    expect(await metric('outpost_upstream_response_seconds_count', 'origin="up/u1"')).toBe(answeredBefore + 1);
    expect(generation).toBe(2);
    expect(await metric('outpost_cache_requests_total', 'result="miss"')).toBe(missesBefore);
    expect(await metric('outpost_cache_requests_total', 'result="stale"')).toBe(1);
  });

  it('revalidates with the stored validators: a 304 refreshes the stored answer, which keeps its body', async () => {
    let asked = 0;
    let conditional: string | undefined;
    const etagged = await startOrigin((req, res) => {
      asked++;
      conditional = req.headers['if-none-match'];
      if (conditional === '"v1"') {
        res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=1, stale-while-revalidate=60', 'x-fresh': String(asked) });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain', etag: '"v1"', 'cache-control': 'max-age=1, stale-while-revalidate=60' });
      res.end('the body');
    });
    const e = await startTestEdge(
      configSchema.parse({
        pop: { id: 'test', region: 'local' },
        listen: { http: '127.0.0.1:0', admin: '127.0.0.1:0' },
        log: { level: 'silent', access: false },
        pools: { up: { origins: [{ name: 'u1', address: etagged.url }] } },
        loadBalancers: [{ hostname: '*', defaultPools: ['up'] }],
      }),
    );
    try {
      const at = async (headers: Record<string, string> = {}) => {
        const r = await request(`${edgeUrl(e)}/etagged`, { headers: { host: 'site.example', ...headers } });
        return { body: await r.body.text(), fresh: r.headers['x-fresh'], cacheStatus: String(r.headers['cache-status'] ?? '') };
      };
      expect((await at()).body).toBe('the body');
      await new Promise((r) => setTimeout(r, 1100));
      // The client's own validator is not what the refresh sends: the stored one is.
      const stale = await at({ 'if-none-match': '"other"' });
      expect(stale.cacheStatus).toContain('detail=stale-while-revalidate');
      await waitFor('the refresh', () => asked === 2);
      expect(conditional).toBe('"v1"');
      await waitFor('the merged entry', async () => (await at()).fresh === '2');
      const merged = await at();
      expect(merged.body).toBe('the body');
      expect(merged.cacheStatus).toMatch(/^outpost; hit/);
      expect(asked).toBe(2);
    } finally {
      await e.shutdown(100);
      await etagged.close();
    }
  });
});
