import { describe, expect, it } from 'vitest';
import { evaluatePreconditions } from './preconditions.js';
import { T0, testMeta } from './test-meta.js';

const LM = 'Wed, 01 Jan 2020 00:00:00 GMT';
const BEFORE = 'Tue, 31 Dec 2019 00:00:00 GMT';
const AFTER = 'Thu, 02 Jan 2020 00:00:00 GMT';
const meta = testMeta({ headers: { etag: '"v1"', 'last-modified': LM } });
const weakMeta = testMeta({ headers: { etag: 'W/"v1"' } });

describe('evaluatePreconditions', () => {
  it('is 200 without preconditions', () => {
    expect(evaluatePreconditions('GET', {}, meta)).toBe(200);
  });
  it('If-None-Match: weak comparison, star, lists; 304 for GET/HEAD, 412 otherwise', () => {
    expect(evaluatePreconditions('GET', { 'if-none-match': '"v1"' }, meta)).toBe(304);
    expect(evaluatePreconditions('HEAD', { 'if-none-match': 'W/"v1"' }, meta)).toBe(304);
    expect(evaluatePreconditions('GET', { 'if-none-match': '"v1"' }, weakMeta)).toBe(304);
    expect(evaluatePreconditions('GET', { 'if-none-match': '"x", "v1"' }, meta)).toBe(304);
    expect(evaluatePreconditions('GET', { 'if-none-match': ['"x"', '"v1"'] }, meta)).toBe(304);
    expect(evaluatePreconditions('GET', { 'if-none-match': '*' }, meta)).toBe(304);
    expect(evaluatePreconditions('GET', { 'if-none-match': '"v2"' }, meta)).toBe(200);
    expect(evaluatePreconditions('GET', { 'if-none-match': 'v1' }, meta)).toBe(200);
    expect(evaluatePreconditions('POST', { 'if-none-match': '"v1"' }, meta)).toBe(412);
  });
  it('If-Match: strong comparison', () => {
    expect(evaluatePreconditions('GET', { 'if-match': '"v1"' }, meta)).toBe(200);
    expect(evaluatePreconditions('GET', { 'if-match': '*' }, meta)).toBe(200);
    expect(evaluatePreconditions('GET', { 'if-match': '"v2"' }, meta)).toBe(412);
    expect(evaluatePreconditions('GET', { 'if-match': '"v1"' }, weakMeta)).toBe(412);
    expect(evaluatePreconditions('GET', { 'if-match': 'W/"v1"' }, meta)).toBe(412);
    expect(evaluatePreconditions('GET', { 'if-match': 'garbage' }, meta)).toBe(412);
  });
  it('If-Unmodified-Since, only without If-Match', () => {
    expect(evaluatePreconditions('GET', { 'if-unmodified-since': BEFORE }, meta)).toBe(412);
    expect(evaluatePreconditions('GET', { 'if-unmodified-since': LM }, meta)).toBe(200);
    expect(evaluatePreconditions('GET', { 'if-unmodified-since': BEFORE, 'if-match': '"v1"' }, meta)).toBe(200);
    expect(evaluatePreconditions('GET', { 'if-unmodified-since': 'nonsense' }, meta)).toBe(200);
    expect(evaluatePreconditions('GET', { 'if-unmodified-since': BEFORE }, weakMeta)).toBe(200);
  });
  it('If-Modified-Since, for GET/HEAD, only without If-None-Match', () => {
    expect(evaluatePreconditions('GET', { 'if-modified-since': LM }, meta)).toBe(304);
    expect(evaluatePreconditions('HEAD', { 'if-modified-since': AFTER }, meta)).toBe(304);
    expect(evaluatePreconditions('GET', { 'if-modified-since': BEFORE }, meta)).toBe(200);
    expect(evaluatePreconditions('POST', { 'if-modified-since': LM }, meta)).toBe(200);
    expect(evaluatePreconditions('GET', { 'if-modified-since': LM, 'if-none-match': '"v2"' }, meta)).toBe(200);
    expect(evaluatePreconditions('GET', { 'if-modified-since': 'garbage' }, meta)).toBe(200);
    expect(evaluatePreconditions('GET', { 'if-modified-since': [LM, LM] }, meta)).toBe(200);
  });
  it('If-Match takes precedence over If-None-Match', () => {
    expect(evaluatePreconditions('GET', { 'if-match': '"v2"', 'if-none-match': '"v1"' }, meta)).toBe(412);
  });
  it('uses the response time as Last-Modified for If-Modified-Since when there is none', () => {
    const noLm = testMeta({ headers: {}, responseTime: T0 + 400 });
    expect(evaluatePreconditions('GET', { 'if-modified-since': new Date(T0).toUTCString() }, noLm)).toBe(304);
    expect(evaluatePreconditions('GET', { 'if-modified-since': new Date(T0 - 1000).toUTCString() }, noLm)).toBe(200);
  });
  it('ignores preconditions on non-2xx entries', () => {
    expect(evaluatePreconditions('GET', { 'if-none-match': '*' }, testMeta({ status: 404, headers: { etag: '"v1"' } }))).toBe(200);
  });
});
