import { describe, expect, it } from 'vitest';
import { parseHttpDate } from './http-date.js';

const NOW = Date.UTC(2025, 0, 1);
const AUG_18_2050 = Date.UTC(2050, 7, 18, 2, 1, 18);

describe('parseHttpDate', () => {
  it('reads the three formats of RFC 9110 §5.6.7', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994', NOW)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate('Thu Aug 18 02:01:18 2050', NOW)).toBe(AUG_18_2050);
  });
  it('resolves rfc850 two-digit years within 50 years of the reference', () => {
    expect(parseHttpDate('Thursday, 18-Aug-50 02:01:18 GMT', NOW)).toBe(AUG_18_2050);
    expect(parseHttpDate('Thursday, 18-Aug-80 02:01:18 GMT', NOW)).toBe(Date.UTC(1980, 7, 18, 2, 1, 18));
    expect(parseHttpDate('Monday, 01-Jan-01 00:00:00 GMT', Date.UTC(2099, 0, 1))).toBe(Date.UTC(2101, 0, 1));
  });
  it('accepts wrong case in names, and far-future years', () => {
    expect(parseHttpDate('THU, 18 AUG 2050 02:01:18 gMT', NOW)).toBe(AUG_18_2050);
    expect(parseHttpDate('Sun, 21 Nov 2286 04:46:39 GMT', NOW)).toBe(Date.UTC(2286, 10, 21, 4, 46, 39));
    expect(parseHttpDate('  Thu, 18 Aug 2050 02:01:18 GMT ', NOW)).toBe(AUG_18_2050);
  });
  it('rejects everything else', () => {
    for (const v of [
      '0',
      '',
      '-1',
      'garbage',
      '2050-08-18T02:01:18Z',
      'Thu, 18 Aug 2050 02:01:18 UTC',
      'Thu, 18 Aug 2050 02:01:18 AEST',
      'Thu, 18 Aug 50 02:01:18 GMT',
      'Thu 18 Aug 2050 02:01:18 GMT',
      'Thu, 18  Aug  2050 02:01:18 GMT',
      'Thu, 18-Aug-2050 02:01:18 GMT',
      'Thu, 18 Aug 2050 02.01.18 GMT',
      'Thu, 18 Aug 2050 2:01:18 GMT',
      'Thu, 18 Aug 2050 02:01:18 GMT, Thu, 18 Aug 2050 02:01:19 GMT',
      'Xyz, 18 Aug 2050 02:01:18 GMT',
      'Thu, 31 Feb 2050 02:01:18 GMT',
      'Thu, 18 Aug 2050 24:01:18 GMT',
      'Thu, 00 Aug 2050 02:01:18 GMT',
    ]) {
      expect(parseHttpDate(v, NOW), v).toBeUndefined();
    }
    expect(parseHttpDate(undefined, NOW)).toBeUndefined();
  });
});
