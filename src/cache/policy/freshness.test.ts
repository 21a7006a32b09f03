import { describe, expect, it } from 'vitest';
import { parseCacheControl } from './cache-control.js';
import { currentAge, freshnessLifetime, heuristicLifetime, initialAge, parseAge } from './freshness.js';

const T = Date.UTC(2025, 5, 1, 12, 0, 0);
const httpDate = (ms: number) => new Date(ms).toUTCString();

function lifetime(headers: Record<string, string>, responseTime = T): number | undefined {
  return freshnessLifetime(headers, parseCacheControl(headers['cache-control']), responseTime);
}

describe('freshnessLifetime', () => {
  it('prefers s-maxage over max-age over Expires', () => {
    expect(lifetime({ 'cache-control': 'max-age=60, s-maxage=120' })).toBe(120);
    expect(lifetime({ 'cache-control': 's-maxage=10, max-age=3600' })).toBe(10);
    expect(lifetime({ 'cache-control': 'max-age=60', expires: httpDate(T + 3600_000), date: httpDate(T) })).toBe(60);
    expect(lifetime({ 'cache-control': 'max-age=0', expires: httpDate(T + 3600_000) })).toBe(0);
  });
  it('uses Expires minus Date, or minus the response time without a valid Date', () => {
    expect(lifetime({ expires: httpDate(T + 600_000), date: httpDate(T) })).toBe(600);
    expect(lifetime({ expires: httpDate(T + 600_000) })).toBe(600);
    expect(lifetime({ expires: httpDate(T + 600_000), date: 'yesterday' })).toBe(600);
    // Date in the past (slow origin clock): Expires − Date still counts, age will catch up.
    expect(lifetime({ expires: httpDate(T + 600_000), date: httpDate(T - 300_000) })).toBe(900);
    // Date in the future (fast origin clock): the difference is what matters, not our clock.
    expect(lifetime({ expires: httpDate(T + 900_000), date: httpDate(T + 300_000) })).toBe(600);
  });
  it('reads a past, present or invalid Expires as already stale', () => {
    expect(lifetime({ expires: httpDate(T - 1000), date: httpDate(T) })).toBe(0);
    expect(lifetime({ expires: httpDate(T), date: httpDate(T) })).toBe(0);
    expect(lifetime({ expires: '0' })).toBe(0);
    expect(lifetime({ expires: '' })).toBe(0);
    expect(lifetime({ expires: 'never' })).toBe(0);
    expect(lifetime({ expires: `${httpDate(T + 600_000)}, ${httpDate(T + 900_000)}` })).toBe(0);
  });
  it('reads conflicting or malformed freshness directives as already stale', () => {
    expect(lifetime({ 'cache-control': 'max-age=60, max-age=120' })).toBe(0);
    expect(lifetime({ 'cache-control': 'max-age=-5' })).toBe(0);
    expect(lifetime({ 'cache-control': 'max-age=abc', expires: httpDate(T + 600_000) })).toBe(0);
    expect(lifetime({ 'cache-control': 's-maxage=5, s-maxage=6, max-age=100' })).toBe(0);
    // A conflict in max-age does not matter when s-maxage governs.
    expect(lifetime({ 'cache-control': 's-maxage=30, max-age=1, max-age=2' })).toBe(30);
  });
  it('is undefined without explicit freshness', () => {
    expect(lifetime({})).toBeUndefined();
    expect(lifetime({ 'cache-control': 'public', 'last-modified': httpDate(T - 1000_000) })).toBeUndefined();
  });
});

describe('heuristicLifetime', () => {
  const lm = (secondsAgo: number) => ({ date: httpDate(T), 'last-modified': httpDate(T - secondsAgo * 1000) });
  it('takes 10% of the time since Last-Modified, capped', () => {
    expect(heuristicLifetime(200, lm(1000), T)).toBe(100);
    expect(heuristicLifetime(200, lm(1000), T, 0.5)).toBe(500);
    expect(heuristicLifetime(200, lm(365 * 86400), T)).toBe(86400);
    expect(heuristicLifetime(200, lm(365 * 86400), T, 0.1, 3600)).toBe(3600);
  });
  it('measures to the response time when Date is missing', () => {
    expect(heuristicLifetime(200, { 'last-modified': httpDate(T - 1000_000) }, T)).toBe(100);
  });
  it('applies only to heuristically cacheable statuses, or with public', () => {
    for (const s of [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]) expect(heuristicLifetime(s, lm(1000), T), String(s)).toBe(100);
    for (const s of [201, 302, 303, 307, 400, 403, 500, 502, 503]) expect(heuristicLifetime(s, lm(1000), T), String(s)).toBeUndefined();
    expect(heuristicLifetime(302, { ...lm(1000), 'cache-control': 'public' }, T)).toBe(100);
  });
  it('is undefined without a usable Last-Modified', () => {
    expect(heuristicLifetime(200, { date: httpDate(T) }, T)).toBeUndefined();
    expect(heuristicLifetime(200, { date: httpDate(T), 'last-modified': 'garbage' }, T)).toBeUndefined();
    expect(heuristicLifetime(200, { date: httpDate(T), 'last-modified': httpDate(T + 60_000) }, T)).toBeUndefined();
  });
});

describe('parseAge', () => {
  it('takes the first member of a list and ignores invalid values', () => {
    expect(parseAge('30')).toBe(30);
    expect(parseAge('1, 2')).toBe(1);
    expect(parseAge('7200, 0')).toBe(7200);
    expect(parseAge('abc')).toBeUndefined();
    expect(parseAge('-7200')).toBeUndefined();
    expect(parseAge('7200.0')).toBeUndefined();
    expect(parseAge('7200;foo=bar')).toBeUndefined();
    expect(parseAge('')).toBeUndefined();
    expect(parseAge(undefined)).toBeUndefined();
    expect(parseAge('99999999999')).toBe(2147483648);
  });
});

describe('initialAge', () => {
  it('adds the response delay to Age (corrected_age_value)', () => {
    expect(initialAge({ age: '30', date: httpDate(T) }, T - 2000, T)).toBe(32);
  });
  it('uses apparent age when Date is older than Age says', () => {
    expect(initialAge({ age: '10', date: httpDate(T - 100_000) }, T - 500, T)).toBe(100);
  });
  it('never lets a Date from the future make the age negative', () => {
    expect(initialAge({ date: httpDate(T + 100_000) }, T - 500, T)).toBe(0);
  });
  it('ignores an invalid Age and a missing Date', () => {
    expect(initialAge({ age: 'abc' }, T - 1500, T)).toBe(1);
    expect(initialAge({ age: '1, 2' }, T, T)).toBe(1);
    expect(initialAge({}, T, T)).toBe(0);
  });
  it('stays large for a huge Age', () => {
    expect(initialAge({ age: '2147483648', date: httpDate(T) }, T, T)).toBe(2147483648);
  });
});

describe('currentAge', () => {
  it('adds resident time to the initial age', () => {
    expect(currentAge({ initialAge: 10, responseTime: T }, T + 5000)).toBe(15);
    expect(currentAge({ initialAge: 0, responseTime: T }, T + 1500)).toBe(1.5);
  });
  it('does not go backwards with the clock', () => {
    expect(currentAge({ initialAge: 10, responseTime: T }, T - 5000)).toBe(10);
  });
});
