import { describe, expect, it } from 'vitest';
import { purgeHost, purgePrefixes } from './purge-target.js';

describe('purge prefixes as cache keys (host without port)', () => {
  it('drops an explicit port, default or not', () => {
    expect(purgePrefixes('http://Example.com:8080/static/')).toEqual(['http://example.com/static/']);
    expect(purgePrefixes('https://example.com:443/a')).toEqual(['https://example.com/a']);
    expect(purgePrefixes('example.com:8080/static/')).toEqual(['http://example.com/static/', 'https://example.com/static/']);
  });

  it('a host written whole with its port ends there: no match for a longer host name', () => {
    expect(purgePrefixes('http://example.com:8080')).toEqual(['http://example.com/']);
    expect(purgePrefixes('http://example.co')).toEqual(['http://example.co']); // a partial host stays a prefix, as before
  });

  it('keeps the path as written and IPv6 literals in brackets', () => {
    expect(purgePrefixes('http://[::1]:8080/Static/')).toEqual(['http://[::1]/Static/']);
    expect(purgePrefixes('  https://example.com/x  ')).toEqual(['https://example.com/x']);
  });

  it('hosts: lowercase, port dropped', () => {
    expect(purgeHost('Example.com:8080')).toBe('example.com');
    expect(purgeHost('[2001:db8::1]:443')).toBe('[2001:db8::1]');
    expect(purgeHost('example.com')).toBe('example.com');
  });
});
