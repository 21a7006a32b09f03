import { describe, expect, it } from 'vitest';
import { LocalLimits, NodeLimitTable, NodeLimits, countedKey, limitRule, type LimitDecision, type LimitRule, type NodeLimitMessage, type NodeLimitReply, type NodeLimitsOptions } from './node-limits.js';

const T0 = 1_750_000_000_000;
const rule = (requests: number, periodMs: number, timeoutMs = 60_000, signature = `r${requests}/${periodMs}`): LimitRule => ({ signature, requests, periodMs, timeoutMs });

/** Delivery as IPC does it: later, serialized as JSON; `delay` ms picks a random 0..delay wait per message (reorders them). */
function deliver(delay: number, f: () => void): void {
  if (delay === 0) setImmediate(f);
  else setTimeout(f, Math.random() * delay);
}

/** A supervisor table and `workers` NodeLimits on one fake clock, wired by an in-process transport. */
function node(workers: number, { delay = 0, options = {} as NodeLimitsOptions } = {}) {
  const clock = { t: T0 };
  const sent: NodeLimitMessage[][] = [];
  const limits: NodeLimits[] = [];
  const json = <M>(m: M): M => JSON.parse(JSON.stringify(m));
  const table = new NodeLimitTable((id, m: NodeLimitReply) => deliver(delay, () => limits[id].onMessage(json(m))), { now: () => clock.t });
  for (let i = 0; i < workers; i++) {
    sent.push([]);
    limits.push(new NodeLimits((m) => { sent[i].push(m); deliver(delay, () => table.handle(i, json(m))); return true; }, options));
  }
  /** One hit on worker `w`, at the clock's time. */
  const hit = (w: number, r: LimitRule, key: string) => limits[w].hit(r, key, clock.t);
  return { clock, table, limits, sent, hit };
}

const allowedOf = (ds: LimitDecision[]) => ds.filter((d) => d.allowed).length;

describe('NodeLimits with a NodeLimitTable', () => {
  const splits: [string, (i: number) => number][] = [
    ['all on one worker', () => 0],
    ['all on the other', () => 1],
    ['alternating', (i) => i % 2],
    ['9 + 1', (i) => (i === 4 ? 1 : 0)],
    ['random', () => (Math.random() < 0.5 ? 0 : 1)],
  ];
  for (const delay of [0, 5]) {
    for (const [name, worker] of splits) {
      it(`allows exactly the limit across two workers in a burst: ${name}, delivery ${delay ? 'reordered' : 'next turn'}`, async () => {
        const { hit } = node(2, { delay });
        const r = rule(10, 10_000);
        const ds = await Promise.all([...Array(25)].map((_, i) => hit(worker(i), r, 'client')));
        expect(allowedOf(ds)).toBe(10);
        const remaining = ds.flatMap((d) => (d.allowed ? [d.remaining] : [])).sort((a, b) => a - b);
        expect(remaining).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(ds.filter((d) => !d.allowed && d.fresh)).toHaveLength(1);
      });
    }
  }

  it('allows exactly the limit one hit at a time, alternating workers, then holds the key node-wide', async () => {
    const { hit, limits, sent, clock } = node(2);
    const r = rule(10, 10_000, 30_000);
    const ds: LimitDecision[] = [];
    for (let i = 0; i < 10; i++) ds.push(await hit(i % 2, r, 'k'));
    expect(ds.every((d) => d.allowed)).toBe(true);
    const over = await hit(0, r, 'k');
    expect(over).toEqual({ allowed: false, until: T0 + 30_000, retryAfterMs: 30_000, fresh: true });
    // Worker 0 learned the hold: it answers by itself, synchronously, without a message.
    const before = sent[0].length;
    clock.t += 1000;
    const cached = hit(0, r, 'k');
    expect(cached).not.toBeInstanceOf(Promise);
    expect(cached).toEqual({ allowed: false, until: T0 + 30_000, retryAfterMs: 29_000, fresh: false });
    expect(sent[0].length).toBe(before);
    // Worker 1 asks once, hears the same hold (not fresh), then answers by itself too.
    const other = hit(1, r, 'k');
    expect(other).toBeInstanceOf(Promise);
    expect(await other).toEqual({ allowed: false, until: T0 + 30_000, retryAfterMs: 29_000, fresh: false });
    expect(hit(1, r, 'k')).not.toBeInstanceOf(Promise);
    // Other keys are untouched.
    expect(await hit(1, r, 'other')).toMatchObject({ allowed: true, remaining: 9 });
    // When the hold ends the table decides again; the period has passed, so a full burst.
    clock.t = T0 + 30_000;
    const after = await Promise.all([...Array(12)].map((_, i) => hit(i % 2, r, 'k')));
    expect(allowedOf(after)).toBe(10);
    expect(limits[0].fallbacks + limits[1].fallbacks).toBe(0);
  });

  it('keeps the GCRA refill across workers: one more per period/requests', async () => {
    const { hit, clock } = node(2);
    const r = rule(10, 10_000, 0); // no hold: a refused key is asked about again at once
    expect(allowedOf(await Promise.all([...Array(12)].map((_, i) => hit(i % 2, r, 'k'))))).toBe(10);
    clock.t += 999;
    expect(allowedOf(await Promise.all([hit(0, r, 'k'), hit(1, r, 'k')]))).toBe(0);
    clock.t += 1;
    expect(allowedOf(await Promise.all([hit(0, r, 'k'), hit(1, r, 'k'), hit(1, r, 'k')]))).toBe(1);
    clock.t += 5000;
    expect(allowedOf(await Promise.all([...Array(8)].map((_, i) => hit(i % 2, r, 'k'))))).toBe(5);
  });

  it('counts each rule on its own', async () => {
    const { hit } = node(2);
    const a = rule(3, 1000, 60_000, 'a');
    const b = rule(5, 1000, 60_000, 'b');
    const ds = await Promise.all([...Array(20)].flatMap((_, i) => [hit(i % 2, a, 'k'), hit((i + 1) % 2, b, 'k')]));
    expect(allowedOf(ds.filter((_, i) => i % 2 === 0))).toBe(3);
    expect(allowedOf(ds.filter((_, i) => i % 2 === 1))).toBe(5);
  });

  it('stays exact for many keys over three workers with reordered delivery', async () => {
    const { hit } = node(3, { delay: 3 });
    const r = rule(7, 60_000);
    const keys = [...Array(50)].map((_, i) => `10.0.0.${i}`);
    const hits = [...Array(3000)].map(() => {
      const key = keys[Math.floor(Math.random() * keys.length)];
      return Promise.resolve(hit(Math.floor(Math.random() * 3), r, key)).then((d) => ({ key, d }));
    });
    const per = new Map<string, number>();
    for (const { key, d } of await Promise.all(hits)) if (d.allowed) per.set(key, (per.get(key) ?? 0) + 1);
    for (const key of keys) expect(per.get(key)).toBe(7);
  });

  it('sends one message per event-loop turn, split at 1,000 hits', async () => {
    const { hit, sent } = node(1);
    const r = rule(100_000, 1000);
    const first = [...Array(2500)].map((_, i) => hit(0, r, `k${i % 10}`));
    await Promise.all(first);
    expect(sent[0].map((m) => m.keys.length)).toEqual([1000, 1000, 500]);
    expect(sent[0][0].rules).toEqual([[r.signature, 100_000, 1000, 60_000]]);
    await Promise.all([hit(0, r, 'a'), hit(0, rule(5, 1000, 1, 'other'), 'a')]);
    expect(sent[0].length).toBe(4);
    expect(sent[0][3].rules.map((x) => x[0])).toEqual([r.signature, 'other']);
    expect(sent[0][3].ruleIndex).toEqual([0, 1]);
  });

  it('sends a long key by its hash, and still counts it by its value', async () => {
    const { hit, sent } = node(2);
    const r = rule(2, 60_000);
    const long = 'x'.repeat(10_000);
    const ds = await Promise.all([hit(0, r, long), hit(1, r, long), hit(0, r, `${long}y`), hit(1, r, long)]);
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false]);
    for (const m of sent.flat()) for (const k of m.keys) expect(k.length).toBeLessThanOrEqual(64);
    expect(countedKey(long)).toBe(countedKey('x'.repeat(10_000)));
    expect(countedKey('short')).toBe('short');
  });

  it('decides in the worker when the supervisor does not answer in time, and counts those', async () => {
    const limits = new NodeLimits(() => true, { timeoutMs: 50, backoffMs: 100 }); // sent, never answered
    const r = rule(3, 60_000);
    const started = Date.now();
    const ds = await Promise.all([...Array(5)].map(() => limits.hit(r, 'k', T0)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false, false]); // counted per worker
    expect(limits.fallbacks).toBe(5);
    expect(limits.pending).toBe(0);
    // During the backoff it decides alone at once; the key is held by the local decision.
    expect(limits.hit(r, 'k', T0)).toMatchObject({ allowed: false, fresh: false });
    expect(limits.hit(r, 'other', T0)).toEqual({ allowed: true, remaining: 2, resetMs: 20_000 });
    expect(limits.fallbacks).toBe(6); // the held key was answered from the cache, not a fallback
    await new Promise((r) => setTimeout(r, 120));
    expect(limits.hit(r, 'third', T0)).toBeInstanceOf(Promise); // asks the supervisor again
    expect(limits.batches).toBe(1);
  });

  it('falls back after the default 1 s', async () => {
    const limits = new NodeLimits(() => true);
    const started = Date.now();
    expect(await limits.hit(rule(1, 1000), 'k', T0)).toMatchObject({ allowed: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(limits.fallbacks).toBe(1);
  });

  it('ignores a reply that comes after its hits were decided alone', async () => {
    let last: NodeLimitMessage | undefined;
    const limits = new NodeLimits((m) => { last = m; return true; }, { timeoutMs: 20 });
    expect(await limits.hit(rule(1, 1000), 'k', T0)).toMatchObject({ allowed: true });
    expect(limits.onMessage({ type: 'outpost:limit-verdicts', id: last!.id, verdicts: [[0, T0 + 1, 1, 1]] })).toBe(true);
    expect(limits.onMessage({ type: 'outpost:config' })).toBe(false);
    expect(limits.onMessage(null)).toBe(false);
  });

  it('decides in the worker when there is no supervisor to send to', async () => {
    for (const send of [() => false, () => { throw new Error('channel closed'); }]) {
      const limits = new NodeLimits(send, { backoffMs: 50 });
      const r = rule(2, 60_000);
      expect((await Promise.all([1, 2, 3].map(() => limits.hit(r, 'k', T0)))).map((d) => d.allowed)).toEqual([true, true, false]);
      expect(limits.fallbacks).toBe(3);
      expect(limits.batches).toBe(0);
      expect(limits.hit(r, 'j', T0)).not.toBeInstanceOf(Promise);
    }
  });

  it('decides alone the hits of a reply it cannot read', async () => {
    const limits = new NodeLimits((m) => {
      setImmediate(() => limits.onMessage({ type: 'outpost:limit-verdicts', id: m.id, verdicts: [[1, 0]] }));
      return true;
    });
    const ds = await Promise.all([limits.hit(rule(5, 1000), 'a', T0), limits.hit(rule(5, 1000), 'b', T0)]);
    expect(ds.every((d) => d.allowed)).toBe(true);
    expect(limits.fallbacks).toBe(2);
  });

  it('refuses a rule RateLimiter refuses in the worker, before asking', () => {
    const limits = new NodeLimits(() => true);
    expect(() => limits.hit(rule(0, 1000), 'k', T0)).toThrow(RangeError);
    expect(limits.pending).toBe(0);
  });

  it('forgets cached holds of rules no longer configured', async () => {
    const { hit, limits } = node(1);
    const a = rule(1, 60_000, 60_000, 'a');
    const b = rule(1, 60_000, 60_000, 'b');
    await Promise.all([hit(0, a, 'k'), hit(0, a, 'k'), hit(0, b, 'k'), hit(0, b, 'k')]);
    expect(hit(0, a, 'k')).not.toBeInstanceOf(Promise);
    limits[0].retain(new Set(['b']));
    expect(hit(0, a, 'k')).toBeInstanceOf(Promise); // asks again (and the table still holds it)
    expect(hit(0, b, 'k')).not.toBeInstanceOf(Promise);
  });
});

describe('NodeLimitTable', () => {
  const message = (keys: string[], r = rule(2, 1000), id = 1): NodeLimitMessage => ({
    type: 'outpost:limit-hits', id, rules: [[r.signature, r.requests, r.periodMs, r.timeoutMs]], ruleIndex: keys.map(() => 0), keys,
  });

  it('answers each message with one reply, in order', () => {
    const replies: [number, NodeLimitReply][] = [];
    const table = new NodeLimitTable((id, m) => replies.push([id, m]), { now: () => T0 });
    table.handle(3, message(['a', 'a', 'a', 'b'], rule(2, 1000, 5000)));
    expect(replies).toEqual([[3, { type: 'outpost:limit-verdicts', id: 1, verdicts: [[1, 1, 500], [1, 0, 1000], [0, T0 + 5000, 5000, 1], [1, 1, 500]] }]]);
    table.handle(4, message(['a'], rule(2, 1000, 5000), 9));
    expect(replies[1]).toEqual([4, { type: 'outpost:limit-verdicts', id: 9, verdicts: [[0, T0 + 5000, 5000, 0]] }]);
  });

  it('drops messages it cannot read without throwing', () => {
    const replies: NodeLimitReply[] = [];
    const table = new NodeLimitTable((_, m) => replies.push(m));
    const bad: unknown[] = [
      null, {}, { type: 'outpost:limit-hits' },
      { ...message(['a']), ruleIndex: [1] },
      { ...message(['a']), keys: [1] },
      { ...message(['a', 'b']), ruleIndex: [0] },
      { ...message(['a']), rules: [['s', '10', 1000, 0]] },
      message(['a'], rule(0, 1000)),
      message(['a'], rule(1, -5)),
    ];
    for (const m of bad) expect(() => table.handle(1, m as NodeLimitMessage)).not.toThrow();
    expect(replies).toEqual([]);
    table.workerGone(1);
  });

  it('keeps at most maxKeys keys per rule, and drops rules on retain or once quiet', () => {
    const clock = { t: T0 };
    const table = new NodeLimitTable(() => {}, { maxKeys: 100, now: () => clock.t });
    const a = rule(5, 1000, 2000, 'a');
    for (let i = 0; i < 10; i++) table.handle(1, message([...Array(1000)].map((_, j) => `${i}.${j}`), a));
    expect(table.keys('a')).toBe(100);
    table.handle(1, message(['k'], rule(5, 1000, 0, 'b')));
    expect(table.size).toBe(2);
    table.retain(new Set(['a']));
    expect(table.size).toBe(1);
    expect(table.keys('b')).toBe(0);
    clock.t += 60_000; // quiet for longer than its period and timeout: nothing left worth keeping
    table.handle(1, message(['k'], rule(5, 1000, 0, 'c')));
    expect(table.size).toBe(1);
    expect(table.keys('a')).toBe(0);
  });
});

describe('LocalLimits', () => {
  it('decides like the table: burst, hold, refill, per rule', () => {
    const l = new LocalLimits();
    const r = rule(3, 3000, 10_000);
    expect([1, 2, 3].map(() => l.hit(r, 'k', T0))).toEqual([
      { allowed: true, remaining: 2, resetMs: 1000 },
      { allowed: true, remaining: 1, resetMs: 2000 },
      { allowed: true, remaining: 0, resetMs: 3000 },
    ]);
    expect(l.hit(r, 'k', T0)).toEqual({ allowed: false, until: T0 + 10_000, retryAfterMs: 10_000, fresh: true });
    expect(l.hit(r, 'k', T0 + 4000)).toEqual({ allowed: false, until: T0 + 10_000, retryAfterMs: 6000, fresh: false });
    expect(l.held(r, 'k', T0 + 9999)).toBe(T0 + 10_000);
    expect(l.hit(r, 'k', T0 + 10_000)).toMatchObject({ allowed: true, remaining: 2 });
    expect(l.hit(rule(3, 3000, 10_000, 'other'), 'k', T0)).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('with no timeout, a refused key is only refused while GCRA refuses it', () => {
    const l = new LocalLimits();
    const r = rule(1, 1000, 0);
    expect(l.hit(r, 'k', T0).allowed).toBe(true);
    expect(l.hit(r, 'k', T0 + 500)).toEqual({ allowed: false, until: T0 + 500, retryAfterMs: 500, fresh: true });
    expect(l.hit(r, 'k', T0 + 1000).allowed).toBe(true);
  });

  it('keeps counts of retained rules across a reload and starts a rule over when its numbers change', () => {
    const l = new LocalLimits();
    const a = rule(1, 60_000, 60_000, 'a');
    l.hit(a, 'k', T0);
    l.hit(rule(1, 60_000, 60_000, 'b'), 'k', T0);
    l.retain(new Set(['a']));
    expect(l.size).toBe(1);
    expect(l.hit({ ...a, timeoutMs: 5 }, 'k', T0).allowed).toBe(false); // kept (a new timeout keeps the count)
    expect(l.hit(rule(1, 60_000, 60_000, 'b'), 'k', T0).allowed).toBe(true); // dropped
    expect(l.hit({ ...a, requests: 2 }, 'k', T0).allowed).toBe(true);
  });

  it('bounds keys per rule', () => {
    const l = new LocalLimits(10);
    const r = rule(1, 60_000);
    for (let i = 0; i < 1000; i++) l.hit(r, `k${i}`, T0);
    expect(l.keys(r.signature)).toBe(10);
  });
});

describe('limitRule', () => {
  it('keeps the shield\'s signature: timeout, action and status are not part of it', () => {
    const base = { match: '*/api/*', methods: ['POST'], key: 'ip', requests: 10, period: 60_000, action: 'block' as const, timeout: 60_000, status: 429 };
    expect(limitRule(base)).toEqual({ signature: JSON.stringify(['*/api/*', ['POST'], 'ip', 10, 60_000]), requests: 10, periodMs: 60_000, timeoutMs: 60_000 });
    expect(limitRule({ ...base, timeout: 1000, action: 'log', status: 503 }).signature).toBe(limitRule(base).signature);
    expect(limitRule({ ...base, requests: 11 }).signature).not.toBe(limitRule(base).signature);
  });
});
