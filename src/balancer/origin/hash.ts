/**
 * Hash: the same client IP goes to the same origin (Cloudflare's `hash` origin steering), by
 * weighted rendezvous hashing (highest random weight, Thaler & Ravishankar 1998; the weighted
 * score -w / ln(h) from Schindelhauer & Schomaker 2005). Every (key, origin) pair gets a
 * pseudo-random score and the highest wins, so:
 * - adding an origin moves only the keys it now wins, about 1/n of them, all to the new origin;
 * - removing one (disabled, unhealthy, or excluded after a failed try) moves only its own keys,
 *   each to its second-best origin, which is also a stable choice for retries;
 * - an origin of weight w wins a share w / total of the keys;
 * - the answer does not depend on the order of the candidates or on any state, so every worker
 *   and every PoP with the same config sends a client to the same origin.
 * Without a key (no client IP known) the pick is weighted random.
 */
import type { OriginSelector, OriginSelectorOptions } from './types.js';
import { effectiveWeight, pickWeightedIndex } from './weighted.js';

export function hashSteering({ random = Math.random }: OriginSelectorOptions = {}): OriginSelector {
  return {
    pick(candidates, key) {
      if (candidates.length <= 1) return candidates[0];
      if (key === undefined || key === '') return candidates[pickWeightedIndex(candidates, (o) => o.weight, random)];
      const weight = effectiveWeight(candidates);
      let best = candidates[0];
      let bestScore = -Infinity;
      for (const o of candidates) {
        const w = weight(o);
        if (w <= 0) continue;
        const s = rendezvousScore(key, o.id, w);
        // Ties (practically never: 53-bit hashes) go to the smaller id, not to list order.
        if (s > bestScore || (s === bestScore && o.id < best.id)) {
          bestScore = s;
          best = o;
        }
      }
      return best;
    },
  };
}

/**
 * Weighted rendezvous score of `key` on `id`: -weight / ln(h), h uniform in (0, 1). The winner
 * over a set of ids is distributed in proportion to the weights.
 */
export function rendezvousScore(key: string, id: string, weight: number): number {
  const h = (hash53(`${key}\u0000${id}`) + 0.5) / 2 ** 53; // strictly inside (0, 1)
  return -weight / Math.log(h);
}

/**
 * A 53-bit string hash (cyrb53, by bryc, public domain): two 32-bit multiply-xor lanes mixed at
 * the end. Not cryptographic: a client choosing its IP can choose its origin, which hashing by
 * IP allows anyway.
 */
export function hash53(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
