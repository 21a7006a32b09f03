import { describe, expect, it } from 'vitest';
import { LeaseTable, leaseMs, leaseSize } from './limit-leases.js';
import type { LimitRule } from './node-limits.js';

const T0 = 1_750_000_000_000;
const rule = (requests: number, periodMs: number, signature = `r${requests}/${periodMs}`): LimitRule => ({ signature, requests, periodMs, timeoutMs: 60_000 });

function table(max?: number) {
  const back: [string, string, number][] = [];
  const t = new LeaseTable((r, key, tokens) => back.push([r.signature, key, tokens]), max);
  return { t, back };
}

describe('leaseSize and leaseMs', () => {
  it('lease a sixteenth of the limit, at most 256, for at most 250 ms', () => {
    expect([10, 15, 16, 100, 4096, 1_000_000].map((n) => leaseSize(rule(n, 1000)))).toEqual([0, 0, 1, 6, 256, 256]);
    expect([100, 250, 1000, 3_600_000].map((p) => leaseMs(rule(100, p)))).toEqual([100, 250, 250, 250]);
  });
});

describe('LeaseTable', () => {
  const r = rule(1600, 60_000); // 100 a lease, asked again when 25 are left

  it('asks once, spends the lease, and asks for the next one when a quarter is left, handing that quarter back with the ask', () => {
    const { t, back } = table();
    expect(t.spend(r, 'k', T0)).toBeUndefined();
    const first = t.ask(r, 'k', T0)!;
    expect(first.held).toBe(0);
    expect(t.ask(r, 'k', T0)).toBeUndefined(); // one ask at a time
    t.granted(first, T0, 100, 1599, 40);
    for (let i = 0; i < 75; i++) expect(t.spend(r, 'k', T0)).toEqual({ allowed: true, remaining: 1598 - i, resetMs: 40 });
    expect(t.spend(r, 'k', T0)).toBeUndefined(); // 25 left: this hit asks
    const renewal = t.ask(r, 'k', T0)!;
    expect(renewal.held).toBe(25);
    for (let i = 0; i < 25; i++) expect(t.spend(r, 'k', T0)).toMatchObject({ allowed: true });
    expect(t.spend(r, 'k', T0)).toBeUndefined(); // spent, the answer not here yet
    expect(t.ask(r, 'k', T0)).toBeUndefined();
    // The supervisor took the 25 back and leased 100: they pay for the 25 spent since the ask.
    t.granted(renewal, T0, 100, 1499, 40);
    expect(t.spend(r, 'k', T0)).toMatchObject({ remaining: 1399 + 74 });
    for (let i = 0; i < 49; i++) expect(t.spend(r, 'k', T0)).toMatchObject({ allowed: true });
    expect(t.spend(r, 'k', T0)).toBeUndefined();
    expect(back).toEqual([]);
  });

  it('keeps the lease when the renewal is declined, and gives a lease back when dropped', () => {
    const { t, back } = table();
    t.granted(t.ask(r, 'k', T0)!, T0, 100, 1599, 40);
    for (let i = 0; i < 80; i++) t.spend(r, 'k', T0); // 75 spent, then none until a hit asks
    const renewal = t.ask(r, 'k', T0)!;
    t.spend(r, 'k', T0);
    t.declined(renewal);
    expect(t.spend(r, 'k', T0)).toBeUndefined(); // 24 left, not asking: the next hit asks again
    expect(t.ask(r, 'k', T0)?.held).toBe(24);
    t.drop(r, 'k'); // the key went over while that ask is out: its answer settles the 24
    expect(back).toEqual([]);
    expect(t.size).toBe(0);
    t.granted(t.ask(r, 'j', T0)!, T0, 100, 1599, 40);
    t.drop(r, 'j');
    expect(back).toEqual([[r.signature, 'j', 100]]);
  });

  it('settles a lease that ended while its renewal was out: given back if declined, taken back if granted', () => {
    const { t, back } = table();
    const short = rule(1600, 100); // leases live 100 ms
    t.granted(t.ask(short, 'a', T0)!, T0, 100, 1599, 40);
    t.granted(t.ask(short, 'b', T0)!, T0, 100, 1599, 40);
    for (let i = 0; i < 75; i++) t.spend(short, 'a', T0), t.spend(short, 'b', T0);
    t.spend(short, 'a', T0);
    const a = t.ask(short, 'a', T0)!;
    t.spend(short, 'b', T0);
    const b = t.ask(short, 'b', T0)!;
    t.spend(short, 'a', T0 + 99); // 24 left
    expect(t.spend(short, 'a', T0 + 100)).toBeUndefined(); // expired: ended, nothing given back yet
    expect(t.spend(short, 'b', T0 + 100)).toBeUndefined();
    expect(back).toEqual([]);
    t.declined(a);
    expect(back).toEqual([['r1600/100', 'a', 24]]);
    const next = t.ask(short, 'b', T0 + 100)!; // a new first ask while the old one is out
    t.granted(b, T0, 100, 1500, 40); // the old one's answer: the 25 it held were taken back, none spent since the ask
    expect(t.spend(short, 'b', T0 + 100)).toBeUndefined(); // that lease expired too (asked at T0)
    t.granted(next, T0 + 100, 100, 1400, 40);
    expect(t.spend(short, 'b', T0 + 100)).toMatchObject({ remaining: 1300 + 99 });
    expect(back).toEqual([
      ['r1600/100', 'a', 24],
      ['r1600/100', 'b', 100],
    ]);
  });

  it('neither spends nor gives back a lease whose renewal is abandoned', () => {
    const { t, back } = table();
    t.granted(t.ask(r, 'k', T0)!, T0, 100, 1599, 40);
    for (let i = 0; i < 75; i++) t.spend(r, 'k', T0);
    t.abandoned(t.ask(r, 'k', T0)!);
    expect(t.size).toBe(0);
    expect(back).toEqual([]);
  });

  it('gives an expired lease back and never spends it', () => {
    const { t, back } = table();
    const short = rule(1600, 100); // lives 100 ms
    t.granted(t.ask(r, 'a', T0)!, T0, 100, 1599, 40);
    t.granted(t.ask(short, 'b', T0)!, T0, 100, 1599, 40);
    expect(t.spend(short, 'b', T0 + 100)).toBeUndefined();
    expect(back).toEqual([['r1600/100', 'b', 100]]);
    t.sweep(T0 + 250);
    expect(back).toEqual([
      ['r1600/100', 'b', 100],
      [r.signature, 'a', 100],
    ]);
    expect(t.size).toBe(0);
  });

  it('holds at most max slots, the oldest going back first, and drops the rules retain leaves out', () => {
    const { t, back } = table(2);
    const other = rule(1600, 60_000, 'other');
    for (const key of ['a', 'b', 'c']) t.granted(t.ask(r, key, T0)!, T0, 100, 1599, 40);
    expect(t.size).toBe(2);
    expect(back).toEqual([[r.signature, 'a', 100]]);
    t.ask(other, 'x', T0);
    expect(back.map(([, key]) => key)).toEqual(['a', 'b']);
    t.retain(new Set(['other']));
    expect(back.map(([, key]) => key)).toEqual(['a', 'b', 'c']);
    expect(t.size).toBe(1); // the ask for 'x'
  });
});
