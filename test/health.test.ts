/** Health through a real edge: active monitors move traffic off a dead origin and back; passive ejection. */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import pino from 'pino';
import { configSchema } from '../src/config/schema.js';
import { OriginStatus } from '../src/balancer/origin-status.js';
import { startEdge, type Edge } from '../src/server/edge.js';
import { healthTargets, localActiveHealth } from '../src/server/health-link.js';
import { createHealthChecker, type HealthChecker } from '../src/health/scheduler.js';
import { edgeUrl, startOrigin, type TestServer } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function origin(name: string, healthy = () => true, status = () => 200): Promise<TestServer> {
  const o = await startOrigin((req, res) => {
    if (req.url === '/healthz') {
      res.statusCode = healthy() ? 200 : 503;
      res.end();
      return;
    }
    res.statusCode = status();
    res.end(name);
  });
  cleanups.push(() => o.close());
  return o;
}

function configFor(a: TestServer, b: TestServer, extra: Record<string, unknown> = {}) {
  return configSchema.parse({
    pop: { id: 'test' },
    listen: { http: '127.0.0.1:0' },
    log: { level: 'silent', access: false },
    monitors: { hc: { type: 'http', path: '/healthz', interval: '100ms', timeout: '200ms', retries: 0 } },
    pools: {
      p: {
        monitor: 'hc',
        originSteering: 'round_robin',
        origins: [
          { name: 'a', address: a.url },
          { name: 'b', address: b.url },
        ],
      },
    },
    loadBalancers: [{ hostname: '*', defaultPools: ['p'] }],
    ...extra,
  });
}

async function edgeWithChecker(cfg: ReturnType<typeof configFor>): Promise<{ edge: Edge; checker: HealthChecker; status: OriginStatus }> {
  const checker = createHealthChecker();
  checker.setTargets(healthTargets(cfg));
  checker.start();
  const status = new OriginStatus();
  status.active = localActiveHealth(checker);
  const edge = await startEdge(cfg, { log: pino({ level: 'silent' }), status });
  cleanups.push(
    () => checker.stop(),
    () => edge.shutdown(200),
  );
  return { edge, checker, status };
}

const body = async (e: Edge) => {
  const r = await request(`${edgeUrl(e)}/`);
  return { status: r.statusCode, text: await r.body.text() };
};

describe('active health through the edge', () => {
  it('an origin failing its monitor gets no traffic, and gets it back when it passes again', async () => {
    let bHealthy = true;
    const a = await origin('a');
    const b = await origin('b', () => bHealthy);
    const { edge, checker } = await edgeWithChecker(configFor(a, b));
    await waitUntil('both healthy', () => checker.state('p', 'a')?.status === 'healthy' && checker.state('p', 'b')?.status === 'healthy');
    bHealthy = false;
    await waitUntil('b unhealthy', () => checker.state('p', 'b')?.status === 'unhealthy');
    for (let i = 0; i < 6; i++) expect((await body(edge)).text).toBe('a');
    bHealthy = true;
    await waitUntil('b healthy again', () => checker.state('p', 'b')?.status === 'healthy');
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await body(edge)).text);
    expect(seen).toEqual(new Set(['a', 'b']));
  });

  it('a killed origin: no failed request while the monitor notices (retries), then none sent to it', async () => {
    const a = await origin('a');
    const b = await origin('b');
    const { edge, checker } = await edgeWithChecker(configFor(a, b, { health: { passive: { enabled: false } } }));
    await waitUntil('both healthy', () => checker.state('p', 'b')?.status === 'healthy');
    await b.close();
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await body(edge)).status);
    expect(statuses.every((s) => s === 200)).toBe(true);
    await waitUntil('b unhealthy', () => checker.state('p', 'b')?.status === 'unhealthy');
    const retriesBefore = (await edge.runtime.metrics.retries.get()).values.reduce((n, v) => n + v.value, 0);
    for (let i = 0; i < 10; i++) expect((await body(edge)).text).toBe('a');
    const retriesAfter = (await edge.runtime.metrics.retries.get()).values.reduce((n, v) => n + v.value, 0);
    expect(retriesAfter).toBe(retriesBefore); // nothing tried on b any more
  });
});

describe('passive health through the edge', () => {
  it('an origin answering 5xx is ejected after consecutive failures; at most half the pool', async () => {
    const a = await origin('a');
    const b = await origin(
      'b',
      () => true,
      () => 500,
    );
    const cfg = configSchema.parse({
      pop: { id: 'test' },
      listen: { http: '127.0.0.1:0' },
      log: { level: 'silent', access: false },
      health: { passive: { consecutiveFailures: 3, baseEjectionTime: '10s' } },
      pools: {
        p: {
          originSteering: 'round_robin',
          origins: [
            { name: 'a', address: a.url },
            { name: 'b', address: b.url },
          ],
        },
      },
      loadBalancers: [{ hostname: '*', defaultPools: ['p'] }],
    });
    const edge = await startEdge(cfg, { log: pino({ level: 'silent' }) });
    cleanups.push(() => edge.shutdown(200));
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push((await body(edge)).text);
    expect(answers.filter((t) => t === 'b').length).toBe(3); // b answered 500 three times…
    for (let i = 0; i < 6; i++) expect((await body(edge)).text).toBe('a'); // …and is out
    expect(edge.runtime.status.passive!.isEjected('p/b', Date.now())).toBe(true);
    expect(edge.runtime.status.passive!.isEjected('p/a', Date.now())).toBe(false);
  });
});
