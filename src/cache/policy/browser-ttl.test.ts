import { describe, expect, it } from 'vitest';
import { clientCacheControl } from './browser-ttl.js';

describe('clientCacheControl', () => {
  it('returns the origin value without a browser TTL', () => {
    expect(clientCacheControl('max-age=10, s-maxage=60', undefined)).toBe('max-age=10, s-maxage=60');
    expect(clientCacheControl(undefined, undefined)).toBeUndefined();
  });
  it('sets max-age when the origin has none or a lower one', () => {
    expect(clientCacheControl(undefined, 3600)).toBe('max-age=3600');
    expect(clientCacheControl('', 3600)).toBe('max-age=3600');
    expect(clientCacheControl('public, max-age=60, immutable', 3600)).toBe('public, max-age=3600, immutable');
    expect(clientCacheControl('public', 3600)).toBe('public, max-age=3600');
  });
  it('keeps a higher origin max-age', () => {
    expect(clientCacheControl('max-age=86400, public', 3600)).toBe('max-age=86400, public');
  });
  it('drops s-maxage, which is for this cache', () => {
    expect(clientCacheControl('s-maxage=600, stale-while-revalidate=30', 3600)).toBe('stale-while-revalidate=30, max-age=3600');
    expect(clientCacheControl('max-age=60, s-maxage=600', 30)).toBe('max-age=60');
  });
  it('replaces a malformed or repeated max-age', () => {
    expect(clientCacheControl('max-age=abc, public', 300)).toBe('max-age=300, public');
    expect(clientCacheControl('max-age=9999, max-age=1', 300)).toBe('max-age=300');
  });
  it('leaves private, no-store and no-cache responses alone', () => {
    expect(clientCacheControl('private, max-age=60', 3600)).toBe('private, max-age=60');
    expect(clientCacheControl('no-store', 3600)).toBe('no-store');
    expect(clientCacheControl('no-cache', 3600)).toBe('no-cache');
    expect(clientCacheControl('private="set-cookie", max-age=5', 3600)).toBe('private="set-cookie", max-age=5');
  });
});
