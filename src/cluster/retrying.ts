/**
 * `fn()` again every 100 ms while it rejects, until `ms` have passed (then its last rejection).
 * For what a process does once at start, when a connection to Redis may still be opening: no
 * command waits in an offline queue (redis-link.ts), so the first ones fail fast.
 */
export async function retrying<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
