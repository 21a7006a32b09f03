import { describe, expect, it } from 'vitest';
import { parseCacheControl } from './cache-control.js';
import { entryState } from './lookup.js';
import { T0, testMeta } from './test-meta.js';

const at = (seconds: number) => T0 + seconds * 1000;

describe('entryState', () => {
  it('is fresh while lifetime > age, counting the initial age', () => {
    expect(entryState(testMeta(), at(59))).toMatchObject({ age: 59, fresh: true });
    expect(entryState(testMeta(), at(60)).fresh).toBe(false);
    expect(entryState(testMeta({ initialAge: 50 }), at(10)).fresh).toBe(false);
    expect(entryState(testMeta({ lifetime: 0 }), at(0)).fresh).toBe(false);
  });
  it('is never fresh when no-cache or invalidated', () => {
    expect(entryState(testMeta({ noCache: true }), at(1)).fresh).toBe(false);
    expect(entryState(testMeta({ invalidated: true }), at(1)).fresh).toBe(false);
  });
  it('opens the stale-while-revalidate and stale-if-error windows past the lifetime', () => {
    const meta = testMeta({ staleWhileRevalidate: 30, staleIfError: 600 });
    expect(entryState(meta, at(80))).toMatchObject({ fresh: false, serveStaleWhileRevalidate: true, serveStaleIfError: true });
    expect(entryState(meta, at(90))).toMatchObject({ serveStaleWhileRevalidate: false, serveStaleIfError: true });
    expect(entryState(meta, at(660))).toMatchObject({ serveStaleWhileRevalidate: false, serveStaleIfError: false });
  });
  it('closes the stale windows for must-revalidate, no-cache and invalidated entries', () => {
    for (const over of [{ mustRevalidate: true }, { noCache: true }, { invalidated: true }]) {
      const s = entryState(testMeta({ staleWhileRevalidate: 30, staleIfError: 600, ...over }), at(70));
      expect(s.serveStaleWhileRevalidate).toBe(false);
      expect(s.serveStaleIfError).toBe(false);
    }
  });
  it('ignores request directives unless they are passed', () => {
    expect(entryState(testMeta(), at(30)).fresh).toBe(true);
    expect(entryState(testMeta(), at(30), parseCacheControl('no-cache')).fresh).toBe(false);
  });
  it('honours request max-age and min-fresh', () => {
    expect(entryState(testMeta(), at(30), parseCacheControl('max-age=10')).fresh).toBe(false);
    expect(entryState(testMeta(), at(30), parseCacheControl('max-age=30')).fresh).toBe(true);
    expect(entryState(testMeta(), at(0), parseCacheControl('max-age=0')).fresh).toBe(true);
    expect(entryState(testMeta(), at(30), parseCacheControl('min-fresh=40')).fresh).toBe(false);
    expect(entryState(testMeta(), at(30), parseCacheControl('min-fresh=30')).fresh).toBe(true);
  });
  it('honours request max-stale, but not for must-revalidate entries', () => {
    expect(entryState(testMeta(), at(80), parseCacheControl('max-stale=30')).fresh).toBe(true);
    expect(entryState(testMeta(), at(100), parseCacheControl('max-stale=30')).fresh).toBe(false);
    expect(entryState(testMeta(), at(10_000), parseCacheControl('max-stale')).fresh).toBe(true);
    expect(entryState(testMeta({ mustRevalidate: true }), at(80), parseCacheControl('max-stale')).fresh).toBe(false);
    expect(entryState(testMeta({ noCache: true }), at(1), parseCacheControl('max-stale')).fresh).toBe(false);
  });
  it('allows no stale-while-revalidate to a request with no-cache', () => {
    const meta = testMeta({ staleWhileRevalidate: 30, staleIfError: 30 });
    expect(entryState(meta, at(70), parseCacheControl('no-cache'))).toMatchObject({ serveStaleWhileRevalidate: false, serveStaleIfError: true });
  });
});
