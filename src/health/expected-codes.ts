/**
 * `expectedCodes` (`2xx`, `200`, `200,301`, `2xx,304`) → a status predicate. The schema checks
 * the syntax at load; this throws on anything else so a probe built by hand cannot silently
 * accept every status.
 */
export function expectedCodes(spec: string): (status: number) => boolean {
  const exact = new Set<number>();
  const classes = new Set<number>();
  for (const raw of spec.split(',')) {
    const token = raw.trim().toLowerCase();
    if (/^[1-5]xx$/.test(token)) classes.add(Number(token[0]));
    else if (/^[1-5]\d\d$/.test(token)) exact.add(Number(token));
    else throw new Error(`expected status codes such as 2xx, 200 or 200,301, got "${spec}"`);
  }
  return (status) => exact.has(status) || classes.has(Math.floor(status / 100));
}
