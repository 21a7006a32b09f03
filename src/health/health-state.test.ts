import { describe, expect, it } from 'vitest';
import { HealthState, MemoryHealthStore, applyCheck, healthKey, initialHealth, type HealthChange, type OriginHealth } from './health-state.js';
import { expectedCodes } from './expected-codes.js';

const key = { pool: 'eu', origin: 'fra-1', monitor: 'chat' };
const ok = (rttMs = 10) => ({ ok: true, rttMs });
const fail = (reason = 'status 503') => ({ ok: false, rttMs: 3, reason });

function run(results: { ok: boolean; rttMs: number; reason?: string }[], up: number, down: number) {
  let h: OriginHealth = initialHealth(key);
  const statuses: string[] = [];
  const changes: HealthChange[] = [];
  results.forEach((r, i) => {
    const { next, change } = applyCheck(h, r, { consecutiveUp: up, consecutiveDown: down }, 1000 + i);
    h = next;
    statuses.push(h.status);
    if (change) changes.push(change);
  });
  return { h, statuses, changes };
}

describe('applyCheck', () => {
  it('starts unknown, with nothing measured', () => {
    expect(initialHealth(key)).toEqual({ ...key, status: 'unknown', successStreak: 0, failureStreak: 0, checks: 0, failures: 0 });
  });

  it('with 1/1 the first verdict decides', () => {
    expect(run([ok()], 1, 1).statuses).toEqual(['healthy']);
    expect(run([fail()], 1, 1).statuses).toEqual(['unhealthy']);
  });

  it('stays unknown until a threshold is reached from unknown too', () => {
    expect(run([ok(), ok(), ok()], 3, 2).statuses).toEqual(['unknown', 'unknown', 'healthy']);
    expect(run([fail(), ok(), fail(), fail()], 3, 2).statuses).toEqual(['unknown', 'unknown', 'unknown', 'unhealthy']);
  });

  it('needs consecutiveDown failures in a row to go down and consecutiveUp successes to come back', () => {
    const { statuses, changes } = run([ok(), fail(), ok(), fail(), fail(), fail(), ok(), ok(), fail(), ok(), ok()], 2, 3);
    expect(statuses).toEqual(['unknown', 'unknown', 'unknown', 'unknown', 'unknown', 'unhealthy', 'unhealthy', 'healthy', 'healthy', 'healthy', 'healthy']);
    expect(changes.map((c) => [c.from, c.to, c.reason, c.at])).toEqual([
      ['unknown', 'unhealthy', 'status 503', 1005],
      ['unhealthy', 'healthy', 'ok', 1007],
    ]);
    expect(changes[0]).toMatchObject({ ...key, rttMs: 3 });
  });

  it('keeps last RTT and an EWMA of passed checks only, the last error, times and counts', () => {
    const { h } = run([ok(100), ok(200), fail('timeout'), ok(100)], 1, 1);
    expect(h.lastRttMs).toBe(100);
    // 100 → 0.3·200 + 0.7·100 = 130 → (failure: unchanged) → 0.3·100 + 0.7·130 = 121
    expect(h.rttEwmaMs).toBeCloseTo(121, 6);
    expect(h).toMatchObject({ lastError: 'timeout', lastCheckAt: 1003, lastChangeAt: 1003, checks: 4, failures: 1, successStreak: 1, failureStreak: 0 });
  });
});

describe('HealthState', () => {
  it('keys by pool, origin and monitor, not by address', () => {
    const s = new HealthState();
    const t = { consecutiveUp: 1, consecutiveDown: 1 };
    s.record(key, ok(), t, 1);
    s.record({ ...key, pool: 'eu-strict' }, fail(), t, 1);
    s.record({ ...key, monitor: 'deep' }, fail(), t, 1);
    expect(s.get(key)?.status).toBe('healthy');
    expect(s.get({ ...key, pool: 'eu-strict' })?.status).toBe('unhealthy');
    expect(s.get({ ...key, monitor: 'deep' })?.status).toBe('unhealthy');
    expect(healthKey({ pool: 'a","b', origin: 'c', monitor: 'd' })).not.toBe(healthKey({ pool: 'a', origin: 'b","c', monitor: 'd' }));
  });

  it('tells listeners of changes only; a throwing listener reaches onError, not the caller', () => {
    const errors: unknown[] = [];
    const s = new HealthState(new MemoryHealthStore(), 0.3, (e) => errors.push(e));
    const seen: string[] = [];
    s.onChange(() => {
      throw new Error('bad listener');
    });
    const off = s.onChange((c) => seen.push(`${c.from}->${c.to}`));
    const t = { consecutiveUp: 1, consecutiveDown: 1 };
    s.record(key, ok(), t, 1);
    s.record(key, ok(), t, 2);
    s.record(key, fail(), t, 3);
    off();
    s.record(key, ok(), t, 4);
    expect(seen).toEqual(['unknown->healthy', 'healthy->unhealthy']);
    expect(errors).toHaveLength(3);
  });

  it('ensure adds unknown once and keeps what is there', () => {
    const s = new HealthState();
    expect(s.ensure(key).status).toBe('unknown');
    s.record(key, ok(), { consecutiveUp: 1, consecutiveDown: 1 }, 1);
    expect(s.ensure(key).status).toBe('healthy');
  });
});

describe('expectedCodes', () => {
  it('reads classes and lists', () => {
    const m = expectedCodes(' 2xx , 304');
    expect([200, 204, 299, 304, 301, 404, 500].map(m)).toEqual([true, true, true, true, false, false, false]);
    expect([200, 301, 302].map(expectedCodes('200,301'))).toEqual([true, true, false]);
    expect(() => expectedCodes('2xx,abc')).toThrow();
    expect(() => expectedCodes('')).toThrow();
  });
});
