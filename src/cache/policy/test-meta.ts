/** A StoredMeta for tests: a fresh 200 stored at `responseTime`, overridable field by field. */
import type { StoredMeta } from '../types.js';

export const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);

export function testMeta(over: Partial<StoredMeta> = {}): StoredMeta {
  return {
    key: 'https://example.com/a',
    url: 'https://example.com/a',
    host: 'example.com',
    status: 200,
    headers: {},
    requestTime: T0,
    responseTime: T0,
    initialAge: 0,
    lifetime: 60,
    staleWhileRevalidate: 0,
    staleIfError: 0,
    mustRevalidate: false,
    noCache: false,
    vary: [],
    tags: [],
    size: 1000,
    ...over,
  };
}
