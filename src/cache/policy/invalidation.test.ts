import { describe, expect, it } from 'vitest';
import { invalidatedUrls, isUnsafeMethod } from './invalidation.js';

const URL_A = 'https://example.com/a?x=1';

describe('invalidatedUrls', () => {
  it('invalidates the request URL after a successful unsafe request', () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'PURGEX']) expect(invalidatedUrls(method, 200, URL_A, {}), method).toEqual([URL_A]);
    expect(invalidatedUrls('POST', 303, URL_A, {})).toEqual([URL_A]);
  });
  it('invalidates nothing for safe methods or error statuses', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) expect(invalidatedUrls(method, 200, URL_A, {})).toEqual([]);
    for (const status of [100, 400, 404, 500, 503]) expect(invalidatedUrls('POST', status, URL_A, {})).toEqual([]);
  });
  it('adds Location and Content-Location on the same origin, resolved and normalized', () => {
    expect(invalidatedUrls('POST', 201, URL_A, { location: '/b', 'content-location': 'https://EXAMPLE.com:443/c#frag' })).toEqual([URL_A, 'https://example.com/b', 'https://example.com/c']);
    expect(invalidatedUrls('PUT', 200, URL_A, { 'content-location': URL_A })).toEqual([URL_A]);
  });
  it('ignores other origins and garbage', () => {
    expect(invalidatedUrls('POST', 201, URL_A, { location: 'https://other.com/b', 'content-location': 'http://example.com/c' })).toEqual([URL_A]);
    expect(invalidatedUrls('POST', 201, URL_A, { location: 'https://example.com:8443/b' })).toEqual([URL_A]);
    expect(invalidatedUrls('POST', 201, URL_A, { location: 'http://[bad', 'content-location': '' })).toEqual([URL_A]);
    expect(invalidatedUrls('POST', 201, URL_A, { location: 'javascript:alert(1)' })).toEqual([URL_A]);
    expect(invalidatedUrls('POST', 200, 'not a url', {})).toEqual([]);
  });
  it('isUnsafeMethod is case-sensitive', () => {
    expect(isUnsafeMethod('get')).toBe(true);
    expect(isUnsafeMethod('GET')).toBe(false);
  });
});
