import { describe, expect, it } from 'vitest';
import { testMeta } from './test-meta.js';
import { mergeNotModified, notModifiedMatches, revalidationHeaders } from './validation.js';

const LM = 'Wed, 01 Jan 2020 00:00:00 GMT';

describe('revalidationHeaders', () => {
  it('sends the stored validators', () => {
    expect(revalidationHeaders(testMeta({ headers: { etag: '"v1"', 'last-modified': LM } }))).toEqual({ 'if-none-match': '"v1"', 'if-modified-since': LM });
    expect(revalidationHeaders(testMeta({ headers: { etag: 'W/"v1"' } }))).toEqual({ 'if-none-match': 'W/"v1"' });
    expect(revalidationHeaders(testMeta({ headers: { etag: '', 'content-type': 'text/plain' } }))).toEqual({});
  });
});

describe('mergeNotModified', () => {
  const stored = { 'content-type': 'text/plain', 'content-length': '36', 'content-encoding': 'gzip', 'cache-control': 'max-age=1', etag: '"a"', 'x-test': 'A', date: LM };
  it('replaces stored fields with those of the 304 and keeps the others', () => {
    const merged = mergeNotModified(stored, { 'cache-control': 'max-age=3600', 'x-test': 'B', 'content-foo': 'new', date: 'Thu, 02 Jan 2020 00:00:00 GMT' });
    expect(merged).toMatchObject({ 'cache-control': 'max-age=3600', 'x-test': 'B', 'content-foo': 'new', 'content-type': 'text/plain', etag: '"a"', date: 'Thu, 02 Jan 2020 00:00:00 GMT' });
  });
  it('never updates Content-Length, Content-Encoding or Content-Range', () => {
    const merged = mergeNotModified(stored, { 'content-length': '10', 'content-encoding': 'br', 'content-range': 'bytes 0-9/10' });
    expect(merged['content-length']).toBe('36');
    expect(merged['content-encoding']).toBe('gzip');
    expect(merged['content-range']).toBeUndefined();
  });
  it('does not take hop-by-hop, Connection-named, proxy, Set-Cookie, Age or Cache-Tag fields', () => {
    const merged = mergeNotModified(stored, {
      connection: 'x-hop',
      'x-hop': '1',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'proxy-authenticate': 'Basic',
      'set-cookie': 'a=b',
      age: '10',
      'cache-tag': 'x',
    });
    expect(merged).toEqual(stored);
  });
  it('drops a stored field that the new Cache-Control makes private', () => {
    const merged = mergeNotModified(stored, { 'cache-control': 'max-age=60, private="x-test"' });
    expect(merged['x-test']).toBeUndefined();
  });
});

describe('notModifiedMatches', () => {
  const meta = testMeta({ headers: { etag: '"v1"', 'last-modified': LM } });
  it('needs a strong ETag to match strongly', () => {
    expect(notModifiedMatches(meta, { etag: '"v1"' })).toBe(true);
    expect(notModifiedMatches(meta, { etag: '"v2"' })).toBe(false);
    expect(notModifiedMatches(testMeta({ headers: { etag: 'W/"v1"' } }), { etag: '"v1"' })).toBe(false);
    expect(notModifiedMatches(testMeta({ headers: {} }), { etag: '"v1"' })).toBe(false);
  });
  it('matches a weak ETag weakly', () => {
    expect(notModifiedMatches(meta, { etag: 'W/"v1"' })).toBe(true);
    expect(notModifiedMatches(meta, { etag: 'W/"v2"' })).toBe(false);
  });
  it('rejects a malformed ETag', () => {
    expect(notModifiedMatches(meta, { etag: 'v1' })).toBe(false);
  });
  it('compares Last-Modified when there is no ETag', () => {
    expect(notModifiedMatches(meta, { 'last-modified': LM })).toBe(true);
    expect(notModifiedMatches(meta, { 'last-modified': 'Thu, 02 Jan 2020 00:00:00 GMT' })).toBe(false);
  });
  it('accepts a 304 without validators for the entry it revalidated', () => {
    expect(notModifiedMatches(meta, { date: LM })).toBe(true);
  });
});
