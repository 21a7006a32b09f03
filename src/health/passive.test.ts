import { describe, expect, it } from 'vitest';
import { OutlierDetector, ejectionTime, type OutlierOptions } from './passive.js';

function detector(origins: number, monitored = false, options: OutlierOptions = {}) {
  let t = 0;
  const d = new OutlierDetector({ now: () => t, ...options });
  d.setOrigins(Array.from({ length: origins }, (_, i) => ({ id: `p/o${i + 1}`, pool: 'p', monitored })));
  return {
    d,
    at: (ms: number) => (t = ms),
    fail: (id: string, n = 5, outcome: 'connect_failure' | 'server_error' = 'server_error') => {
      let last: ReturnType<typeof d.record> | undefined;
      for (let i = 0; i < n; i++) last = d.record(id, outcome);
      return last;
    },
  };
}

describe('passive outlier ejection', () => {
  it('ejects after 5 consecutive failures; a success resets the count', () => {
    const { d, fail } = detector(4);
    expect(fail('p/o1', 4)).toBeUndefined();
    d.record('p/o1', 'success');
    expect(fail('p/o1', 4)).toBeUndefined();
    expect(d.isEjected('p/o1')).toBe(false);
    const e = d.record('p/o1', 'connect_failure');
    expect(e).toEqual({ id: 'p/o1', pool: 'p', times: 1, at: 0, until: 30_000, outcome: 'connect_failure' });
    expect(d.isEjected('p/o1')).toBe(true);
    expect(d.isEjected('p/o2')).toBe(false);
  });

  it('without a monitor an origin returns when its time is up', () => {
    const { d, fail, at } = detector(2);
    fail('p/o1');
    expect(d.isEjected('p/o1', 29_999)).toBe(true);
    expect(d.isEjected('p/o1', 30_000)).toBe(false);
    at(30_000);
    // Back with a fresh count: four more failures do not eject it again.
    expect(fail('p/o1', 4)).toBeUndefined();
  });

  it('with a monitor it also waits for a healthy active check after its time is up', () => {
    const { d, fail } = detector(2, true);
    fail('p/o1');
    expect(d.activeCheck('p/o1', true, 10_000)).toBe(false); // too early
    expect(d.isEjected('p/o1', 40_000)).toBe(true); // time up, no check yet
    expect(d.activeCheck('p/o1', false, 41_000)).toBe(false); // the check failed
    expect(d.isEjected('p/o1', 42_000)).toBe(true);
    expect(d.activeCheck('p/o1', true, 43_000)).toBe(true);
    expect(d.isEjected('p/o1', 43_000)).toBe(false);
  });

  it('ejection time grows with each ejection, capped at maxEjectionTime', () => {
    expect([1, 2, 3, 10, 11].map((n) => ejectionTime(n, 30_000, 300_000))).toEqual([30_000, 60_000, 90_000, 300_000, 300_000]);
    const { d, fail, at } = detector(2, false, { decayTime: Number.POSITIVE_INFINITY });
    const untils: number[] = [];
    let t = 0;
    for (let i = 0; i < 12; i++) {
      at(t);
      const e = fail('p/o1')!;
      untils.push(e.until - t);
      t = e.until;
    }
    expect(untils).toEqual([30_000, 60_000, 90_000, 120_000, 150_000, 180_000, 210_000, 240_000, 270_000, 300_000, 300_000, 300_000]);
    expect(d.isEjected('p/o1', t - 1)).toBe(true);
  });

  it('forgives one past ejection per decayTime back in service', () => {
    const { fail, at } = detector(2, false, { decayTime: 100_000 });
    expect(fail('p/o1')!.times).toBe(1);
    at(30_000);
    expect(fail('p/o1')!.times).toBe(2); // back at 30 s, failed at once: 60 s
    at(90_000 + 250_000); // back at 90 s, then 250 s in service: two forgiven
    const e = fail('p/o1')!;
    expect(e.times).toBe(1);
    expect(e.until - e.at).toBe(30_000);
  });

  it('never ejects more than maxEjectionPercent of a pool at once (50% of 4 = 2)', () => {
    const { d, fail, at } = detector(4);
    expect(fail('p/o1')).toBeDefined();
    expect(fail('p/o2')).toBeDefined();
    expect(fail('p/o3')).toBeUndefined();
    expect(d.ejected().map((e) => e.id)).toEqual(['p/o1', 'p/o2']);
    // The count stays at the threshold: once a slot frees, the next failure ejects.
    at(30_000);
    expect(d.isEjected('p/o1')).toBe(false);
    expect(fail('p/o3', 1)).toMatchObject({ id: 'p/o3', times: 1 });
  });

  it('rounds the cap down: 50% of 3 is 1, and a pool of one is never ejected', () => {
    const three = detector(3);
    expect(three.fail('p/o1')).toBeDefined();
    expect(three.fail('p/o2')).toBeUndefined();
    const one = detector(1);
    expect(one.fail('p/o1', 20)).toBeUndefined();
    const all = detector(1, false, { maxEjectionPercent: 100 });
    expect(all.fail('p/o1')).toBeDefined();
  });

  it('counts the cap per pool', () => {
    const d = new OutlierDetector({ now: () => 0 });
    d.setOrigins([
      { id: 'a/1', pool: 'a', monitored: false },
      { id: 'a/2', pool: 'a', monitored: false },
      { id: 'b/1', pool: 'b', monitored: false },
      { id: 'b/2', pool: 'b', monitored: false },
    ]);
    for (let i = 0; i < 5; i++) {
      d.record('a/1', 'server_error');
      d.record('b/1', 'server_error');
    }
    expect(d.isEjected('a/1') && d.isEjected('b/1')).toBe(true);
  });

  it('ignores outcomes while ejected, unknown ids, and everything when disabled', () => {
    const { d, fail } = detector(4);
    fail('p/o1');
    expect(fail('p/o1', 10)).toBeUndefined();
    expect(d.record('p/nope', 'server_error')).toBeUndefined();
    const off = detector(4, false, { enabled: false });
    expect(off.fail('p/o1', 10)).toBeUndefined();
    expect(off.d.isEjected('p/o1')).toBe(false);
  });

  it('setOrigins keeps state of origins that stay, drops the rest', () => {
    const { d, fail } = detector(4);
    fail('p/o1');
    d.setOrigins([
      { id: 'p/o1', pool: 'p', monitored: false },
      { id: 'p/o2', pool: 'p', monitored: false },
    ]);
    expect(d.isEjected('p/o1')).toBe(true);
    d.setOrigins([{ id: 'p/o2', pool: 'p', monitored: false }]);
    d.setOrigins([
      { id: 'p/o1', pool: 'p', monitored: false },
      { id: 'p/o2', pool: 'p', monitored: false },
    ]);
    expect(d.isEjected('p/o1')).toBe(false);
  });
});

describe('recovered', () => {
  it('returns an ejected origin at once when the monitor saw it go down and come back', async () => {
    const { OutlierDetector } = await import('./passive.js');
    let t = 1_000;
    const d = new OutlierDetector({ consecutiveFailures: 2, baseEjectionTime: 30_000, now: () => t });
    d.setOrigins([
      { id: 'p/a', pool: 'p', monitored: true },
      { id: 'p/b', pool: 'p', monitored: true },
    ]);
    d.record('p/a', 'connect_failure');
    d.record('p/a', 'connect_failure');
    expect(d.isEjected('p/a')).toBe(true);
    t += 1_000;
    expect(d.activeCheck('p/a', true)).toBe(false); // a plain healthy check waits for the timer
    expect(d.recovered('p/a')).toBe(true);
    expect(d.isEjected('p/a')).toBe(false);
    expect(d.recovered('p/b')).toBe(false);
  });
});
