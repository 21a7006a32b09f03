import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { monitorSettings } from '../../test/support/monitor-settings.js';
import type { HealthChange } from './health-state.js';
import { OutlierDetector } from './passive.js';
import { attemptOnce, createHealthChecker, firstDelay, nextDelay, type HealthChecker, type HealthTarget } from './scheduler.js';
import type { MonitorSettings, Probe, ProbeResult, ProbeTarget } from './types.js';

const monitor = (s: Partial<MonitorSettings> = {}): MonitorSettings => monitorSettings({ interval: 20, timeout: 200, ...s });
const t = (pool: string, origin: string, opts: { monitor?: string; settings?: Partial<MonitorSettings>; enabled?: boolean; address?: string } = {}): HealthTarget => ({
  pool,
  origin,
  enabled: opts.enabled ?? true,
  monitor: opts.monitor === undefined && !opts.settings ? undefined : { name: opts.monitor ?? 'm', settings: monitor(opts.settings) },
  probe: { address: new URL(opts.address ?? `http://${origin}.test:80`) },
});

/** A probe whose answers are scripted per origin host; the last answer repeats. */
function scripted(script: Record<string, (ProbeResult | (() => Promise<ProbeResult>))[]>) {
  const calls: Record<string, number> = {};
  let inflight = 0;
  let maxInflight = 0;
  const probe: Probe = {
    async check(target: ProbeTarget) {
      const host = target.address.hostname.replace(/\.test$/, '');
      const n = (calls[host] = (calls[host] ?? 0) + 1);
      const list = script[host] ?? [{ ok: true, rttMs: 1 }];
      const step = list[Math.min(n - 1, list.length - 1)];
      inflight++;
      maxInflight = Math.max(maxInflight, inflight);
      try {
        return typeof step === 'function' ? await step() : step;
      } finally {
        inflight--;
      }
    },
  };
  return { probeFor: () => probe, calls, maxInflight: () => maxInflight };
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ok = (rttMs = 1): ProbeResult => ({ ok: true, rttMs });
const fail = (reason = 'status 503'): ProbeResult => ({ ok: false, rttMs: 1, reason });

let checkers: HealthChecker[] = [];
afterEach(async () => {
  await Promise.all(checkers.map((c) => c.stop()));
  checkers = [];
});
function checker(...args: Parameters<typeof createHealthChecker>) {
  const c = createHealthChecker(...args);
  checkers.push(c);
  return c;
}

describe('jitter', () => {
  it('keeps intervals within ±10% and the first check within the first tenth', () => {
    expect(nextDelay(1000, 0.1, () => 0)).toBe(900);
    expect(nextDelay(1000, 0.1, () => 0.5)).toBe(1000);
    expect(nextDelay(1000, 0.1, () => 0.999999)).toBeCloseTo(1100, 2);
    expect(firstDelay(1000, 0.1, () => 0.999999)).toBeLessThan(100);
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < 10_000; i++) {
      const d = nextDelay(60_000, 0.1, Math.random);
      min = Math.min(min, d);
      max = Math.max(max, d);
    }
    expect(min).toBeGreaterThanOrEqual(54_000);
    expect(max).toBeLessThanOrEqual(66_000);
    // Spread, not a constant: both ends of the window are reached.
    expect(min).toBeLessThan(55_000);
    expect(max).toBeGreaterThan(65_000);
  });
});

describe('health checker', () => {
  it('starts unknown; unknown takes traffic unless unknownIsHealthy is false', async () => {
    const s = scripted({ a: [fail()] });
    const c = checker({ probeFor: s.probeFor });
    c.setTargets([t('p', 'a', { settings: { consecutiveDown: 3 } })]);
    expect(c.state('p', 'a')).toMatchObject({ status: 'unknown', checks: 0 });
    expect(c.isHealthy('p', 'a')).toBe(true);
    const strict = checker({ probeFor: s.probeFor, unknownIsHealthy: false });
    strict.setTargets([t('p', 'a', { settings: {} })]);
    expect(strict.isHealthy('p', 'a')).toBe(false);
    expect(strict.poolHealthy('p', 1)).toBe(false);
  });

  it('applies consecutiveDown/Up thresholds and emits changes', async () => {
    const s = scripted({ a: [ok(5), fail('timeout'), fail('timeout'), ok(5), ok(5)] });
    const c = checker({ probeFor: s.probeFor });
    const changes: HealthChange[] = [];
    c.onChange((ch) => changes.push(ch));
    c.setTargets([t('p', 'a', { settings: { consecutiveUp: 2, consecutiveDown: 2 } })]);
    c.start();
    await waitFor(() => (c.state('p', 'a')?.checks ?? 0) >= 7);
    // ok (1 of 2 up: still unknown), fail, fail (down), ok, ok (up), then ok: no more changes.
    expect(changes.map((ch) => `${ch.from}->${ch.to}:${ch.reason}`)).toEqual(['unknown->unhealthy:timeout', 'unhealthy->healthy:ok']);
    expect(changes[0]).toMatchObject({ pool: 'p', origin: 'a', monitor: 'm', rttMs: 1 });
    expect(changes[1]).toMatchObject({ rttMs: 5 });
  });

  it('re-tries a failed probe at once `retries` times before it counts as one failure', async () => {
    const s = scripted({ a: [fail(), fail(), ok()], b: [fail(), fail(), ok()] });
    const c = checker({ probeFor: s.probeFor, random: () => 0 });
    c.setTargets([t('p', 'a', { settings: { retries: 2, interval: 10_000 } }), t('p', 'b', { settings: { retries: 1, interval: 10_000 } })]);
    c.start();
    await waitFor(() => (c.state('p', 'a')?.checks ?? 0) === 1 && (c.state('p', 'b')?.checks ?? 0) === 1);
    expect(s.calls).toEqual({ a: 3, b: 2 });
    expect(c.state('p', 'a')).toMatchObject({ status: 'healthy', failures: 0 });
    expect(c.state('p', 'b')).toMatchObject({ status: 'unhealthy', failures: 1, lastError: 'status 503' });
  });

  it('never runs two checks of one target at once, however slow the probe', async () => {
    const s = scripted({
      a: [
        async () => {
          await sleep(60);
          return ok();
        },
      ],
    });
    const c = checker({ probeFor: s.probeFor });
    c.setTargets([t('p', 'a', { settings: { interval: 5 } })]);
    c.start();
    await waitFor(() => (s.calls.a ?? 0) >= 3);
    expect(s.maxInflight()).toBe(1);
  });

  it('bounds each attempt by the timeout even when a probe ignores its signal', async () => {
    const never: Probe = { check: () => new Promise(() => {}) };
    const started = Date.now();
    const r = await attemptOnce(never, { address: new URL('http://x.test') }, 50, new AbortController().signal);
    expect(r).toMatchObject({ ok: false, reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(500);
    const parent = new AbortController();
    const pending = attemptOnce(never, { address: new URL('http://x.test') }, 5000, parent.signal);
    parent.abort();
    expect(await pending).toMatchObject({ ok: false, reason: 'aborted' });
    const throws: Probe = {
      check: () => {
        throw new Error('boom');
      },
    };
    expect(await attemptOnce(throws, { address: new URL('http://x.test') }, 50, new AbortController().signal)).toMatchObject({ ok: false, reason: 'boom' });
  });

  it('setTargets keeps health of targets that stay, forgets removed ones, and starts new keys unknown', async () => {
    const s = scripted({ a: [ok(7)], b: [fail()] });
    const c = checker({ probeFor: s.probeFor, random: () => 0 });
    const a = t('p', 'a', { settings: { interval: 10_000 } });
    c.setTargets([a]);
    c.start();
    await waitFor(() => c.state('p', 'a')?.status === 'healthy');
    const before = c.state('p', 'a');

    c.setTargets([a, t('p', 'b', { settings: { interval: 10_000 } })]);
    expect(c.state('p', 'a')).toBe(before);
    expect(c.state('p', 'b')?.status).toBe('unknown');
    await waitFor(() => c.state('p', 'b')?.status === 'unhealthy');
    expect(s.calls.a).toBe(1); // not re-checked: same settings, same timer

    // Same monitor, new settings: health kept, checked again soon.
    c.setTargets([t('p', 'a', { settings: { interval: 10_000, path: '/deep' } })]);
    expect(c.state('p', 'a')?.status).toBe('healthy');
    expect(c.state('p', 'b')).toBeUndefined();
    await waitFor(() => s.calls.a === 2);
    expect(c.state('p', 'a')?.checks).toBe(2);

    // Another monitor is another key: no verdict carried over.
    c.setTargets([t('p', 'a', { monitor: 'other', settings: { interval: 10_000 } })]);
    expect(c.state('p', 'a')).toMatchObject({ monitor: 'other', status: 'unknown', checks: 0 });
    expect(c.list().map((h) => `${h.pool}/${h.origin}/${h.monitor}`)).toEqual(['p/a/other']);
  });

  it('answers pool questions: no monitor counts enabled origins, RTT is the mean EWMA of healthy ones', async () => {
    const s = scripted({ a: [ok(10)], b: [ok(30)], c: [fail()] });
    const c = checker({ probeFor: s.probeFor });
    c.setTargets([t('mon', 'a', { settings: {} }), t('mon', 'b', { settings: {} }), t('mon', 'c', { settings: {} }), t('plain', 'x'), t('plain', 'y'), t('plain', 'z', { enabled: false })]);
    expect(c.poolRtt('mon')).toBeUndefined();
    c.start();
    await waitFor(() => ['a', 'b', 'c'].every((o) => (c.state('mon', o)?.checks ?? 0) > 0));
    expect(c.poolRtt('mon')).toBe(20);
    expect(c.poolHealthy('mon', 2)).toBe(true);
    expect(c.poolHealthy('mon', 3)).toBe(false);
    expect(c.isHealthy('mon', 'c')).toBe(false);
    expect(c.poolHealthy('plain', 2)).toBe(true);
    expect(c.poolHealthy('plain', 3)).toBe(false);
    expect(c.isHealthy('plain', 'z')).toBe(false);
    expect(c.state('plain', 'x')).toBeUndefined();
    expect(c.poolRtt('plain')).toBeUndefined();
    expect(c.isHealthy('nowhere', 'q')).toBe(true);
    expect(c.poolHealthy('nowhere', 1)).toBe(true);
  });

  it('consults passive ejection and returns an ejected origin on its next healthy check', async () => {
    let now = 1_000_000;
    const outliers = new OutlierDetector({ now: () => now });
    const s = scripted({ a: [ok(10)], b: [ok(30)] });
    const c = checker({ probeFor: s.probeFor, outliers, now: () => now });
    c.setTargets([t('p', 'a', { settings: {} }), t('p', 'b', { settings: {} }), t('p', 'd')]);
    c.start();
    await waitFor(() => c.poolRtt('p') === 20);
    for (let i = 0; i < 5; i++) outliers.record('p/a', 'connect_failure');
    expect(c.isHealthy('p', 'a')).toBe(false);
    expect(c.poolRtt('p')).toBe(30);
    expect(c.poolHealthy('p', 3)).toBe(false);
    now += 30_000;
    expect(c.isHealthy('p', 'a')).toBe(false); // time is up, but it has a monitor: wait for a check
    await waitFor(() => c.isHealthy('p', 'a'));
    // An origin without a monitor returns on time alone.
    for (let i = 0; i < 5; i++) outliers.record('p/d', 'server_error');
    expect(c.isHealthy('p', 'd')).toBe(false);
    now += 30_000;
    expect(c.isHealthy('p', 'd')).toBe(true);
  });
});

describe('stop', () => {
  it('aborts in-flight checks and leaves no socket or timer behind', async () => {
    const open = new Set<net.Socket>();
    let seen = 0;
    const hole = net.createServer((sock) => {
      seen++;
      open.add(sock);
      sock.resume();
      sock.on('close', () => open.delete(sock));
    });
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    const port = (hole.address() as AddressInfo).port;
    const c = createHealthChecker();
    try {
      const count = (kind: string) => process.getActiveResourcesInfo().filter((k) => k === kind).length;
      const timers = count('Timeout');
      const sockets = count('TCPSocketWrap');
      const targets = ['a', 'b', 'c'].map((o) => t('p', o, { address: `http://127.0.0.1:${port}`, settings: { interval: 10, timeout: 60_000, retries: 2 } }));
      targets.push(t('p', 'ws', { address: `http://127.0.0.1:${port}`, settings: { type: 'websocket', interval: 10, timeout: 60_000 } }));
      c.setTargets(targets);
      c.start();
      await waitFor(() => open.size === 4);
      const started = Date.now();
      await c.stop();
      expect(Date.now() - started).toBeLessThan(500);
      await waitFor(() => open.size === 0);
      // Nothing is left to start another check: no new connection arrives.
      await sleep(100);
      expect(seen).toBe(4);
      expect(count('Timeout')).toBeLessThanOrEqual(timers);
      expect(count('TCPSocketWrap')).toBeLessThanOrEqual(sockets);
      expect(c.state('p', 'a')?.checks).toBe(0); // an aborted check is no verdict
    } finally {
      await c.stop();
      for (const sock of open) sock.destroy();
      await new Promise<void>((r) => hole.close(() => r()));
    }
  });

  it('runs no check after stop, and start again resumes', async () => {
    const s = scripted({});
    const c = checker({ probeFor: s.probeFor });
    c.setTargets([t('p', 'a', { settings: { interval: 5 } })]);
    c.start();
    await waitFor(() => (s.calls.a ?? 0) >= 2);
    await c.stop();
    const n = s.calls.a;
    await sleep(50);
    expect(s.calls.a).toBe(n);
    c.start();
    await waitFor(() => s.calls.a > n);
  });
});
