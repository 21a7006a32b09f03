import { describe, expect, it } from 'vitest';
import { testMeta } from './test-meta.js';
import { secondaryKey, varyMatches } from './vary.js';

describe('secondaryKey', () => {
  it('is empty without Vary', () => {
    expect(secondaryKey([], { 'accept-encoding': 'gzip' })).toBe('');
  });
  it('combines repeated lines and normalizes list whitespace', () => {
    const a = secondaryKey(['accept-encoding'], { 'accept-encoding': 'gzip, br' });
    expect(secondaryKey(['accept-encoding'], { 'accept-encoding': ['gzip', 'br'] })).toBe(a);
    expect(secondaryKey(['accept-encoding'], { 'accept-encoding': '  gzip ,br  ' })).toBe(a);
    expect(secondaryKey(['accept-encoding'], { 'accept-encoding': 'br, gzip' })).not.toBe(a);
  });
  it('keeps commas and spaces inside quoted strings', () => {
    expect(secondaryKey(['x'], { x: '"a, b"' })).not.toBe(secondaryKey(['x'], { x: '"a,b"' }));
  });
  it('distinguishes a missing field from an empty one', () => {
    expect(secondaryKey(['x-a'], {})).not.toBe(secondaryKey(['x-a'], { 'x-a': '' }));
  });
  it('cannot confuse names with values', () => {
    expect(secondaryKey(['a', 'b'], { a: 'x', b: 'y' })).not.toBe(secondaryKey(['a', 'b'], { a: 'x","b', b: 'y' }));
    expect(secondaryKey(['a', 'b'], { a: 'x,y' })).not.toBe(secondaryKey(['a', 'b'], { a: 'x', b: 'y' }));
  });
});

describe('varyMatches', () => {
  const vary = ['accept-encoding', 'accept-language'];
  const headers = { 'accept-encoding': 'gzip', 'accept-language': 'fr' };
  const meta = testMeta({ vary, key: `https://example.com/a\u0000${secondaryKey(vary, headers)}` });
  it('matches the request the entry was stored for', () => {
    expect(varyMatches(meta, headers)).toBe(true);
    expect(varyMatches(meta, { 'accept-encoding': 'gzip', 'accept-language': ' fr ' })).toBe(true);
  });
  it('does not match other values, or a missing field', () => {
    expect(varyMatches(meta, { 'accept-encoding': 'br', 'accept-language': 'fr' })).toBe(false);
    expect(varyMatches(meta, { 'accept-encoding': 'gzip' })).toBe(false);
  });
  it('always matches without Vary and never with Vary: *', () => {
    expect(varyMatches(testMeta(), { anything: '1' })).toBe(true);
    expect(varyMatches(testMeta({ vary: ['*'] }), {})).toBe(false);
  });
});
