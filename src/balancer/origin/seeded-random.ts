/**
 * A seeded uniform [0, 1) source (mulberry32, by Tommy Ettinger, public domain): reproducible
 * distribution tests and simulations. Not for anything an attacker may want to predict.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
