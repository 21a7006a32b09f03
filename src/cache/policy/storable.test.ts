import { describe, expect, it } from 'vitest';
import { parseCacheControl } from './cache-control.js';
import { authorizationAllows, cacheTags, decideFill, forbidsStorage, isStorableStatus, isUnderstoodStatus, varyNames, type FillInput } from './storable.js';

const T = Date.UTC(2025, 5, 1, 12, 0, 0);
const httpDate = (ms: number) => new Date(ms).toUTCString();

function input(responseHeaders: Record<string, string>, over: Partial<FillInput> = {}): FillInput {
  return {
    method: 'GET',
    requestHeaders: {},
    status: 200,
    responseHeaders: { date: httpDate(T), ...responseHeaders },
    requestTime: T,
    responseTime: T,
    level: 'standard',
    originCacheControl: true,
    defaultTtl: () => undefined,
    heuristicFraction: 0.1,
    ...over,
  };
}

function reason(i: FillInput): string | undefined {
  const d = decideFill(i);
  return d.store ? undefined : d.reason;
}

function stored(i: FillInput) {
  const d = decideFill(i);
  if (!d.store) throw new Error(`not stored: ${d.reason}`);
  return d;
}

describe('decideFill: what is stored', () => {
  it('stores a GET 200 with max-age', () => {
    const d = stored(input({ 'cache-control': 'max-age=60' }));
    expect(d).toMatchObject({ lifetime: 60, staleWhileRevalidate: 0, staleIfError: 0, mustRevalidate: false, noCache: false, vary: [], tags: [], initialAge: 0 });
  });
  it('stores only GET', () => {
    for (const method of ['HEAD', 'POST', 'PUT', 'get']) expect(reason(input({ 'cache-control': 'max-age=60' }, { method })), method).toBe('method');
  });
  it('refuses 206, 304 and non-final statuses, and accepts other finals with explicit freshness', () => {
    for (const status of [100, 101, 206, 304, 0, 600, 200.5]) expect(reason(input({ 'cache-control': 'max-age=60' }, { status })), String(status)).toBe('status');
    for (const status of [201, 302, 307, 400, 403, 500, 503, 599]) expect(stored(input({ 'cache-control': 'max-age=60' }, { status })).lifetime, String(status)).toBe(60);
  });
  it('refuses no-store, any case, unless must-understand with an understood status', () => {
    expect(reason(input({ 'cache-control': 'no-store, max-age=60', expires: httpDate(T + 60_000) }))).toBe('no-store');
    expect(reason(input({ 'cache-control': 'nO-StOrE' }))).toBe('no-store');
    expect(stored(input({ 'cache-control': 'no-store, must-understand, max-age=60' })).lifetime).toBe(60);
    expect(reason(input({ 'cache-control': 'no-store, must-understand, max-age=60' }, { status: 299 }))).toBe('must-understand');
  });
  it('refuses unqualified private and stores qualified private without the named fields', () => {
    expect(reason(input({ 'cache-control': 'private, max-age=60' }))).toBe('private');
    const d = stored(input({ 'cache-control': 'private="x-user", max-age=60', 'x-user': 'alice', 'x-other': '1' }));
    expect(d.headers['x-user']).toBeUndefined();
    expect(d.headers['x-other']).toBe('1');
  });
  it('refuses Vary: *, in any position or spacing', () => {
    for (const vary of ['*', '*, *', ', *', 'Foo, *', ' accept ,*']) expect(reason(input({ 'cache-control': 'max-age=60', vary })), vary).toBe('vary');
  });
  it('refuses a response to Authorization unless public, must-revalidate or s-maxage', () => {
    const auth = { requestHeaders: { authorization: 'Bearer x' } };
    expect(reason(input({ 'cache-control': 'max-age=60' }, auth))).toBe('authorization');
    expect(stored(input({ 'cache-control': 'public, max-age=60' }, auth)).lifetime).toBe(60);
    expect(stored(input({ 'cache-control': 'max-age=60, must-revalidate' }, auth)).lifetime).toBe(60);
    expect(stored(input({ 'cache-control': 's-maxage=60' }, auth)).lifetime).toBe(60);
  });
  it('refuses Set-Cookie responses', () => {
    expect(reason(input({ 'cache-control': 'max-age=60', 'set-cookie': 'a=b' }))).toBe('set-cookie');
  });
  it('honours the request no-store', () => {
    expect(reason(input({ 'cache-control': 'max-age=60' }, { requestHeaders: { 'cache-control': 'no-store' } }))).toBe('request-no-store');
  });
});

describe('decideFill: CDN-Cache-Control', () => {
  it('replaces Cache-Control when valid', () => {
    expect(stored(input({ 'cache-control': 'max-age=1', 'cdn-cache-control': 'max-age=3600' })).lifetime).toBe(3600);
    expect(stored(input({ 'cache-control': 'max-age=3600', 'cdn-cache-control': 'max-age=1' })).lifetime).toBe(1);
    expect(stored(input({ 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=600' })).lifetime).toBe(600);
    expect(reason(input({ 'cache-control': 'max-age=600', 'cdn-cache-control': 'no-store' }))).toBe('no-store');
    expect(reason(input({ 'cache-control': 'max-age=600', 'cdn-cache-control': 'private' }))).toBe('private');
    expect(stored(input({ 'cdn-cache-control': 'max-age=3600', expires: '0' })).lifetime).toBe(3600);
  });
  it('is ignored when invalid', () => {
    expect(reason(input({ 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=10000, &&&&&' }))).toBe('no-store');
    expect(reason(input({ 'cache-control': 'no-store', 'cdn-cache-control': 'max-age="10000"' }))).toBe('no-store');
    expect(stored(input({ 'cache-control': 'max-age=5', 'cdn-cache-control': 'Max-Age=100' })).lifetime).toBe(5);
    expect(stored(input({ 'cache-control': 'max-age=5', 'cdn-cache-control': '' })).lifetime).toBe(5);
  });
  it('keeps both fields in the stored headers', () => {
    const d = stored(input({ 'cache-control': 'max-age=1', 'cdn-cache-control': 'max-age=3600' }));
    expect(d.headers).toMatchObject({ 'cache-control': 'max-age=1', 'cdn-cache-control': 'max-age=3600' });
  });
});

describe('decideFill: lifetime', () => {
  const lm = { 'last-modified': httpDate(T - 1000_000) };
  it('falls back to a heuristic at level standard, else does not store', () => {
    expect(stored(input(lm)).lifetime).toBe(100);
    expect(stored(input(lm, { heuristicFraction: 0.2 })).lifetime).toBe(200);
    expect(reason(input({}))).toBe('no-freshness');
    expect(reason(input(lm, { status: 302 }))).toBe('no-freshness');
    expect(stored(input(lm, { defaultTtl: () => 300 })).lifetime).toBe(100); // default TTLs are for level everything
  });
  it('at level everything uses the edge TTL, then the default TTL of the status, then a heuristic', () => {
    const everything = { level: 'everything' as const };
    expect(stored(input(lm, { ...everything, edgeTtl: 50, defaultTtl: () => 300 })).lifetime).toBe(50);
    expect(stored(input(lm, { ...everything, defaultTtl: (s) => (s === 200 ? 300 : undefined) })).lifetime).toBe(300);
    expect(stored(input(lm, everything)).lifetime).toBe(100);
    expect(reason(input({}, everything))).toBe('no-freshness');
    expect(stored(input({}, { ...everything, status: 404, defaultTtl: (s) => (s === 404 ? 60 : undefined) })).lifetime).toBe(60);
  });
  it('with originCacheControl on, uses the edge TTL only without explicit freshness', () => {
    expect(stored(input({ 'cache-control': 'max-age=10' }, { edgeTtl: 3600 })).lifetime).toBe(10);
    expect(stored(input({}, { edgeTtl: 3600 })).lifetime).toBe(3600);
    expect(reason(input({ 'cache-control': 'no-store' }, { edgeTtl: 3600 }))).toBe('no-store');
  });
  it('with originCacheControl off, the edge TTL overrides the origin entirely', () => {
    const rule = { edgeTtl: 3600, originCacheControl: false };
    expect(stored(input({ 'cache-control': 'max-age=10' }, rule)).lifetime).toBe(3600);
    expect(stored(input({ 'cache-control': 'no-store' }, rule)).lifetime).toBe(3600);
    expect(stored(input({ 'cache-control': 'private' }, rule)).lifetime).toBe(3600);
    const nc = stored(input({ 'cache-control': 'no-cache' }, rule));
    expect(nc.noCache).toBe(false);
    const sc = stored(input({ 'set-cookie': 'session=1', 'x-a': '1' }, rule));
    expect(sc.headers['set-cookie']).toBeUndefined();
    expect(sc.headers['x-a']).toBe('1');
    // Not for errors or temporary redirects: those keep the origin's word.
    expect(reason(input({ 'cache-control': 'no-store' }, { ...rule, status: 500 }))).toBe('no-store');
    expect(reason(input({}, { ...rule, status: 302 }))).toBe('no-freshness');
    // Nor for authorized requests (§3.5).
    expect(reason(input({}, { ...rule, requestHeaders: { authorization: 'Basic x' } }))).toBe('authorization');
  });
  it('without an edge TTL, originCacheControl off changes nothing', () => {
    expect(reason(input({ 'cache-control': 'no-store' }, { originCacheControl: false }))).toBe('no-store');
  });
  it('stores a zero lifetime only with a validator', () => {
    expect(reason(input({ 'cache-control': 'max-age=0' }))).toBe('zero-lifetime');
    expect(stored(input({ 'cache-control': 'max-age=0', etag: '"a"' })).lifetime).toBe(0);
    expect(stored(input({ expires: '0', 'last-modified': httpDate(T - 1000_000) })).lifetime).toBe(0);
    expect(reason(input({ expires: 'garbage' }))).toBe('zero-lifetime');
  });
  it('reads duplicate or invalid freshness as stale, never throwing', () => {
    expect(reason(input({ 'cache-control': 'max-age=60, max-age=120' }))).toBe('zero-lifetime');
    expect(stored(input({ 'cache-control': 'max-age=60, max-age=120', etag: '"x"' })).lifetime).toBe(0);
    expect(stored(input({ 'cache-control': 'max-age="60"' })).lifetime).toBe(60);
    expect(stored(input({ 'cache-control': 'Max-Age=60' })).lifetime).toBe(60);
    expect(reason(input({ 'cache-control': 'max-age=-1' }))).toBe('zero-lifetime');
  });
  it('stores the initial age (Age plus response delay)', () => {
    expect(stored(input({ 'cache-control': 'max-age=600', age: '30' }, { requestTime: T - 2000 })).initialAge).toBe(32);
    expect(stored(input({ 'cache-control': 'max-age=600', age: 'abc' })).initialAge).toBe(0);
  });
});

describe('decideFill: flags, vary, tags, headers', () => {
  it('stores no-cache only with a validator, flagged', () => {
    expect(reason(input({ 'cache-control': 'no-cache, max-age=60' }))).toBe('no-cache');
    expect(stored(input({ 'cache-control': 'no-cache, max-age=60', etag: '"v"' })).noCache).toBe(true);
    // Without any freshness too: it is revalidated on every use anyway (§5.2.2.4).
    expect(stored(input({ 'cache-control': 'no-cache', etag: '"v"' }))).toMatchObject({ noCache: true, lifetime: 0 });
    expect(reason(input({ 'cache-control': 'no-cache' }))).toBe('no-freshness');
    const q = stored(input({ 'cache-control': 'no-cache="x-a", max-age=60', 'x-a': '1' }));
    expect(q.noCache).toBe(false);
    expect(q.headers['x-a']).toBeUndefined();
  });
  it('sets mustRevalidate for must-revalidate, proxy-revalidate and s-maxage, and then no stale windows', () => {
    for (const cc of ['max-age=60, must-revalidate', 'max-age=60, proxy-revalidate', 's-maxage=60']) {
      const d = stored(input({ 'cache-control': `${cc}, stale-while-revalidate=30, stale-if-error=600` }));
      expect(d.mustRevalidate, cc).toBe(true);
      expect(d.staleWhileRevalidate, cc).toBe(0);
      expect(d.staleIfError, cc).toBe(0);
    }
    const d = stored(input({ 'cache-control': 'max-age=60, stale-while-revalidate=30, stale-if-error=600' }));
    expect(d).toMatchObject({ mustRevalidate: false, staleWhileRevalidate: 30, staleIfError: 600 });
    expect(stored(input({ 'cache-control': 'max-age=60, stale-if-error=x' })).staleIfError).toBe(0);
  });
  it('normalizes Vary and Cache-Tag', () => {
    const d = stored(input({ 'cache-control': 'max-age=60', vary: ' Accept-Encoding ,accept-language,, ACCEPT-ENCODING', 'cache-tag': 'Blog, ,post-1,blog ' }));
    expect(d.vary).toEqual(['accept-encoding', 'accept-language']);
    expect(d.tags).toEqual(['blog', 'post-1']);
    expect(d.headers['cache-tag']).toBeUndefined();
    expect(d.headers.vary).toBe(' Accept-Encoding ,accept-language,, ACCEPT-ENCODING');
  });
  it('keeps end-to-end fields and drops hop-by-hop, Connection-named, proxy, Age fields', () => {
    const d = stored(
      input({
        'cache-control': 'max-age=60',
        connection: 'close, X-Hop',
        'x-hop': '1',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'proxy-authenticate': 'Basic',
        age: '3',
        'content-type': 'text/html',
        'x-frame-options': 'deny',
      }),
    );
    expect(Object.keys(d.headers).sort()).toEqual(['cache-control', 'content-type', 'date', 'x-frame-options']);
  });
});

describe('the small rules', () => {
  it('isStorableStatus and isUnderstoodStatus', () => {
    expect(isStorableStatus(200)).toBe(true);
    expect(isStorableStatus(206)).toBe(false);
    expect(isUnderstoodStatus(404)).toBe(true);
    expect(isUnderstoodStatus(299)).toBe(false);
  });
  it('forbidsStorage', () => {
    expect(forbidsStorage(parseCacheControl('no-store'), 200)).toBe('no-store');
    expect(forbidsStorage(parseCacheControl('no-store, must-understand'), 200)).toBeUndefined();
    expect(forbidsStorage(parseCacheControl('must-understand'), 299)).toBe('must-understand');
    expect(forbidsStorage(parseCacheControl('private="a"'), 200)).toBeUndefined();
    expect(forbidsStorage(parseCacheControl(''), 200)).toBeUndefined();
  });
  it('authorizationAllows', () => {
    expect(authorizationAllows({}, parseCacheControl('max-age=5'))).toBe(true);
    expect(authorizationAllows({ authorization: '' }, parseCacheControl('max-age=5'))).toBe(false);
    expect(authorizationAllows({ authorization: 'x' }, parseCacheControl('proxy-revalidate, max-age=5'))).toBe(false);
  });
  it('varyNames and cacheTags on empty values', () => {
    expect(varyNames({ vary: '' })).toEqual([]);
    expect(varyNames({})).toEqual([]);
    expect(cacheTags({ 'cache-tag': ' , ' })).toEqual([]);
  });
});
