/**
 * Weighted random choice shared by the policies. A weight of 0 is never chosen while any
 * positive weight is on offer; when every weight is 0 the choice is uniform, so a pool whose
 * origins are all weighted 0 still answers (Cloudflare: weight 0 = no traffic "unless all others
 * are gone").
 */

/** Index of a random item, probability weight / total weight; -1 when nothing is left. */
export function pickWeightedIndex<T>(items: readonly T[], weight: (item: T) => number, random: () => number, skip = -1): number {
  let total = 0;
  let count = 0;
  for (let i = 0; i < items.length; i++) {
    if (i === skip) continue;
    const w = weight(items[i]);
    if (w > 0) total += w; // negative or NaN weights count as 0
    count++;
  }
  if (count === 0) return -1;
  if (total === 0) {
    // Every weight is 0: uniform among the items not skipped.
    let n = Math.floor(random() * count);
    for (let i = 0; i < items.length; i++) {
      if (i === skip) continue;
      if (n-- === 0) return i;
    }
  }
  let r = random() * total;
  let last = -1;
  for (let i = 0; i < items.length; i++) {
    if (i === skip) continue;
    const w = weight(items[i]);
    if (w <= 0) continue;
    last = i;
    r -= w;
    if (r < 0) return i;
  }
  return last; // floating-point rounding left r a hair above 0
}

/** The weight a policy should use: the configured one, or 1 for all when every weight is 0. */
export function effectiveWeight(candidates: readonly { weight: number }[]): (o: { weight: number }) => number {
  for (const o of candidates) if (o.weight > 0) return (o) => o.weight;
  return () => 1;
}
