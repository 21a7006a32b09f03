import { describe, expect, it } from 'vitest';
import { hashSteering } from './hash.js';
import { seededRandom } from './seeded-random.js';
import type { OriginCandidate } from './types.js';

const origin = (name: string, weight = 1): OriginCandidate & { name: string } => ({ id: `chat/${name}`, name, weight, load: { inflight: 0, websockets: 0 } });
const ip = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const CLIENTS = 20_000;

/** Where each of the test clients goes. */
function assign(list: readonly (OriginCandidate & { name: string })[], seed = 1): string[] {
  const s = hashSteering({ random: seededRandom(seed) });
  return Array.from({ length: CLIENTS }, (_, i) => s.pick(list, ip(i))!.name);
}

describe('hash origin steering', () => {
  const five = ['a', 'b', 'c', 'd', 'e'].map((n) => origin(n));

  it('sends a client to the same origin every time, in any worker, whatever the candidate order', () => {
    const forward = assign(five, 1);
    expect(assign(five, 2)).toEqual(forward);
    expect(assign([...five].reverse(), 3)).toEqual(forward);
    const s = hashSteering();
    expect(s.pick(five, '2001:db8::1')).toBe(s.pick([...five].reverse(), '2001:db8::1'));
  });

  it('spreads clients evenly over equal origins', () => {
    const counts = new Map<string, number>();
    for (const n of assign(five)) counts.set(n, (counts.get(n) ?? 0) + 1);
    for (const c of counts.values()) expect(Math.abs(c - CLIENTS / 5)).toBeLessThan((CLIENTS / 5) * 0.08);
  });

  it('spreads clients by weight', () => {
    const list = [origin('a', 1), origin('b', 0.5), origin('c', 0.25), origin('z', 0)];
    const counts = new Map<string, number>([
      ['a', 0],
      ['b', 0],
      ['c', 0],
      ['z', 0],
    ]);
    for (const n of assign(list)) counts.set(n, counts.get(n)! + 1);
    expect(counts.get('z')).toBe(0);
    expect(counts.get('a')! / counts.get('b')!).toBeCloseTo(2, 0);
    expect(counts.get('a')! / counts.get('c')!).toBeGreaterThan(3.6);
    expect(counts.get('a')! / counts.get('c')!).toBeLessThan(4.4);
  });

  it('adding an origin moves about 1/n of the clients, all of them to the new origin', () => {
    const before = assign(five);
    const after = assign([...five, origin('f')]);
    let moved = 0;
    for (let i = 0; i < CLIENTS; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      expect(after[i]).toBe('f');
    }
    expect(moved / CLIENTS).toBeGreaterThan(1 / 6 - 0.02);
    expect(moved / CLIENTS).toBeLessThan(1 / 6 + 0.02);
  });

  it('removing an origin moves only its own clients, spread over the others', () => {
    const before = assign(five);
    const after = assign(five.filter((o) => o.name !== 'c'));
    const landed = new Map<string, number>();
    for (let i = 0; i < CLIENTS; i++) {
      if (before[i] === 'c') landed.set(after[i], (landed.get(after[i]) ?? 0) + 1);
      else expect(after[i]).toBe(before[i]);
    }
    expect([...landed.keys()].sort()).toEqual(['a', 'b', 'd', 'e']);
    for (const c of landed.values()) expect(c).toBeGreaterThan((CLIENTS / 5 / 4) * 0.8);
  });

  it('lowering a weight only moves clients away from that origin', () => {
    const before = assign(five);
    const after = assign(five.map((o) => (o.name === 'b' ? origin('b', 0.5) : o)));
    let moved = 0;
    for (let i = 0; i < CLIENTS; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      expect(before[i]).toBe('b');
    }
    // b's share goes from 1/5 to 0.5/4.5.
    expect(moved / CLIENTS).toBeCloseTo(1 / 5 - 0.5 / 4.5, 1);
  });

  it('a retry without the first choice goes to a stable second choice', () => {
    const s = hashSteering();
    const first = s.pick(five, '198.51.100.7')!;
    const rest = five.filter((o) => o !== first);
    const second = s.pick(rest, '198.51.100.7')!;
    expect(second).not.toBe(first);
    expect(s.pick([...rest].reverse(), '198.51.100.7')).toBe(second);
  });

  it('without a key, picks at random by weight', () => {
    const s = hashSteering({ random: seededRandom(5) });
    const list = [origin('a', 1), origin('b', 0.25)];
    let a = 0;
    for (let i = 0; i < 5000; i++) if (s.pick(list)!.name === 'a') a++;
    expect(a / 5000).toBeGreaterThan(0.77);
    expect(a / 5000).toBeLessThan(0.83);
  });
});
