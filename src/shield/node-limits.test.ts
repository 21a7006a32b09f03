import { describe, expect, it } from 'vitest';
import { leaseSize } from './limit-leases.js';
import {
  LocalLimits,
  NodeLimitTable,
  NodeLimits,
  countedKey,
  limitRule,
  type LimitDecision,
  type LimitRule,
  type NodeLimitMessage,
  type NodeLimitReply,
  type NodeLimitsOptions,
} from './node-limits.js';

const T0 = 1_750_000_000_000;
const rule = (requests: number, periodMs: number, timeoutMs = 60_000, signature = `r${requests}/${periodMs}`): LimitRule => ({ signature, requests, periodMs, timeoutMs });

/** Delivery as IPC does it: later, serialized as JSON; `delay` ms picks a random 0..delay wait per message (reorders them). */
function deliver(delay: number, f: () => void): void {
  if (delay === 0) setImmediate(f);
  else setTimeout(f, Math.random() * delay);
}

/** A supervisor table and `workers` NodeLimits on one fake clock, wired by an in-process transport. */
function node(workers: number, { delay = 0, options = {} as NodeLimitsOptions } = {}) {
  options = { now: () => clock.t, ...options };
  const clock = { t: T0 };
  const sent: NodeLimitMessage[][] = [];
  const limits: NodeLimits[] = [];
  const json = <M>(m: M): M => JSON.parse(JSON.stringify(m));
  const table = new NodeLimitTable((id, m: NodeLimitReply) => deliver(delay, () => limits[id].onMessage(json(m))), { now: () => clock.t });
  for (let i = 0; i < workers; i++) {
    sent.push([]);
    limits.push(
      new NodeLimits((m) => {
        sent[i].push(json(m));
        deliver(delay, () => table.handle(i, json(m)));
        return true;
      }, options),
    );
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
    const limits = new NodeLimits(
      (m) => {
        last = m;
        return true;
      },
      { timeoutMs: 20 },
    );
    expect(await limits.hit(rule(1, 1000), 'k', T0)).toMatchObject({ allowed: true });
    expect(limits.onMessage({ type: 'outpost:limit-verdicts', id: last!.id, verdicts: [[0, T0 + 1, 1, 1]] })).toBe(true);
    expect(limits.onMessage({ type: 'outpost:config' })).toBe(false);
    expect(limits.onMessage(null)).toBe(false);
  });

  it('decides in the worker when there is no supervisor to send to', async () => {
    for (const send of [
      () => false,
      () => {
        throw new Error('channel closed');
      },
    ]) {
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

describe('NodeLimits leases', () => {
  const turn = () => new Promise<void>((r) => setImmediate(r));
  const hitsSent = (sent: NodeLimitMessage[][]) => sent.flat().reduce((n, m) => n + m.keys.length, 0);
  const returnedIn = (sent: NodeLimitMessage[][]) => sent.flat().flatMap((m) => m.returned ?? []);

  it('never leases for limits under 16: every hit is asked about, as before', async () => {
    const { hit, limits, sent } = node(2);
    const r = rule(15, 10_000);
    for (let round = 0; round < 7; round++) {
      expect((await Promise.all([hit(0, r, 'k'), hit(1, r, 'k')])).every((d) => d.allowed)).toBe(true);
    }
    expect(hitsSent(sent)).toBe(14);
    expect(sent.flat().some((m) => m.leases)).toBe(false);
    expect(limits[0].leased + limits[1].leased).toBe(0);
    expect(leaseSize(r)).toBe(0);
    expect(leaseSize(rule(16, 1000))).toBe(1);
    expect(leaseSize(rule(1_000_000, 1000))).toBe(256);
  });

  for (const delay of [0, 3]) {
    it(`admits at most the limit, and at least the limit less two leases, in a burst over two workers (${delay ? 'reordered' : 'next turn'}), mostly without asking`, async () => {
      const { hit, limits, sent } = node(2, { delay });
      const r = rule(10_000, 1000); // a lease is 256
      const ds: (LimitDecision | Promise<LimitDecision>)[] = [];
      for (let round = 0; round < 3000; round++) {
        for (let i = 0; i < 10; i++) ds.push(hit(Math.random() < 0.5 ? 0 : 1, r, 'client'));
        await turn();
      }
      const decided = await Promise.all(ds);
      const allowed = allowedOf(decided);
      expect(allowed).toBeLessThanOrEqual(10_000);
      expect(allowed).toBeGreaterThanOrEqual(10_000 - 2 * 256);
      expect(decided.filter((d) => !d.allowed && d.fresh)).toHaveLength(1);
      // Delivered next turn, a round trip takes a few rounds of 10 hits: a lease of 256 lasts ~50,
      // and the last 1,024 before the limit (2 × 2 workers × 256) are asked about one by one.
      // (Reordered, a round trip takes up to 6 ms of real time, which many rounds fit in.)
      if (delay === 0) {
        expect(hitsSent(sent)).toBeLessThan(30_000 / 10);
        expect(sent.flat().length).toBeLessThan(30_000 / 50);
      }
      expect(limits[0].fallbacks + limits[1].fallbacks).toBe(0);
    });
  }

  it('never admits more than the count allows while leases expire with their answers still out', async () => {
    for (let run = 0; run < 3; run++) {
      const { hit, clock } = node(3, { delay: 3 });
      const r = rule(1600, 3_600_000, 0); // a lease is 100, lives 250 ms; no hold: the count alone decides
      const ds: (LimitDecision | Promise<LimitDecision>)[] = [];
      for (let round = 0; round < 400; round++) {
        for (let i = 0; i < 10; i++) ds.push(hit(Math.floor(Math.random() * 3), r, 'k'));
        clock.t += Math.floor(Math.random() * 60);
        await turn();
      }
      const refilled = Math.ceil(((clock.t - T0) * 1600) / 3_600_000);
      expect(allowedOf(await Promise.all(ds))).toBeLessThanOrEqual(1600 + refilled);
    }
  });

  it('keeps the count exact when a lease expires while its renewal is out', async () => {
    const { hit, clock, limits } = node(2);
    const r = rule(1600, 3_600_000); // a lease is 100
    await hit(0, r, 'k'); // 1 hit + 100 leased
    for (let i = 0; i < 75; i++) hit(0, r, 'k'); // spent from the lease: 25 left
    const renewal = hit(0, r, 'k'); // asks, handing the 25 back if a new lease comes
    clock.t += 250; // the lease expires before the answer
    const first = hit(0, r, 'k'); // asks afresh, in the same message
    expect(await renewal).toMatchObject({ allowed: true, remaining: 1498 });
    expect(await first).toMatchObject({ allowed: true, remaining: 1497 - 100 + 25 });
    await turn(); // the lease the renewal brought is replaced at once: its 100 go back
    // Consumed: 1 + 75 + 2 hits; held: one lease of 100. Worker 1 sees the rest.
    expect(limits[0].leased).toBe(1);
    expect(await hit(1, r, 'k')).toMatchObject({ allowed: true, remaining: 1600 - 78 - 100 - 1 });
  });

  it('gives unspent tokens back when a lease expires, for another worker to use', async () => {
    const { hit, clock, sent } = node(2);
    const r = rule(1600, 3_600_000); // a lease is 100; nothing refills in a second
    expect(await hit(0, r, 'k')).toMatchObject({ allowed: true, remaining: 1599 }); // + 100 leased
    for (let i = 0; i < 10; i++) expect(hit(0, r, 'k')).toEqual({ allowed: true, remaining: 1598 - i, resetMs: expect.any(Number) });
    clock.t += 100;
    expect(await hit(1, r, 'k')).toMatchObject({ allowed: true, remaining: 1498 }); // + 100 leased, 1398 left
    for (let i = 0; i < 75; i++) expect(hit(1, r, 'k')).not.toBeInstanceOf(Promise);
    // Worker 0's lease ends 250 ms after it asked: its next hit (any key) gives the 90 left back.
    clock.t = T0 + 250;
    expect(await hit(0, r, 'other')).toMatchObject({ allowed: true });
    expect(returnedIn(sent)).toEqual([[0, 'k', 90]]);
    // Worker 1's lease is down to its last quarter: its next hit asks, and sees them: 1398 + 90 − 1.
    const renewal = hit(1, r, 'k');
    expect(renewal).toBeInstanceOf(Promise);
    expect(await renewal).toMatchObject({ allowed: true, remaining: 1487 });
  });

  it("renews a busy key's lease before it runs out: one hit per lease is asked about, none waits otherwise", async () => {
    const { hit, sent, limits } = node(1);
    const r = rule(1600, 3_600_000); // a lease is 100, renewed when 25 are left
    const ds: (LimitDecision | Promise<LimitDecision>)[] = [hit(0, r, 'k')];
    await ds[0]; // the first lease
    // 5 hits a turn: the quarter left (25) outlasts a round trip (2 to 3 turns here).
    for (let round = 0; round < 120; round++) {
      for (let i = 0; i < 5; i++) ds.push(hit(0, r, 'k'));
      await turn();
    }
    expect(allowedOf(await Promise.all(ds))).toBe(601);
    const asked = ds.filter((d) => d instanceof Promise).length;
    expect(asked).toBeLessThanOrEqual(1 + Math.ceil(600 / 75));
    expect(hitsSent(sent)).toBe(asked);
    // Every message is one renewal, which hands the quarter left (25) back itself: no message of its own.
    expect(sent[0].map((m) => [m.keys.length, m.leases, m.returned])).toEqual(sent[0].map((_, i) => [1, [[0, i === 0 ? 0 : 25]], undefined]));
    expect(limits[0].leased).toBe(1);
  });

  it('gives an expired lease back from a quiet worker too', async () => {
    const { hit, clock, sent, limits } = node(1);
    const r = rule(1600, 3_600_000);
    await hit(0, r, 'k');
    expect(limits[0].leased).toBe(1);
    clock.t += 250;
    await new Promise((resolve) => setTimeout(resolve, 300)); // the worker's timer, no hit
    expect(limits[0].leased).toBe(0);
    expect(returnedIn(sent)).toEqual([[0, 'k', 100]]);
    expect(sent[0].at(-1)!.keys).toEqual([]); // tokens only: no reply is waited for
    expect(limits[0].pending).toBe(0);
  });

  it('lets at most one lease of hits through in another worker once the key is mitigated, and never more than the limit', async () => {
    const { hit, limits } = node(2);
    const r = rule(1600, 3_600_000, 60_000); // a lease is 100
    expect(await hit(1, r, 'k')).toMatchObject({ allowed: true }); // worker 1 holds a lease of 100
    const ds: LimitDecision[] = [];
    while (!ds.some((d) => !d.allowed)) ds.push(...(await Promise.all([...Array(50)].map(() => hit(0, r, 'k')))));
    expect(ds.filter((d) => !d.allowed && d.fresh)).toHaveLength(1);
    // Mitigated at the supervisor; worker 1 still spends what it holds (counted already), then asks and learns the hold.
    const after: LimitDecision[] = [];
    for (let i = 0; i < 150; i++) after.push(await hit(1, r, 'k'));
    expect(allowedOf(after)).toBeLessThanOrEqual(100);
    expect(after.at(-1)).toMatchObject({ allowed: false, fresh: false });
    expect(hit(1, r, 'k')).not.toBeInstanceOf(Promise);
    expect(1 + allowedOf(ds) + allowedOf(after)).toBeLessThanOrEqual(1600);
    expect(limits[0].leased + limits[1].leased).toBe(0);
  });

  it('holds at most maxLeases, giving the oldest back', async () => {
    const { hit, limits, sent } = node(1, { options: { maxLeases: 5 } });
    const r = rule(1600, 3_600_000);
    for (let i = 0; i < 8; i++) await hit(0, r, `k${i}`);
    expect(limits[0].leased).toBe(5);
    await turn();
    expect(returnedIn(sent)).toEqual([
      [0, 'k0', 100],
      [0, 'k1', 100],
      [0, 'k2', 100],
    ]);
    // A key given back asks again; a key still held does not.
    expect(hit(0, r, 'k7')).not.toBeInstanceOf(Promise);
    expect(hit(0, r, 'k0')).toBeInstanceOf(Promise);
  });

  it('gives back the leases of rules no longer configured on retain', async () => {
    const { hit, limits, sent } = node(1);
    const a = rule(1600, 3_600_000, 60_000, 'a');
    const b = rule(1600, 3_600_000, 60_000, 'b');
    await Promise.all([hit(0, a, 'k'), hit(0, b, 'k')]);
    expect(limits[0].leased).toBe(2);
    limits[0].retain(new Set(['b']));
    expect(limits[0].leased).toBe(1);
    await turn();
    const back = sent[0].at(-1)!;
    expect(back.returned).toEqual([[0, 'k', 100]]);
    expect(back.rules[0][0]).toBe('a');
    expect(hit(0, b, 'k')).not.toBeInstanceOf(Promise);
  });

  it('falls back for a leasing rule too, spending a lease it holds, and asks again after the backoff', async () => {
    let answer = true;
    let table: NodeLimitTable;
    const limits = new NodeLimits(
      (m) => {
        if (answer) setImmediate(() => table.handle(0, JSON.parse(JSON.stringify(m))));
        return true;
      },
      { timeoutMs: 30, backoffMs: 60, now: () => T0 },
    );
    table = new NodeLimitTable((_, m) => limits.onMessage(m), { now: () => T0 });
    const r = rule(1600, 3_600_000);
    await limits.hit(r, 'held', T0);
    answer = false;
    expect(await limits.hit(r, 'new', T0)).toMatchObject({ allowed: true }); // after the timeout
    expect(limits.fallbacks).toBe(1);
    expect(limits.leased).toBe(1); // the unanswered ask is forgotten; the lease stays
    expect(limits.hit(r, 'held', T0)).toMatchObject({ allowed: true, remaining: 1598 });
    expect(limits.hit(r, 'new', T0)).not.toBeInstanceOf(Promise); // decided alone during the backoff
    await new Promise((resolve) => setTimeout(resolve, 80));
    answer = true;
    expect(limits.hit(r, 'new', T0)).toBeInstanceOf(Promise);
  });
});

describe('NodeLimitTable', () => {
  const message = (keys: string[], r = rule(2, 1000), id = 1): NodeLimitMessage => ({
    type: 'outpost:limit-hits',
    id,
    rules: [[r.signature, r.requests, r.periodMs, r.timeoutMs]],
    ruleIndex: keys.map(() => 0),
    keys,
  });

  it('answers each message with one reply, in order', () => {
    const replies: [number, NodeLimitReply][] = [];
    const table = new NodeLimitTable((id, m) => replies.push([id, m]), { now: () => T0 });
    table.handle(3, message(['a', 'a', 'a', 'b'], rule(2, 1000, 5000)));
    expect(replies).toEqual([
      [
        3,
        {
          type: 'outpost:limit-verdicts',
          id: 1,
          verdicts: [
            [1, 1, 500],
            [1, 0, 1000],
            [0, T0 + 5000, 5000, 1],
            [1, 1, 500],
          ],
        },
      ],
    ]);
    table.handle(4, message(['a'], rule(2, 1000, 5000), 9));
    expect(replies[1]).toEqual([4, { type: 'outpost:limit-verdicts', id: 9, verdicts: [[0, T0 + 5000, 5000, 0]] }]);
  });

  it('leases with a hit that asks, only far from the limit, and takes unspent tokens back', () => {
    const replies: [number, NodeLimitReply][] = [];
    const table = new NodeLimitTable((id, m) => replies.push([id, m]), { now: () => T0 });
    const r = rule(1600, 3_600_000); // a lease is 100
    const verdict = (id: number) => replies.find(([, m]) => m.id === id)![1].verdicts;
    table.handle(1, { ...message(['a', 'a'], r, 1), leases: [[1, 0]] });
    expect(verdict(1)).toEqual([
      [1, 1599, 2250],
      [1, 1598, 4500, 100],
    ]); // only the hit that asked
    // Near the limit no lease: 2 × workers heard from (2 now) × 100 must be left after the hit.
    table.handle(2, {
      ...message(
        [...Array(1098)].map(() => 'a'),
        r,
        2,
      ),
      leases: [[1097, 0]],
    });
    expect(verdict(2).at(-1)).toEqual([1, 400, expect.any(Number), 100]); // 1,100 hits + 100 leased: 400 left, then 100 more leased
    table.handle(2, { ...message(['a'], r, 3), leases: [[0, 10]] }); // declined: the 10 held stay the worker's
    expect(verdict(3)).toEqual([[1, 299, expect.any(Number)]]);
    // Tokens back: no reply; at most a lease's worth per return, and never more than a full allowance.
    table.handle(1, {
      ...message([], r, 4),
      returned: [
        [0, 'a', 40],
        [0, 'a', 500],
      ],
    });
    expect(replies.some(([, m]) => m.id === 4)).toBe(false);
    table.handle(1, message(['a'], r, 5));
    expect(verdict(5)).toEqual([[1, 438, expect.any(Number)]]); // 299 + 40 + 100 − 1
    // A renewal: the 60 the worker holds come back, a new 100 go out.
    table.handle(1, { ...message(['a', 'a'], r, 10), leases: [[0, 60]] });
    expect(verdict(10)).toEqual([
      [1, 437, expect.any(Number), 100],
      [1, 396, expect.any(Number)],
    ]);
    table.handle(1, { ...message([], r, 6), returned: [...Array(13)].map((): [number, string, number] => [0, 'a', 100]) }); // 1,300 > 1,203 spent
    table.handle(1, message(['never-seen'], r, 7));
    table.handle(1, message(['a'], r, 8));
    expect(verdict(8)).toEqual([[1, 1599, expect.any(Number)]]);
    // A rule with no table (dropped on retain): tokens back are nothing to credit.
    table.handle(1, { ...message([], rule(1600, 1000, 0, 'gone'), 9), returned: [[0, 'a', 100]] });
    expect(table.size).toBe(1);
  });

  it('never leases for a limit under 16', () => {
    const replies: NodeLimitReply[] = [];
    const table = new NodeLimitTable((_, m) => replies.push(m), { now: () => T0 });
    table.handle(1, { ...message(['a'], rule(15, 1000)), leases: [[0, 0]] });
    expect(replies[0].verdicts).toEqual([[1, 14, 67]]);
  });

  it('drops messages it cannot read without throwing', () => {
    const replies: NodeLimitReply[] = [];
    const table = new NodeLimitTable((_, m) => replies.push(m));
    const bad: unknown[] = [
      null,
      {},
      { type: 'outpost:limit-hits' },
      { ...message(['a']), ruleIndex: [1] },
      { ...message(['a']), keys: [1] },
      { ...message(['a', 'b']), ruleIndex: [0] },
      { ...message(['a']), rules: [['s', '10', 1000, 0]] },
      message(['a'], rule(0, 1000)),
      message(['a'], rule(1, -5)),
      { ...message(['a']), leases: [1] },
      { ...message(['a']), leases: [[1, 0]] },
      { ...message(['a']), leases: [[0, -1]] },
      { ...message(['a']), leases: 0 },
      { ...message(['a']), returned: [[0, 'a', 0]] },
      { ...message(['a']), returned: [[1, 'a', 5]] },
      { ...message(['a']), returned: [[0, 1, 5]] },
      { ...message(['a']), returned: [0, 'a', 5] },
    ];
    for (const m of bad) expect(() => table.handle(1, m as NodeLimitMessage)).not.toThrow();
    expect(replies).toEqual([]);
    table.workerGone(1);
  });

  it('keeps at most maxKeys keys per rule, and drops rules on retain or once quiet', () => {
    const clock = { t: T0 };
    const table = new NodeLimitTable(() => {}, { maxKeys: 100, now: () => clock.t });
    const a = rule(5, 1000, 2000, 'a');
    for (let i = 0; i < 10; i++)
      table.handle(
        1,
        message(
          [...Array(1000)].map((_, j) => `${i}.${j}`),
          a,
        ),
      );
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
  it("keeps the shield's signature: timeout, action and status are not part of it", () => {
    const base = {
      match: '*/api/*',
      methods: ['POST'],
      key: 'ip',
      requests: 10,
      period: 60_000,
      action: 'block' as const,
      timeout: 60_000,
      status: 429,
      scope: 'pop' as const,
      onRedisError: 'local' as const,
    };
    expect(limitRule(base)).toEqual({ signature: JSON.stringify(['*/api/*', ['POST'], 'ip', 10, 60_000]), requests: 10, periodMs: 60_000, timeoutMs: 60_000 });
    expect(limitRule({ ...base, timeout: 1000, action: 'log', status: 503 }).signature).toBe(limitRule(base).signature);
    expect(limitRule({ ...base, requests: 11 }).signature).not.toBe(limitRule(base).signature);
  });

  it('a global rule counts apart from the same rule per PoP, and carries what to do without Redis', () => {
    const base = { match: '*/login', key: 'ip', requests: 5, period: 60_000, action: 'block' as const, timeout: 60_000, status: 429, scope: 'global' as const, onRedisError: 'allow' as const };
    expect(limitRule(base).signature).not.toBe(limitRule({ ...base, scope: 'pop' }).signature);
    expect(limitRule(base).global).toEqual({ onRedisError: 'allow' });
    expect(limitRule({ ...base, scope: 'pop' }).global).toBeUndefined();
  });
});
