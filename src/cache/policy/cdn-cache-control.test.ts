import { describe, expect, it } from 'vitest';
import { parseCdnCacheControl } from './cdn-cache-control.js';
import { parseDictionary } from './structured-dictionary.js';

describe('parseCdnCacheControl', () => {
  it('reads directives from a Structured Field Dictionary', () => {
    expect(parseCdnCacheControl('max-age=3600')).toMatchObject({ maxAge: 3600 });
    expect(parseCdnCacheControl('foobar, max-age=3600, stale-if-error=60')).toMatchObject({ maxAge: 3600, staleIfError: 60 });
    expect(parseCdnCacheControl('no-store')).toMatchObject({ noStore: true });
    expect(parseCdnCacheControl('private, no-cache')).toMatchObject({ private: true, noCache: true });
    expect(parseCdnCacheControl(['max-age=60', 'must-revalidate'])).toMatchObject({ maxAge: 60, mustRevalidate: true });
  });
  it('clamps large integers like delta-seconds', () => {
    expect(parseCdnCacheControl('max-age=99999999999')?.maxAge).toBe(2147483648);
  });
  it('reads field lists of qualified private / no-cache from a String or an Inner List', () => {
    expect(parseCdnCacheControl('private="set-cookie, x-a"')?.private).toEqual(['set-cookie', 'x-a']);
    expect(parseCdnCacheControl('no-cache=("x-a" x-b)')?.noCache).toEqual(['x-a', 'x-b']);
  });
  it('treats ?0 as absent and ignores parameters', () => {
    expect(parseCdnCacheControl('no-store=?0, max-age=5')).toMatchObject({ noStore: false, maxAge: 5 });
    expect(parseCdnCacheControl('max-age=5;foo=bar')?.maxAge).toBe(5);
  });
  it('keeps the last of duplicate keys, as a Dictionary does', () => {
    expect(parseCdnCacheControl('max-age=5, max-age=10')?.maxAge).toBe(10);
  });
  it('is undefined (the field is ignored) for anything that is not a valid Dictionary', () => {
    for (const v of ['max-age=10000, &&&&&', 'max-age =100', 'max-age= 100', 'MaX-aGe=3600', 'max-age=10,', ',max-age=1', 'max-age="10']) {
      expect(parseCdnCacheControl(v), v).toBeUndefined();
    }
  });
  it('is undefined when a seconds directive has the wrong type', () => {
    for (const v of ['max-age="10000"', 'max-age=1.5', 'max-age=-1', 's-maxage=a', 'max-age']) {
      expect(parseCdnCacheControl(v), v).toBeUndefined();
    }
  });
  it('is undefined when absent or empty (an empty Dictionary is the field left out)', () => {
    expect(parseCdnCacheControl(undefined)).toBeUndefined();
    expect(parseCdnCacheControl('')).toBeUndefined();
    expect(parseCdnCacheControl('  ')).toBeUndefined();
    expect(parseCdnCacheControl(['', 'max-age=5'])?.maxAge).toBe(5);
  });
});

describe('parseDictionary', () => {
  it('parses every bare item type', () => {
    const d = parseDictionary('a=1, b=-2.5, c="x\\"y", d=tok/en:1, e=:aGk=:, f=?0, g, h=(1 "two");p=3');
    expect(d && Object.fromEntries(d)).toEqual({
      a: { type: 'integer', value: 1 },
      b: { type: 'decimal', value: -2.5 },
      c: { type: 'string', value: 'x"y' },
      d: { type: 'token', value: 'tok/en:1' },
      e: { type: 'bytes', value: 'aGk=' },
      f: { type: 'boolean', value: false },
      g: { type: 'boolean', value: true },
      h: {
        type: 'inner-list',
        items: [
          { type: 'integer', value: 1 },
          { type: 'string', value: 'two' },
        ],
      },
    });
  });
  it('rejects malformed members', () => {
    for (const v of ['A=1', 'a=1,,b', 'a=1234567890123456', 'a=1.2345', 'a="\\x"', 'a=?2', 'a=(1', 'a=1 b=2', 'a=', '1a']) {
      expect(parseDictionary(v), v).toBeUndefined();
    }
  });
});
