/**
 * A background refresh (stale-while-revalidate) goes where a request would and is counted like
 * one: the first origin in the load balancer's order is down (its port closed), so the refresh,
 * like the client's own request, moves on to the next pool's origin after the failure to connect,
 * and both the failure and the answer show in the metrics.
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
  });
});
