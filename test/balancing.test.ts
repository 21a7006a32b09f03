/** Steering, failover order, fallback, session affinity and drain, through a real edge. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { configSchema } from '../src/config/schema.js';
import { signPin } from '../src/balancer/affinity.js';
import { startEdge, type Edge } from '../src/server/edge.js';
import { OriginStatus } from '../src/balancer/origin-status.js';
import pino from 'pino';
import { edgeUrl, startOrigin, type TestServer } from './helpers.js';

const named = (name: string) => startOrigin((_req, res) => res.end(name));

describe('load balancing', () => {
  const origins: Record<string, TestServer> = {};
  const edges: Edge[] = [];
  beforeAll(async () => {
    for (const n of ['eu1', 'eu2', 'ap1', 'fb1']) origins[n] = await named(n);
  });
  afterAll(async () => {
    for (const e of edges) await e.shutdown(200);
    for (const o of Object.values(origins)) await o.close();
  });

  function config(lb: Record<string, unknown>, pools?: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    return configSchema.parse({
      pop: { id: 'sin', region: 'ap-southeast', location: { lat: 1.35, lon: 103.82 } },
      listen: { http: '127.0.0.1:0' },
      log: { level: 'silent', access: false },
      pools: pools ?? {
        eu: {
          location: { lat: 50.1, lon: 8.7 },
          originSteering: 'round_robin',
          origins: [
            { name: 'eu1', address: origins.eu1.url },
            { name: 'eu2', address: origins.eu2.url },
          ],
        },
        ap: { location: { lat: 1.3, lon: 103.8 }, origins: [{ name: 'ap1', address: origins.ap1.url }] },
        fb: { origins: [{ name: 'fb1', address: origins.fb1.url }] },
      },
      loadBalancers: [{ hostname: '*', ...lb }],
      ...extra,
    });
  }
  async function edgeFor(cfg: ReturnType<typeof config>, status = new OriginStatus()) {
    const e = await startEdge(cfg, { log: pino({ level: 'silent' }), status, secret: 's'.repeat(32) });
    edges.push(e);
    return e;
  }
  const get = async (e: Edge, headers: Record<string, string> = {}) => {
    const r = await request(`${edgeUrl(e)}/`, { headers });
    return { status: r.statusCode, body: await r.body.text(), setCookie: r.headers['set-cookie'] as string | undefined };
  };

  it('off: the first pool of defaultPools, in failover order', async () => {
    const e = await edgeFor(config({ defaultPools: ['ap', 'eu'], fallbackPool: 'fb' }));
    for (let i = 0; i < 5; i++) expect((await get(e)).body).toBe('ap1');
  });

  it('proximity: the pool nearest the PoP (Singapore) wins over the first listed', async () => {
    const e = await edgeFor(config({ defaultPools: ['eu', 'ap'], steering: 'proximity' }));
    for (let i = 0; i < 3; i++) expect((await get(e)).body).toBe('ap1');
  });

  it('geo: the PoP pools first', async () => {
    const e = await edgeFor(config({ defaultPools: ['ap'], steering: 'geo', popPools: { sin: ['eu'] } }));
    expect((await get(e)).body).toMatch(/^eu[12]$/);
  });

  it('geo: a client country (from X-Forwarded-For of a trusted proxy, looked up in the shipped database) picks its pools', async () => {
    const { openGeoDatabase } = await import('../src/geo/geo-db.js');
    const { normalizeRegion } = await import('../src/geo/regions.js');
    const geo = await openGeoDatabase({ asnDb: false, refreshIntervalMs: 0 });
    try {
      const cfg = config({ defaultPools: ['eu'], steering: 'geo', countryPools: { US: ['ap'] }, regionPools: { oceania: ['fb'] } }, undefined, { geo: { trustedProxies: ['127.0.0.0/8'] } });
      const e = await startEdge(cfg, { log: pino({ level: 'silent' }), geo, normalizeRegion: (r) => normalizeRegion(r) ?? r });
      edges.push(e);
      expect((await get(e, { 'x-forwarded-for': '8.8.8.8' })).body).toBe('ap1'); // US
      expect((await get(e, { 'x-forwarded-for': '1.1.1.1' })).body).toBe('fb1'); // AU → oceania
      expect((await get(e, { 'x-forwarded-for': '81.2.69.142' })).body).toMatch(/^eu[12]$/); // GB: no map, default pools
      // A spoofed header from an untrusted peer is ignored: the socket address counts.
      const untrusted = await startEdge(config({ defaultPools: ['eu'], steering: 'geo', countryPools: { US: ['ap'] } }), { log: pino({ level: 'silent' }), geo });
      edges.push(untrusted);
      expect((await get(untrusted, { 'x-forwarded-for': '8.8.8.8' })).body).toMatch(/^eu[12]$/);
    } finally {
      geo.close();
    }
  });

  it('an origin disabled at run time gets no traffic; all down goes to the fallback pool, then 530', async () => {
    const status = new OriginStatus();
    const e = await edgeFor(config({ defaultPools: ['eu'], fallbackPool: 'fb' }), status);
    status.overrides.set('eu/eu1', { enabled: false, since: Date.now() });
    for (let i = 0; i < 4; i++) expect((await get(e)).body).toBe('eu2');
    status.overrides.set('eu/eu2', { enabled: false, since: Date.now() });
    expect((await get(e)).body).toBe('fb1');
    status.overrides.set('fb/fb1', { enabled: false, since: Date.now() });
    const r = await get(e, { accept: 'application/json' });
    expect(r.status).toBe(530);
    expect(JSON.parse(r.body).error).toMatchObject({ code: 'no_origin', pop: 'sin' });
  });

  it('an unhealthy pool (active health) is skipped', async () => {
    const status = new OriginStatus();
    status.active = { verdict: (o) => (o.pool === 'ap' ? 'unhealthy' : 'healthy'), poolRtt: () => undefined };
    const e = await edgeFor(config({ defaultPools: ['ap', 'eu'] }), status);
    expect((await get(e)).body).toMatch(/^eu[12]$/);
  });

  describe('cookie affinity', () => {
    const aff = { type: 'cookie', sameSite: 'none', secure: 'always', drainDuration: '2s' };
    it('pins a client to the origin of its first answer', async () => {
      const e = await edgeFor(config({ defaultPools: ['eu'], sessionAffinity: aff }));
      const first = await get(e);
      expect(first.setCookie).toMatch(/^__outpost_lb=[^;]+; Path=\/; Max-Age=82800; Secure; HttpOnly; SameSite=None$/);
      const cookie = first.setCookie!.split(';')[0];
      for (let i = 0; i < 6; i++) {
        const r = await get(e, { cookie });
        expect(r.body).toBe(first.body);
        expect(r.setCookie).toBeUndefined();
      }
    });
    it('ignores a tampered or foreign cookie and pins anew', async () => {
      const e = await edgeFor(config({ defaultPools: ['eu'], sessionAffinity: aff }));
      const forged = signPin({ originId: 'eu/eu1', expiresAt: Math.floor(Date.now() / 1000) + 60 }, 'another key of 32 characters....');
      const r = await get(e, { cookie: `__outpost_lb=${forged}` });
      expect(r.setCookie).toBeDefined();
      const pointsElsewhere = signPin({ originId: 'fb/fb1', expiresAt: Math.floor(Date.now() / 1000) + 60 }, 's'.repeat(32));
      const r2 = await get(e, { cookie: `__outpost_lb=${pointsElsewhere}` });
      expect(r2.body).toMatch(/^eu[12]$/); // fb is not a pool of this load balancer
    });
    it('a disabled origin keeps its sessions for drainDuration, takes no new ones', async () => {
      const status = new OriginStatus();
      const e = await edgeFor(config({ defaultPools: ['eu'], sessionAffinity: aff }), status);
      const cookie = `__outpost_lb=${signPin({ originId: 'eu/eu1', expiresAt: Math.floor(Date.now() / 1000) + 60 }, 's'.repeat(32))}`;
      status.overrides.set('eu/eu1', { enabled: false, since: Date.now() });
      expect((await get(e, { cookie })).body).toBe('eu1');
      for (let i = 0; i < 4; i++) expect((await get(e)).body).toBe('eu2');
      status.overrides.set('eu/eu1', { enabled: false, since: Date.now() - 2500 });
      const after = await get(e, { cookie });
      expect(after.body).toBe('eu2');
      expect(after.setCookie).toBeDefined();
    });
    it('an unhealthy pinned origin is replaced and the pin moves', async () => {
      const status = new OriginStatus();
      const e = await edgeFor(config({ defaultPools: ['eu'], sessionAffinity: aff }), status);
      const cookie = `__outpost_lb=${signPin({ originId: 'eu/eu1', expiresAt: Math.floor(Date.now() / 1000) + 60 }, 's'.repeat(32))}`;
      status.passive = { isEjected: (id) => id === 'eu/eu1' };
      const r = await get(e, { cookie });
      expect(r.body).toBe('eu2');
      expect(r.setCookie).toBeDefined();
    });
  });

  it('header affinity: the same header value always reaches the same origin', async () => {
    const e = await edgeFor(config({ defaultPools: ['eu'], sessionAffinity: { type: 'header', headers: ['x-session'] } }));
    const seen = new Map<string, Set<string>>();
    // 20 keys over two origins: all on one would be a 2^-19 accident, not a flaky test.
    for (let i = 0; i < 40; i++) {
      const id = `s${i % 20}`;
      const r = await get(e, { 'x-session': id });
      if (!seen.has(id)) seen.set(id, new Set());
      seen.get(id)!.add(r.body);
    }
    for (const set of seen.values()) expect(set.size).toBe(1);
    expect(new Set([...seen.values()].flatMap((s) => [...s])).size).toBe(2);
  });
});
