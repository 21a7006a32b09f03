import { describe, expect, it } from 'vitest';
import { SendLimiter } from './send-limits.js';

describe('SendLimiter', () => {
  const hour = 3_600_000;

  it('allows a few per address and per visitor in a window, then says how long to wait', () => {
    const l = new SendLimiter({ perAddress: 2, perVisitor: 3, windowMs: hour });
    expect([l.take('a@x.test', 'v1', 0), l.take('A@x.test ', 'v1', 10)]).toEqual([0, 0]);
    expect(l.take('a@x.test', 'v2', 20)).toBe(hour - 20); // the address is full, whoever asks
    expect(l.take('b@x.test', 'v1', 30)).toBe(0);
    expect(l.take('c@x.test', 'v1', 40)).toBe(hour - 40); // the visitor is full, whatever address
    expect(l.take('a@x.test', 'v2', hour + 1)).toBe(0); // the first send left the window
  });

  it('does not count a refused send', () => {
    const l = new SendLimiter({ perAddress: 1, perVisitor: 10, windowMs: hour });
    l.take('a@x.test', 'v1', 0);
    for (let i = 0; i < 5; i++) l.take('a@x.test', 'v2', 1);
    expect(l.take('b@x.test', 'v2', 2)).toBe(0);
  });
});
