/**
 * The shield's IP access rules and rate limits over real sockets, with distinct loopback addresses
 * (127.0.0.2, 127.0.0.3, …) playing distinct clients.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { openGeoDatabase } from '../src/geo/geo-db.js';
import { startEdge, type Edge } from '../src/server/edge.js';
import { edgeConfig, edgeUrl, metricSum, sendRaw, startOrigin, type TestServer, loopbackClients } from './helpers.js';

const clients = loopbackClients();
const from = clients.from;

let origin: TestServer;
let _originHits = 0;
let edge: Edge;
/** A second edge with rate limits and no IP rules (an `allow` rule would exempt clients from limits). */
let limited: Edge;

async function get(path: string, opts: { from?: string; headers?: Record<string, string>; edge?: Edge } = {}) {
  const r = await request(`${edgeUrl(opts.edge ?? edge)}${path}`, { dispatcher: from(opts.from ?? '127.0.0.1'), headers: { host: 'site.example', ...opts.headers } });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers as Record<string, string>, text };
}

beforeAll(async () => {
  origin = await startOrigin((_req, res) => {
    _originHits++;
    res.end('origin');
  });
  const geo = await openGeoDatabase({ asnDb: false, privateDefault: { country: 'FR' } });
  const config = edgeConfig([origin.url], {
    security: {
      ipRules: [
        { action: 'block', cidr: '127.0.0.0/29', note: 'lab range' },
        { action: 'allow', ip: '127.0.0.3' },
        { action: 'challenge', ip: '127.0.0.9' },
        { action: 'block', country: 'FR' },
        { action: 'allow', cidr: '127.0.1.0/24' },
      ],
    },
    rules: [{ match: '*/open/*', disableSecurity: true }],
  });
  edge = await startEdge(config, { log: pino({ level: 'silent' }), geo });
  limited = await startEdge(
    edgeConfig([origin.url], {
      security: {
        rateLimits: [
          { match: '*/api/*', key: 'header:x-api-key', requests: 3, period: '10s', timeout: '30s' },
          { match: '*/limited/*', requests: 5, period: '10s', timeout: '30s' },
          { match: '*/watched/*', requests: 1, period: '10s', action: 'log' },
        ],
      },
    }),
    { log: pino({ level: 'silent' }) },
  );
});
afterAll(async () => {
  await edge.shutdown(1000);
  await limited.shutdown(1000);
  await origin.close();
  await clients.close();
});

describe('IP access rules', () => {
  it('blocks a network with 403, a JSON body and x-outpost-mitigated; allow beats an earlier block', async () => {
    const blocked = await get('/', { from: '127.0.0.2' });
    expect(blocked.status).toBe(403);
    expect(blocked.headers['x-outpost-mitigated']).toBe('block');
    expect(JSON.parse(blocked.text)).toMatchObject({ error: { status: 403, code: 'blocked', rule: 'ip-rule-0' } });
    const allowed = await get('/', { from: '127.0.0.3' });
    expect(allowed.status).toBe(200);
    expect(allowed.text).toBe('origin');
  });

  it('answers HTML to a browser, and challenges (403 challenge) a challenged address', async () => {
    const page = await get('/', { from: '127.0.0.2', headers: { accept: 'text/html' } });
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const challenged = await get('/', { from: '127.0.0.9' });
    expect(challenged.status).toBe(403);
    expect(challenged.headers['x-outpost-mitigated']).toBe('challenge');
  });

  it('blocks by country (the geo database places loopback clients where the config says)', async () => {
    const r = await get('/', { from: '127.0.0.20' });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.text).error.rule).toBe('ip-rule-3');
    expect((await get('/', { from: '127.0.1.5' })).status).toBe(200); // allowed network
  });

  it('lets verified paths and disableSecurity rules through', async () => {
    expect((await get('/robots.txt', { from: '127.0.0.2' })).status).toBe(200);
    expect((await get('/.well-known/acme-challenge/x', { from: '127.0.0.2' })).status).toBe(200);
    expect((await get('/open/page', { from: '127.0.0.2' })).status).toBe(200);
  });

  it('refuses a WebSocket upgrade from a blocked address', async () => {
    const r = await sendRaw(
      edge.addresses.http!.port,
      'GET /ws HTTP/1.1\r\nHost: site.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    // sendRaw connects from 127.0.0.1, inside the blocked /29.
    expect(r.text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(r.text).toMatch(/x-outpost-mitigated: block/);
  });
});

describe('rate limits', () => {
  it('lets exactly `requests` through per key, then answers 429 with Retry-After and RateLimit headers', async () => {
    const codes: number[] = [];
    let last: Awaited<ReturnType<typeof get>> | undefined;
    for (let i = 0; i < 7; i++) {
      last = await get('/limited/x', { from: '127.0.1.10', edge: limited });
      codes.push(last.status);
    }
    expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(last!.headers['x-outpost-mitigated']).toBe('rate-limit');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(last!.headers['ratelimit-policy']).toMatch(/^"rate-limit-1";q=5;w=10$/);
    expect(last!.headers.ratelimit).toMatch(/^"rate-limit-1";r=0;t=\d+$/);
    // Another client has its own count.
    expect((await get('/limited/x', { from: '127.0.1.11', edge: limited })).status).toBe(200);
  });

  it('counts by header value; requests without the header are not counted', async () => {
    const a = [];
    for (let i = 0; i < 4; i++) a.push((await get('/api/items', { from: '127.0.1.12', headers: { 'x-api-key': 'k1' }, edge: limited })).status);
    expect(a).toEqual([200, 200, 200, 429]);
    expect((await get('/api/items', { from: '127.0.1.12', headers: { 'x-api-key': 'k2' }, edge: limited })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await get('/api/items', { from: '127.0.1.12', edge: limited })).status).toBe(200);
  });

  it('a `log` rule only counts', async () => {
    const before = await metricSum(limited.runtime.metrics.shieldActions);
    for (let i = 0; i < 3; i++) expect((await get('/watched/x', { from: '127.0.1.13', edge: limited })).status).toBe(200);
    expect(await metricSum(limited.runtime.metrics.shieldActions)).toBe(before + 2);
  });

  it('keeps limits across a reload that keeps the rule', async () => {
    for (let i = 0; i < 6; i++) await get('/limited/y', { from: '127.0.1.14', edge: limited });
    limited.apply(limited.runtime.snapshot.config);
    expect((await get('/limited/y', { from: '127.0.1.14', edge: limited })).status).toBe(429);
  });
});
