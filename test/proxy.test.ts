import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { edgeConfig, edgeUrl, startOrigin, startTestEdge, type TestServer } from './helpers.js';
import type { Edge } from '../src/server/edge.js';

describe('proxying', () => {
  let origin: TestServer;
  let edge: Edge;
  beforeAll(async () => {
    origin = await startOrigin((req, res) => {
      if (req.url === '/echo') {
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' });
        req.pipe(res);
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, method: req.method, headers: req.headers }));
    });
    edge = await startTestEdge(edgeConfig([origin.url]));
  });
  afterAll(async () => {
    await edge.shutdown(1000);
    await origin.close();
  });

  it('forwards a GET with forwarding headers', async () => {
    const r = await request(`${edgeUrl(edge)}/hello?x=1`, { headers: { host: 'chat.example.com', 'x-request-id': 'client-id-1' } });
    expect(r.statusCode).toBe(200);
    const body = (await r.body.json()) as { url: string; headers: Record<string, string> };
    expect(body.url).toBe('/hello?x=1');
    expect(body.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(body.headers['x-forwarded-proto']).toBe('http');
    expect(body.headers['x-forwarded-host']).toBe('chat.example.com');
    expect(body.headers.host).toBe('chat.example.com');
    expect(body.headers.via).toBe('1.1 test');
    expect(body.headers['x-request-id']).toBe('client-id-1');
    expect(r.headers['x-request-id']).toBe('client-id-1');
    expect(r.headers.via).toBe('1.1 test');
  });

  it('streams a POST body both ways', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'a');
    const r = await request(`${edgeUrl(edge)}/echo`, { method: 'POST', body: big, headers: { 'content-type': 'text/plain' } });
    const got = Buffer.from(await r.body.arrayBuffer());
    expect(r.statusCode).toBe(200);
    expect(got.length).toBe(big.length);
    expect(got.equals(big)).toBe(true);
  });
});
