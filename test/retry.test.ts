/** Retries on another origin: connect failures are invisible to clients; unsafe retries never happen. */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { edgeConfig, edgeUrl, startOrigin, startTestEdge, type TestServer } from './helpers.js';
import type { Edge } from '../src/server/edge.js';

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('retries', () => {
  let good: TestServer;
  let resetter: TestServer;
  let resetterSeen = 0;
  let edge: Edge;
  let deadUrl: string;
  beforeAll(async () => {
    good = await startOrigin((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
      });
      req.on('end', () => res.end(JSON.stringify({ origin: 'good', bodyBytes: n })));
    });
    // Accepts, reads the request, then resets the connection before answering.
    resetter = await startOrigin((req) => {
      resetterSeen++;
      req.socket.resetAndDestroy();
    });
    deadUrl = `http://127.0.0.1:${await closedPort()}`;
  });
  afterAll(async () => {
    await edge?.shutdown(500);
    await good.close();
    await resetter.close();
  });

  it('sends every request to a live origin when the other refuses connections', async () => {
    // Round robin and no passive ejection: the dead origin is chosen for every other request.
    edge = await startTestEdge(
      edgeConfig([deadUrl, good.url], {
        pools: {
          main: {
            originSteering: 'round_robin',
            origins: [
              { name: 'dead', address: deadUrl },
              { name: 'good', address: good.url },
            ],
          },
        },
        health: { passive: { enabled: false } },
      }),
    );
    for (let i = 0; i < 10; i++) {
      const r = await request(`${edgeUrl(edge)}/x`, { method: i % 2 ? 'POST' : 'GET', body: i % 2 ? 'hello' : undefined });
      expect(r.statusCode).toBe(200);
      const body = (await r.body.json()) as { origin: string; bodyBytes: number };
      expect(body.origin).toBe('good');
      if (i % 2) expect(body.bodyBytes).toBe(5);
    }
    const retries = await edge.runtime.metrics.retries.get();
    expect(retries.values.reduce((a, v) => a + v.value, 0)).toBe(5);
    await edge.shutdown(500);
  });

  it('retries a reset GET but never a reset POST', async () => {
    edge = await startTestEdge(
      edgeConfig([resetter.url, good.url], {
        pools: {
          main: {
            originSteering: 'round_robin',
            origins: [
              { name: 'r', address: resetter.url },
              { name: 'g', address: good.url, weight: 0 },
            ],
          },
        },
      }),
    );
    const get = await request(`${edgeUrl(edge)}/idempotent`);
    expect(get.statusCode).toBe(200);
    expect(((await get.body.json()) as { origin: string }).origin).toBe('good');
    resetterSeen = 0;
    const post = await request(`${edgeUrl(edge)}/unsafe`, { method: 'POST', body: 'pay once' });
    expect(post.statusCode).toBe(502);
    expect(((await post.body.json()) as { error: { code: string } }).error.code).toBe('origin_reset');
    expect(resetterSeen).toBe(1);
    await edge.shutdown(500);
  });

  it('retries a reset PUT whose small body was buffered, not one over upstream.retryBodyLimit', async () => {
    const pools = {
      main: {
        originSteering: 'round_robin',
        origins: [
          { name: 'r', address: resetter.url },
          { name: 'g', address: good.url, weight: 0 },
        ],
      },
    };
    edge = await startTestEdge(edgeConfig([], { pools, upstream: { retryBodyLimit: '4KiB' }, health: { passive: { enabled: false } } }));
    const small = await request(`${edgeUrl(edge)}/put`, { method: 'PUT', body: Buffer.alloc(3000, 'x') });
    expect(small.statusCode).toBe(200);
    expect(await small.body.json()).toEqual({ origin: 'good', bodyBytes: 3000 });
    const big = await request(`${edgeUrl(edge)}/put`, { method: 'PUT', body: Buffer.alloc(5000, 'x') });
    expect(big.statusCode).toBe(502);
    await big.body.dump();
    await edge.shutdown(500);
  });

  it('gives up after the configured retries with the last real error', async () => {
    const dead2 = `http://127.0.0.1:${await closedPort()}`;
    edge = await startTestEdge(edgeConfig([deadUrl, dead2], { upstream: { retries: 1 } }));
    const r = await request(`${edgeUrl(edge)}/`);
    expect(r.statusCode).toBe(502);
    expect(((await r.body.json()) as { error: { code: string } }).error.code).toBe('origin_refused');
    await edge.shutdown(500);
  });
});

describe('WebSocket retries', () => {
  it('an upgrade whose first origin refuses the connection reaches another', async () => {
    const { startDemoOrigin } = await import('../src/demo/origin.js');
    const { default: WebSocket } = await import('ws');
    const live = await startDemoOrigin({ name: 'live', region: 'r' });
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const edge = await startTestEdge(edgeConfig([dead, live.url]));
    try {
      for (let i = 0; i < 4; i++) {
        const ws = new WebSocket(`${edgeUrl(edge).replace('http', 'ws')}/ws`);
        const hello = await new Promise<string>((resolve, reject) => {
          ws.once('message', (m) => resolve(String(m)));
          ws.once('error', reject);
        });
        expect(JSON.parse(hello).hello).toBe('live');
        ws.close();
      }
    } finally {
      await edge.shutdown(500);
      await live.close();
    }
  });
});
