import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { leadingZeroBits, solve, workBits } from './solve.js';

describe('leadingZeroBits', () => {
  it('counts 8 per zero byte, then the zeros of the first non-zero byte', () => {
    expect(leadingZeroBits(Buffer.from([0xff]))).toBe(0);
    expect(leadingZeroBits(Buffer.from([0x80, 0]))).toBe(0);
    expect(leadingZeroBits(Buffer.from([0x7f]))).toBe(1);
    expect(leadingZeroBits(Buffer.from([0x01]))).toBe(7);
    expect(leadingZeroBits(Buffer.from([0x00, 0x10]))).toBe(11);
    expect(leadingZeroBits(Buffer.from([0, 0, 0x01, 0xff]))).toBe(23);
    expect(leadingZeroBits(Buffer.alloc(4))).toBe(32);
    expect(leadingZeroBits(Buffer.alloc(0))).toBe(0);
  });
});

describe('solve', () => {
  it('finds a counter with at least 12 leading zero bits, the smallest one', () => {
    const nonce = '0123456789abcdef0123456789abcdef';
    const answer = solve(nonce, 12);
    expect(answer).toMatch(/^\d+$/);
    const digest = createHash('sha256').update(`${nonce}:${answer}`).digest();
    expect(leadingZeroBits(digest)).toBeGreaterThanOrEqual(12);
    expect(digest[0]).toBe(0);
    expect(digest[1] >> 4).toBe(0);
    for (let i = 0; i < Number(answer); i++) expect(workBits(nonce, String(i))).toBeLessThan(12);
  });

  it('answers 0 at difficulty 0 and gives up after maxIterations', () => {
    expect(solve('n', 0)).toBe('0');
    expect(solve('n', 64, 1000)).toBeUndefined();
  });
});
