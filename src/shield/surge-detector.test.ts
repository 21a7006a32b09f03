import { describe, expect, it } from 'vitest';
import { AttackDetector, type DetectorOptions } from './surge-detector.js';

const OPTS: DetectorOptions = { factor: 4, windowMs: 10_000, minRate: 100, mitigatedShare: 0.5, cooldownMs: 60_000 };

/** Feeds `seconds` samples of `rate` requests/s (and `mitigated`/s) from `t`; returns the changes and the next t. */
function run(d: AttackDetector, t: number, seconds: number, rate: number, mitigated = 0) {
  const changes = [];
  for (let i = 0; i < seconds; i++) {
    t += 1000;
    const c = d.sample(t, rate, mitigated);
    if (c) changes.push({ ...c, second: i + 1 });
  }
  return { changes, t };
}

describe('AttackDetector', () => {
  it('never turns on with calm traffic, and learns it as the baseline', () => {
    const d = new AttackDetector(OPTS);
    const r = run(d, 0, 600, 200);
    expect(r.changes).toEqual([]);
    expect(d.baseline).toBeCloseTo(200, 5);
  });

  it('turns on at the sample that completes the window of surge, not before', () => {
    const d = new AttackDetector(OPTS);
    let { t } = run(d, 0, 120, 200);
    const short = run(d, t, 9, 5000);
    expect(short.changes).toEqual([]);
    t = run(d, short.t, 5, 200).t; // the surge stopped: the window starts over
    const long = run(d, t, 12, 5000);
    expect(long.changes).toHaveLength(1);
    expect(long.changes[0]).toMatchObject({ active: true, second: 10 });
    expect(long.changes[0].reason).toMatch(/rate 5,000\/s > 4 × baseline 200\/s/);
  });

  it('never turns on below minRate, however steep the rise', () => {
    const d = new AttackDetector(OPTS);
    const { t } = run(d, 0, 60, 2);
    expect(run(d, t, 60, 99).changes).toEqual([]);
  });

  it('turns on when most requests fail the rules, even at a normal rate', () => {
    const d = new AttackDetector(OPTS);
    const { t } = run(d, 0, 60, 300);
    const r = run(d, t, 10, 300, 200);
    expect(r.changes).toHaveLength(1);
    expect(r.changes[0].reason).toMatch(/67% of 300 requests\/s mitigated/);
  });

  it('stays on through the cooldown, goes off after calm for the cooldown; a surge in it starts it over', () => {
    const d = new AttackDetector(OPTS);
    let { t } = run(d, 0, 60, 200);
    t = run(d, t, 10, 5000).t;
    expect(d.active).toBe(true);
    // Calm 30 s, surge 5 s, calm: off 60 s after the last surge sample.
    let r = run(d, t, 30, 200);
    expect(r.changes).toEqual([]);
    r = run(d, r.t, 5, 5000);
    expect(r.changes).toEqual([]);
    r = run(d, r.t, 59, 200);
    expect(r.changes).toEqual([]);
    r = run(d, r.t, 1, 200);
    expect(r.changes).toMatchObject([{ active: false }]);
  });

  it('does not learn the attack: a second identical surge after a long one triggers again', () => {
    const d = new AttackDetector(OPTS);
    let { t } = run(d, 0, 120, 200);
    t = run(d, t, 600, 5000).t; // ten minutes of attack
    expect(d.baseline).toBeCloseTo(200, 5);
    t = run(d, t, 61, 200).t;
    expect(d.active).toBe(false);
    expect(run(d, t, 10, 5000).changes).toMatchObject([{ active: true }]);
  });

  it('the first window only learns: a site that starts busy is not an attack', () => {
    const d = new AttackDetector(OPTS);
    expect(run(d, 0, 120, 3000).changes).toEqual([]);
  });

  it('reads counts over the real interval: a 5 s gap with 1000 requests is 200/s', () => {
    const d = new AttackDetector(OPTS);
    run(d, 0, 30, 200);
    d.sample(30_000 + 5000, 1000, 0);
    expect(d.rate).toBe(200);
  });

  it('keeps the baseline when reconfigured', () => {
    const d = new AttackDetector(OPTS);
    const { t } = run(d, 0, 60, 200);
    d.reconfigure({ ...OPTS, factor: 2, windowMs: 2000 });
    expect(d.baseline).toBeCloseTo(200, 5);
    expect(run(d, t, 2, 500).changes).toMatchObject([{ active: true }]);
  });
});
