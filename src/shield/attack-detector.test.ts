import { describe, expect, it } from 'vitest';
import { AttackDetector, type AttackChange, type DetectorOptions } from './attack-detector.js';

const T0 = 1_750_000_000_000;
/** The config defaults: factor 4, window 10s, minRate 100, mitigatedShare 0.5, cooldown 5m. */
const DEFAULTS: DetectorOptions = { factor: 4, windowMs: 10_000, minRate: 100, mitigatedShare: 0.5, cooldownMs: 300_000 };

/** A detector on a fake clock, fed one sample a second like the supervisor does. */
function node(options: Partial<DetectorOptions> = {}) {
  const d = new AttackDetector({ ...DEFAULTS, ...options });
  const n = {
    d,
    t: T0,
    /** `seconds` samples of `rate` req/s (a number, or a function of the second's index), `share` of them mitigated; the changes returned. */
    run(seconds: number, rate: number | ((i: number) => number), share = 0): AttackChange[] {
      const changes: AttackChange[] = [];
      for (let i = 0; i < seconds; i++) {
        n.t += 1000;
        const r = typeof rate === 'number' ? rate : rate(i);
        const c = d.sample(n.t, r, Math.round(r * share));
        if (c) changes.push(c);
      }
      return changes;
    },
    /** One sample `ms` after the previous one, carrying `requests` (default: `rate` × the span). */
    at(ms: number, requests: number, mitigated = 0) {
      n.t += ms;
      return d.sample(n.t, requests, mitigated);
    },
  };
  return n;
}

/** A node that has learned 15 minutes of steady `rate` req/s. */
function warmed(rate = 200, options: Partial<DetectorOptions> = {}) {
  const n = node(options);
  expect(n.run(900, rate)).toEqual([]);
  expect(n.d.baseline).toBeCloseTo(rate, 6);
  return n;
}

/** Deterministic noise in [0, 1) (a 32-bit LCG). */
function noise(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}

describe('AttackDetector: turning on', () => {
  it('never triggers on calm traffic: noise, a daily ramp, a node coming into rotation', () => {
    const n = warmed(200);
    const rnd = noise(7);
    expect(n.run(7200, () => 100 + rnd() * 500)).toEqual([]); // 100–600/s around a 350 mean
    expect(n.run(3600, (i) => 350 + (2500 * i) / 3600)).toEqual([]); // morning: ×8 in an hour
    expect(n.d.active).toBe(false);

    const fresh = node();
    expect(fresh.d.baseline).toBeUndefined();
    expect(fresh.run(5, 0)).toEqual([]); // idle, then health checks pass and traffic arrives
    expect(fresh.run(600, 2000)).toEqual([]);
    expect(fresh.d.baseline).toBeGreaterThan(1900);
    expect(node().run(600, 5000)).toEqual([]); // a busy node restarted
  });

  it('turns on exactly at the sample that completes the window, not before', () => {
    const n = warmed(200);
    expect(n.run(9, 2400)).toEqual([]);
    expect(n.d.active).toBe(false);
    const [on] = n.run(1, 2400);
    expect(on).toEqual({ active: true, at: n.t, reason: 'rate 2,400/s > 4 × baseline 200/s for 10 s', rate: 2400, baseline: expect.closeTo(200, 6) });
    expect(n.d.active).toBe(true);
    expect(n.run(60, 2400)).toEqual([]); // no repeats while on
  });

  it('does not trigger on surges shorter than the window, and a calm second restarts the count', () => {
    const n = warmed(200);
    for (let i = 0; i < 20; i++) expect([...n.run(9, 2400), ...n.run(1, 200)]).toEqual([]);
    expect(n.d.baseline).toBeCloseTo(200, 6); // the surges were not learned
    expect(n.run(9, 801)).toEqual([]);
    expect(n.run(1, 800)).toEqual([]); // the threshold itself is not over it
  });

  it('never turns on below minRate, whatever the factor or the share', () => {
    const n = warmed(5);
    expect(n.run(600, 99)).toEqual([]); // ×20 of a quiet site
    expect(n.run(600, 99, 1)).toEqual([]); // everything mitigated
    expect(n.run(600, 100, 0.9)).not.toEqual([]); // at minRate the share counts
    const m = warmed(5);
    expect(m.run(9, 101)).toEqual([]);
    expect(m.run(1, 101)).toMatchObject([{ active: true, reason: 'rate 101/s > minRate 100/s (baseline 5/s) for 10 s' }]);
  });

  it('turns on when the mitigated share stays over its threshold for the window', () => {
    const n = warmed(200);
    expect(n.run(60, 300, 0.5)).toEqual([]); // exactly the share is not over it
    expect(n.run(9, 300, 0.6)).toEqual([]);
    expect(n.run(1, 300, 0.6)).toEqual([{ active: true, at: n.t, reason: '60% of 300/s mitigated > 50% for 10 s', rate: 300, baseline: n.d.baseline }]);
  });

  it('turns on at once with a zero window, and takes the first minute as warm-up', () => {
    expect(warmed(200, { windowMs: 0 }).run(1, 801)).toHaveLength(1);
    expect(node({ windowMs: 0 }).run(60, 5000)).toEqual([]); // the first sample is never a surge
    // A flood right after start is still caught: 40 s of 150/s, then 10,000/s.
    const n = node();
    expect(n.run(40, 150)).toEqual([]);
    expect(n.run(9, 10_000)).toEqual([]);
    expect(n.run(1, 10_000)).toMatchObject([{ active: true }]);
  });
});

describe('AttackDetector: turning off', () => {
  function underAttack() {
    const n = warmed(200);
    expect(n.run(10, 2400)).toHaveLength(1);
    return n;
  }

  it('stays on through the cooldown even when calm at once, and goes off when it completes', () => {
    const n = underAttack();
    const onAt = n.t;
    expect(n.run(299, 200)).toEqual([]);
    expect(n.d.active).toBe(true);
    const [off] = n.run(1, 200);
    expect(off).toEqual({ active: false, at: onAt + 300_000, reason: 'calm for 5 min: rate 200/s ≤ 800/s, 0% mitigated', rate: 200, baseline: expect.closeTo(200, 6) });
  });

  it('stays on while the attack lasts, and restarts the cooldown when a surge resumes during it', () => {
    const n = underAttack();
    expect(n.run(3600, 2400)).toEqual([]);
    expect(n.run(200, 200)).toEqual([]);
    expect(n.run(1, 2400)).toEqual([]); // one hot second
    expect(n.run(299, 200)).toEqual([]);
    expect(n.run(1, 200, 0.6)).toEqual([]); // a mitigated-share second also counts as hot
    expect(n.run(299, 200)).toEqual([]);
    expect(n.run(1, 200)).toMatchObject([{ active: false }]);
  });

  it('does not learn the attack: after a long attack and calm, the same surge triggers again', () => {
    const n = underAttack();
    expect(n.run(3600, 2400)).toEqual([]);
    expect(n.d.baseline).toBeCloseTo(200, 6);
    expect(n.run(600, 200)).toMatchObject([{ active: false }]);
    expect(n.run(9, 2400)).toEqual([]);
    expect(n.run(1, 2400)).toMatchObject([{ active: true, reason: 'rate 2,400/s > 4 × baseline 200/s for 10 s' }]);
    expect(n.d.baseline).toBeCloseTo(200, 6);
  });
});

describe('AttackDetector: sample timing', () => {
  it('measures the window in time covered, whatever the intervals', () => {
    const n = warmed(200);
    expect(n.at(1000, 2400)).toBeUndefined();
    expect(n.at(2000, 4800)).toBeUndefined(); // a late tick carrying two seconds
    expect(n.at(500, 1200)).toBeUndefined();
    expect(n.at(6000, 14_400)).toBeUndefined(); // 9.5 s covered
    expect(n.d.rate).toBe(2400);
    expect(n.at(500, 1200)).toMatchObject({ active: true, reason: 'rate 2,400/s > 4 × baseline 200/s for 10 s' });
  });

  it('spreads a late tick’s counts over its interval, so a gap is not a spike', () => {
    const n = warmed(200);
    expect(n.at(5000, 1000)).toBeUndefined();
    expect(n.d.rate).toBe(200);
    expect(n.run(9, 2400)).toEqual([]);
    expect(n.at(30_000, 6000)).toBeUndefined(); // 30 s at 200/s on average: the run is broken
    expect(n.run(9, 2400)).toEqual([]);
  });

  it('counts a long stall as at most a minute, for the cooldown and for the baseline', () => {
    const n = warmed(200);
    expect(n.run(10, 2400)).toHaveLength(1);
    expect(n.at(30 * 60_000, 0)).toBeUndefined(); // 30 min without a sample, then nothing counted
    expect(n.run(239, 200)).toEqual([]); // 60 + 239 s of calm
    expect(n.run(1, 200)).toMatchObject([{ active: false, reason: 'calm for 5 min: rate 200/s ≤ 800/s, 0% mitigated' }]);

    const [slept, idle] = [warmed(200), warmed(200)];
    slept.at(60 * 60_000, 0); // an hour without a sample (the host slept) weighs one minute of nothing
    idle.at(60_000, 0);
    expect(slept.d.baseline).toBeCloseTo(idle.d.baseline!, 9);
    expect(slept.d.baseline).toBeGreaterThan(150);
  });

  it('treats a clock that stands still or steps back as a one-second interval', () => {
    const n = warmed(200);
    expect(n.at(-5000, 2400)).toBeUndefined();
    expect(n.d.rate).toBe(2400);
    expect(n.at(0, 2400)).toBeUndefined();
    expect(n.run(7, 2400)).toEqual([]);
    expect(n.run(1, 2400)).toMatchObject([{ active: true, reason: 'rate 2,400/s > 4 × baseline 200/s for 10 s' }]);
  });

  it('rejects counts that are not non-negative numbers', () => {
    const d = new AttackDetector(DEFAULTS);
    expect(() => d.sample(T0, -1, 0)).toThrow(RangeError);
    expect(() => d.sample(T0, Number.NaN, 0)).toThrow(RangeError);
    expect(() => d.sample(T0, 1, Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => d.sample(Number.NaN, 1, 0)).toThrow(RangeError);
  });
});

describe('AttackDetector: configuration', () => {
  it('keeps the learned baseline across a reconfigure and applies the new thresholds', () => {
    const n = warmed(200);
    n.d.reconfigure({ ...DEFAULTS, factor: 3, windowMs: 5000, cooldownMs: 60_000 });
    expect(n.d.baseline).toBeCloseTo(200, 6);
    expect(n.d.threshold).toBeCloseTo(600, 6);
    expect(n.run(4, 700)).toEqual([]);
    expect(n.run(1, 700)).toMatchObject([{ active: true, reason: 'rate 700/s > 3 × baseline 200/s for 5 s' }]);
    expect(n.run(59, 200)).toEqual([]);
    expect(n.run(1, 200)).toMatchObject([{ active: false, reason: 'calm for 1 min: rate 200/s ≤ 600/s, 0% mitigated' }]);
  });

  it('rejects invalid options', () => {
    expect(() => new AttackDetector({ ...DEFAULTS, factor: 0.5 })).toThrow(/factor/);
    expect(() => new AttackDetector({ ...DEFAULTS, minRate: 0 })).toThrow(/minRate/);
    expect(() => new AttackDetector({ ...DEFAULTS, mitigatedShare: 1.5 })).toThrow(/mitigatedShare/);
    expect(() => new AttackDetector({ ...DEFAULTS, windowMs: -1 })).toThrow(/windowMs/);
    const d = new AttackDetector(DEFAULTS);
    expect(() => d.reconfigure({ ...DEFAULTS, cooldownMs: Number.NaN })).toThrow(/cooldownMs/);
  });
});

describe('AttackDetector: override by hand', () => {
  it('forces the mode on and keeps the baseline frozen, then returns to what detection sees', () => {
    const n = warmed(200);
    expect(n.d.override(n.t, true)).toEqual({ active: true, at: n.t, reason: 'turned on by hand', rate: 200, baseline: n.d.baseline });
    expect(n.d.forced).toBe(true);
    expect(n.d.override(n.t, true)).toBeUndefined(); // no flip
    expect(n.run(600, 600)).toEqual([]);
    expect(n.d.baseline).toBeCloseTo(200, 6);
    expect(n.d.override(n.t, undefined)).toMatchObject({ active: false, reason: 'back to automatic, no attack detected: rate 600/s ≤ 800/s, 0% mitigated' });
    expect(n.d.forced).toBeUndefined();
  });

  it('forced off, detection runs on underneath and the current traffic is learned as normal', () => {
    const n = warmed(200);
    expect(n.run(10, 2400)).toHaveLength(1);
    expect(n.d.override(n.t, false)).toMatchObject({ active: false, reason: 'turned off by hand' });
    expect(n.run(5, 2400)).toEqual([]);
    expect(n.d.override(n.t, undefined)).toMatchObject({ active: true, reason: expect.stringMatching(/^back to automatic, attack still detected: rate 2,400\/s, threshold 8\d\d\/s, 0% mitigated$/) });
    // A lasting jump the operator knows is real: forced off, the baseline catches up, detection agrees.
    n.d.override(n.t, false);
    expect(n.run(3600, 2400)).toEqual([]);
    expect(n.d.baseline).toBeGreaterThan(2300);
    expect(n.d.override(n.t, undefined)).toBeUndefined();
    expect(n.d.active).toBe(false);
    expect(n.run(600, 2400)).toEqual([]);
  });
});
