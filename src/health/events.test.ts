import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookSink, forwardChanges, healthEvent, logSink, type HealthEvent, type WebhookSink } from './events.js';
import { HealthState } from './health-state.js';

interface Hook {
  url: string;
  bodies: unknown[];
  hits: number;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1:0 answering each POST with the next status of `statuses` (the last repeats). */
async function receiver(statuses: number[] = [204], delayMs = 0): Promise<Hook> {
  const hook = { bodies: [] as unknown[], hits: 0 } as Hook;
  const server = http.createServer((req, res) => {
    const status = statuses[Math.min(hook.hits, statuses.length - 1)];
    hook.hits++;
    let body = '';
    req
      .setEncoding('utf8')
      .on('data', (d) => (body += d))
      .on('end', () => {
        if (status < 300) hook.bodies.push({ ...JSON.parse(body), contentType: req.headers['content-type'] });
        if (delayMs === Infinity) return; // never answers
        setTimeout(() => res.writeHead(status).end(), delayMs);
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/health`;
  hook.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  closers.push(hook.close);
  return hook;
}

const closers: (() => Promise<void>)[] = [];
const sinks: WebhookSink[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
  await Promise.all(closers.splice(0).map((c) => c()));
});
function sink(...args: Parameters<typeof createWebhookSink>) {
  const s = createWebhookSink(...args);
  sinks.push(s);
  return s;
}

const change = { pool: 'eu', origin: 'fra-1', monitor: 'chat', from: 'healthy' as const, to: 'unhealthy' as const, reason: 'status 503', rttMs: 12.345, at: Date.UTC(2026, 0, 2, 3, 4, 5) };
const event: HealthEvent = healthEvent(change, 'sin');

describe('health events', () => {
  it('an event is the change, the PoP, and an ISO time', () => {
    expect(event).toEqual({ pool: 'eu', origin: 'fra-1', monitor: 'chat', from: 'healthy', to: 'unhealthy', reason: 'status 503', rttMs: 12.3, pop: 'sin', at: '2026-01-02T03:04:05.000Z' });
  });

  it('delivers JSON POSTs to every URL, in order', async () => {
    const a = await receiver();
    const b = await receiver([200]);
    const s = sink({ urls: [a.url, b.url] });
    s.deliver(event);
    s.deliver({ ...event, to: 'healthy', from: 'unhealthy', reason: 'ok' });
    await s.flush();
    for (const hook of [a, b]) {
      expect(hook.bodies).toEqual([
        { ...event, contentType: 'application/json' },
        { ...event, to: 'healthy', from: 'unhealthy', reason: 'ok', contentType: 'application/json' },
      ]);
    }
    expect(s.stats()).toEqual({ delivered: 4, failed: 0, dropped: 0, retries: 0, queued: 0 });
  });

  it('re-tries a 500 with backoff, and gives up after 3 attempts', async () => {
    const flaky = await receiver([500, 503, 204]);
    const s = sink({ urls: [flaky.url], backoffMs: 20 });
    const started = Date.now();
    s.deliver(event);
    await s.flush();
    expect(Date.now() - started).toBeGreaterThanOrEqual(20 + 40 - 5);
    expect(flaky.hits).toBe(3);
    expect(flaky.bodies).toHaveLength(1);
    expect(s.stats()).toMatchObject({ delivered: 1, retries: 2, failed: 0 });

    const dead = await receiver([500]);
    const errors: unknown[] = [];
    const s2 = sink({ urls: [dead.url], backoffMs: 1, onError: (e) => errors.push(e) });
    s2.deliver(event);
    await s2.flush();
    expect(dead.hits).toBe(3);
    expect(s2.stats()).toMatchObject({ delivered: 0, failed: 1, retries: 2 });
  });

  it('does not re-try a final refusal (400)', async () => {
    const hook = await receiver([400]);
    const errors: unknown[] = [];
    const s = sink({ urls: [hook.url], backoffMs: 1, onError: (e) => errors.push(e) });
    s.deliver(event);
    await s.flush();
    expect(hook.hits).toBe(1);
    expect(s.stats()).toMatchObject({ failed: 1, retries: 0 });
    expect(String(errors[0])).toMatch(/400/);
  });

  it('times a slow receiver out and re-tries it', async () => {
    const slow = await receiver([204], 300);
    const s = sink({ urls: [slow.url], timeoutMs: 50, backoffMs: 1, attempts: 2 });
    s.deliver(event);
    await s.flush();
    expect(slow.hits).toBe(2);
    expect(s.stats()).toMatchObject({ delivered: 0, failed: 1 });
  });

  it('re-tries an unreachable receiver, never throwing to the caller', async () => {
    const gone = await receiver();
    await gone.close();
    const s = sink({ urls: [gone.url], backoffMs: 1 });
    expect(() => s.deliver(event)).not.toThrow();
    await s.flush();
    expect(s.stats()).toMatchObject({ failed: 1, retries: 2 });
  });

  it('drops and counts events past a full queue, and deliver never waits', async () => {
    const slow = await receiver([204], 100);
    const s = sink({ urls: [slow.url], queueLimit: 3 });
    const started = performance.now();
    for (let i = 0; i < 10; i++) s.deliver({ ...event, reason: `r${i}` });
    expect(performance.now() - started).toBeLessThan(50);
    expect(s.stats()).toMatchObject({ queued: 3, dropped: 7 });
    await s.flush();
    expect((slow.bodies as HealthEvent[]).map((b) => b.reason)).toEqual(['r0', 'r1', 'r2']);
  });

  it('close drops what waits, aborts what is in flight, and leaves no socket or timer', async () => {
    const count = (kind: string) => process.getActiveResourcesInfo().filter((k) => k === kind).length;
    const slow = await receiver([204], Infinity);
    const timers = count('Timeout');
    const s = createWebhookSink({ urls: [slow.url] });
    s.deliver(event);
    s.deliver(event);
    for (let i = 0; i < 100 && slow.hits === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(slow.hits).toBe(1);
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(500);
    expect(s.stats()).toMatchObject({ dropped: 2, delivered: 0 });
    s.deliver(event);
    expect(s.stats().dropped).toBe(3);
    await slow.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(count('Timeout')).toBeLessThanOrEqual(timers);
    expect(count('TCPSocketWrap')).toBe(0);
  });

  it('forwards health changes to sinks; the log sink writes one line per change', async () => {
    const hook = await receiver();
    const s = sink({ urls: [hook.url] });
    const lines: { level: string; obj: object }[] = [];
    const log = logSink({ info: (obj) => lines.push({ level: 'info', obj }), warn: (obj) => lines.push({ level: 'warn', obj }) });
    const state = new HealthState();
    const off = forwardChanges(state, [s, log], 'fra');
    const k = { pool: 'eu', origin: 'fra-1', monitor: 'chat' };
    const thresholds = { consecutiveUp: 1, consecutiveDown: 1 };
    state.record(k, { ok: true, rttMs: 4 }, thresholds, 1);
    state.record(k, { ok: false, rttMs: 4, reason: 'refused' }, thresholds, 2);
    off();
    state.record(k, { ok: true, rttMs: 4 }, thresholds, 3);
    await s.flush();
    expect((hook.bodies as HealthEvent[]).map((b) => `${b.pop} ${b.from}->${b.to} ${b.reason}`)).toEqual(['fra unknown->healthy ok', 'fra healthy->unhealthy refused']);
    expect(lines.map((l) => l.level)).toEqual(['info', 'warn']);
    expect(lines[1].obj).toMatchObject({ type: 'health', pool: 'eu', origin: 'fra-1', to: 'unhealthy' });
  });
});
