/**
 * The proof of work, Node side: count leading zero bits of a digest and find a counter whose
 * SHA-256(nonce ':' counter) has at least `difficulty` of them. The verifier (token.ts) uses
 * `leadingZeroBits`; `solve` serves tests and benchmark clients that must pass the challenge.
 */
import { createHash } from 'node:crypto';

/** Leading zero bits of `buf` (8 per zero byte, then the zeros of the first non-zero byte). */
export function leadingZeroBits(buf: Uint8Array): number {
  let bits = 0;
  for (const byte of buf) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** The number of leading zero bits of SHA-256(`nonce:counter`), the value a solution is judged by. */
export function workBits(nonce: string, counter: string): number {
  return leadingZeroBits(createHash('sha256').update(`${nonce}:${counter}`, 'utf8').digest());
}

/**
 * The smallest counter (as decimal digits) whose hash has at least `difficulty` leading zero
 * bits, trying 0, 1, 2, …; undefined after `maxIterations` tries. Expected work is 2^difficulty.
 */
export function solve(nonce: string, difficulty: number, maxIterations = 1e8): string | undefined {
  for (let i = 0; i < maxIterations; i++) {
    const counter = String(i);
    if (workBits(nonce, counter) >= difficulty) return counter;
  }
  return undefined;
}
