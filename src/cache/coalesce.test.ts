import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Coalescer, type Joined, type Lead, type Wait } from './coalesce.js';

const options = { maxWaiters: 3, waitTimeoutMs: 1_000, hitForMissMs: 5_000 };

function lead(j: Joined): Lead {
  if (j.role !== 'lead') throw new Error(`expected lead, got ${j.role}`);
  return j;
}
function wait(j: Joined): Wait {
  if (j.role !== 'wait') throw new Error(`expected wait, got ${j.role}`);
  return j;
}

describe('Coalescer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets the first caller lead and wakes the waiters with its outcome', async () => {
    const c = new Coalescer(options);
    const leader = lead(c.join('k'));
    const w1 = wait(c.join('k'));
    const w2 = wait(c.join('k'));
    expect(c.inFlight()).toBe(1);
    expect(c.waiting()).toBe(2);
    leader.done('stored');
    await expect(w1.result).resolves.toBe('stored');
    await expect(w2.result).resolves.toBe('stored');
    expect(c.inFlight()).toBe(0);
    expect(c.waiting()).toBe(0);
    // The next miss leads again.
    expect(c.join('k').role).toBe('lead');
  });

  it('settled: resolves at once with no flight, when the flight ends, or at its own timeout, whatever maxWaiters says', async () => {
    const c = new Coalescer(options);
    let done = false;
    await c.settled('k', 10);
    const leader = lead(c.join('k'));
    for (let i = 0; i < options.maxWaiters; i++) wait(c.join('k'));
    const s = c.settled('k', 500).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toBe(false);
    leader.done('stored');
    await s;
    const other = lead(c.join('other'));
    let timedOut = false;
    const t = c.settled('other', 200).then(() => (timedOut = true));
    await vi.advanceTimersByTimeAsync(199);
    expect(timedOut).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await t;
    expect(c.busy('other')).toBe(true); // the flight goes on: only the wait ended
    other.done('failed');
  });

  it('keeps keys apart', () => {
    const c = new Coalescer(options);
    expect(c.join('a').role).toBe('lead');
    expect(c.join('b').role).toBe('lead');
    expect(c.join('a').role).toBe('wait');
    expect(c.inFlight()).toBe(2);
  });

  it('passes past maxWaiters', () => {
    const c = new Coalescer(options);
    lead(c.join('k'));
    for (let i = 0; i < 3; i++) expect(c.join('k').role).toBe('wait');
    expect(c.join('k')).toEqual({ role: 'pass', reason: 'queue-full' });
  });

  it('times waiters out one by one, the leader carrying on', async () => {
    const c = new Coalescer(options);
    const leader = lead(c.join('k'));
    const early = wait(c.join('k'));
    vi.advanceTimersByTime(600);
    const late = wait(c.join('k'));
    vi.advanceTimersByTime(400);
    await expect(early.result).resolves.toBe('timeout');
    expect(c.waiting()).toBe(1);
    leader.done('failed');
    await expect(late.result).resolves.toBe('failed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('marks an uncacheable key hit-for-miss: the next burst passes without queueing, until it expires', async () => {
    const c = new Coalescer(options);
    const leader = lead(c.join('k'));
    const w = wait(c.join('k'));
    leader.done('uncacheable');
    await expect(w.result).resolves.toBe('uncacheable');
    for (let i = 0; i < 10; i++) expect(c.join('k')).toEqual({ role: 'pass', reason: 'hit-for-miss' });
    expect(c.inFlight()).toBe(0);
    expect(c.join('other').role).toBe('lead');
    vi.advanceTimersByTime(5_000);
    expect(c.join('k').role).toBe('lead');
  });

  it('does not mark on failure, nor when hitForMissMs is 0', () => {
    const c = new Coalescer(options);
    lead(c.join('k')).done('failed');
    expect(c.join('k').role).toBe('lead');
    const off = new Coalescer({ ...options, hitForMissMs: 0 });
    lead(off.join('k')).done('uncacheable');
    expect(off.join('k').role).toBe('lead');
  });

  it('uses the injected clock for hit-for-miss', () => {
    let now = 0;
    const c = new Coalescer({ ...options, now: () => now });
    lead(c.join('k')).done('uncacheable');
    now = 4_999;
    expect(c.join('k').role).toBe('pass');
    now = 5_000;
    expect(c.join('k').role).toBe('lead');
  });

  it('drops expired marks as new ones come', () => {
    let now = 0;
    const c = new Coalescer({ ...options, now: () => now });
    for (let i = 0; i < 100; i++) lead(c.join(`u${i}`)).done('uncacheable');
    now = 10_000;
    lead(c.join('fresh')).done('uncacheable');
    expect((c as unknown as { hitForMiss: Map<string, number> }).hitForMiss.size).toBe(1);
  });

  it('makes done idempotent: a second call neither wakes nor ends a newer flight', async () => {
    const c = new Coalescer(options);
    const first = lead(c.join('k'));
    first.done('failed');
    const second = lead(c.join('k'));
    const w = wait(c.join('k'));
    first.done('uncacheable');
    expect(c.inFlight()).toBe(1);
    expect(c.join('k').role).toBe('wait'); // not marked hit-for-miss by the stale call
    second.done('stored');
    await expect(w.result).resolves.toBe('stored');
  });

  it('with maxWaiters 0 nobody waits', () => {
    const c = new Coalescer({ ...options, maxWaiters: 0 });
    lead(c.join('k'));
    expect(c.join('k')).toEqual({ role: 'pass', reason: 'queue-full' });
  });
});

describe('Coalescer under real concurrency', () => {
  it('gives exactly one lead to 1,000 concurrent joins of one key', async () => {
    const c = new Coalescer({ maxWaiters: 10_000, waitTimeoutMs: 5_000, hitForMissMs: 1_000 });
    const leads: Lead[] = [];
    const results = await Promise.all(
      Array.from({ length: 1_000 }, async (_, i) => {
        await new Promise((r) => setImmediate(r));
        const j = c.join('hot');
        if (j.role === 'lead') {
          leads.push(j);
          // The origin answers a little later, while the other joins arrive.
          setTimeout(() => j.done('stored'), 20);
          return 'lead';
        }
        if (j.role === 'pass') return `pass-${i}`;
        return j.result;
      }),
    );
    expect(leads).toHaveLength(1);
    expect(results.filter((r) => r === 'lead')).toHaveLength(1);
    expect(results.filter((r) => r === 'stored')).toHaveLength(999);
    expect(c.inFlight()).toBe(0);
  });
});
