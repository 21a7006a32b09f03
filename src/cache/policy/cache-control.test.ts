import { describe, expect, it } from 'vitest';
import { parseCacheControl } from './cache-control.js';
import { parseDeltaSeconds } from './directives.js';

describe('parseCacheControl', () => {
  it('reads the common response directives', () => {
    const d = parseCacheControl('public, max-age=60, s-maxage=120, stale-while-revalidate=30, stale-if-error=600, immutable');
    expect(d).toMatchObject({ public: true, maxAge: 60, sMaxage: 120, staleWhileRevalidate: 30, staleIfError: 600, immutable: true, invalid: false, conflicts: [] });
    expect(d.noStore).toBe(false);
    expect(d.private).toBeUndefined();
  });
  it('is case-insensitive in names and accepts quoted arguments', () => {
    expect(parseCacheControl('Max-Age=60').maxAge).toBe(60);
    expect(parseCacheControl('max-age="60"').maxAge).toBe(60);
    expect(parseCacheControl('nO-StOrE').noStore).toBe(true);
  });
  it('joins repeated field lines into one list', () => {
    expect(parseCacheControl(['max-age=60', 'must-revalidate'])).toMatchObject({ maxAge: 60, mustRevalidate: true });
  });
  it('keeps the first of duplicate values and records the conflict', () => {
    const d = parseCacheControl('max-age=60, max-age=120');
    expect(d.maxAge).toBe(60);
    expect(d.conflicts).toEqual(['max-age']);
    expect(parseCacheControl(['max-age=1', 'max-age=1800']).conflicts).toEqual(['max-age']);
    // The same value twice is no conflict.
    expect(parseCacheControl('max-age=60, max-age="60"').conflicts).toEqual([]);
  });
  it('does not see directives inside quoted strings', () => {
    const d = parseCacheControl('extension="max-age=3600, no-store", max-age=1');
    expect(d.maxAge).toBe(1);
    expect(d.noStore).toBe(false);
    expect(parseCacheControl('foo="a\\"b, max-age=9", max-age=2').maxAge).toBe(2);
  });
  it('marks malformed numeric arguments invalid and reads them as 0', () => {
    for (const v of ['max-age=-1', 'max-age=3600.0', 'max-age=a3600', 'max-age=3600a', "max-age='3600'", 'max-age', 'max-age=', 'max-age =3600', 'max-age= 3600', 'max-age="60']) {
      const d = parseCacheControl(v);
      expect(d.maxAge, v).toBe(0);
      expect(d.invalid, v).toBe(true);
    }
    expect(parseCacheControl('stale-if-error=soon').staleIfError).toBe(0);
  });
  it('skips a malformed element without losing the others', () => {
    const d = parseCacheControl('max-age =5, public, s-maxage=10');
    expect(d).toMatchObject({ maxAge: 0, public: true, sMaxage: 10, invalid: true });
  });
  it('clamps delta-seconds past 2^31 and accepts leading zeros', () => {
    expect(parseCacheControl('max-age=99999999999').maxAge).toBe(2147483648);
    expect(parseCacheControl('max-age=2147483649').maxAge).toBe(2147483648);
    expect(parseCacheControl('max-age=2147483647').maxAge).toBe(2147483647);
    expect(parseCacheControl('max-age=003600').maxAge).toBe(3600);
  });
  it('reads qualified private and no-cache as lowercase field lists', () => {
    const d = parseCacheControl('private="Set-Cookie, X-User", no-cache="x-a"');
    expect(d.private).toEqual(['set-cookie', 'x-user']);
    expect(d.noCache).toEqual(['x-a']);
    expect(parseCacheControl('private=x-token').private).toEqual(['x-token']);
  });
  it('lets the unqualified form win over a qualified one, in any order', () => {
    expect(parseCacheControl('no-cache="a", no-cache').noCache).toBe(true);
    expect(parseCacheControl('private, private="a"').private).toBe(true);
    expect(parseCacheControl('no-cache=""').noCache).toBe(true);
    expect(parseCacheControl('private="a", private="b"').private).toEqual(['a', 'b']);
  });
  it('reads request directives', () => {
    expect(parseCacheControl('max-stale').maxStale).toBe(true);
    expect(parseCacheControl('max-stale=30, min-fresh=5, only-if-cached, no-cache')).toMatchObject({ maxStale: 30, minFresh: 5, onlyIfCached: true, noCache: true });
    const bad = parseCacheControl('max-stale=x');
    expect(bad.maxStale).toBeUndefined();
    expect(bad.invalid).toBe(true);
  });
  it('returns empty directives for empty, missing or junk input', () => {
    for (const v of [undefined, '', ' , ,', [] as string[]]) {
      const d = parseCacheControl(v);
      expect(d.maxAge).toBeUndefined();
      expect(d.noStore).toBe(false);
      expect(d.invalid).toBe(false);
    }
    const junk = parseCacheControl('@@@, ===, "');
    expect(junk.maxAge).toBeUndefined();
    expect(junk.noStore).toBe(false);
  });
  it('ignores unknown extensions', () => {
    expect(parseCacheControl('community="UCI", max-age=5, foo')).toMatchObject({ maxAge: 5, invalid: false });
  });
});

describe('parseDeltaSeconds', () => {
  it('takes non-negative integers only', () => {
    expect(parseDeltaSeconds('0')).toBe(0);
    expect(parseDeltaSeconds('00012')).toBe(12);
    expect(parseDeltaSeconds('')).toBeUndefined();
    expect(parseDeltaSeconds('-1')).toBeUndefined();
    expect(parseDeltaSeconds('1e3')).toBeUndefined();
    expect(parseDeltaSeconds(' 1')).toBeUndefined();
    expect(parseDeltaSeconds('0000000000000000000000001')).toBe(1);
    expect(parseDeltaSeconds('12345678901234567890')).toBe(2147483648);
  });
});
