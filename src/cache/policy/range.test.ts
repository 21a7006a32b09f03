import { describe, expect, it } from 'vitest';
import { selectRange } from './range.js';
import { testMeta } from './test-meta.js';

const LM = 'Wed, 01 Jan 2020 00:00:00 GMT';
const meta = testMeta({ size: 1000, headers: { etag: '"v1"', 'last-modified': LM } });
const sel = (range: string, more: Record<string, string> = {}, m = meta, method = 'GET') => selectRange(method, { range, ...more }, m);

describe('selectRange', () => {
  it('serves one byte range', () => {
    expect(sel('bytes=0-99')).toEqual({ kind: 'partial', start: 0, end: 99 });
    expect(sel('bytes=100-')).toEqual({ kind: 'partial', start: 100, end: 999 });
    expect(sel('bytes=-500')).toEqual({ kind: 'partial', start: 500, end: 999 });
    expect(sel('bytes=-5000')).toEqual({ kind: 'partial', start: 0, end: 999 });
    expect(sel('bytes=990-5000')).toEqual({ kind: 'partial', start: 990, end: 999 });
    expect(sel('Bytes = 5-5')).toEqual({ kind: 'partial', start: 5, end: 5 });
  });
  it('is unsatisfiable past the end or for an empty suffix', () => {
    expect(sel('bytes=1000-')).toEqual({ kind: 'unsatisfiable' });
    expect(sel('bytes=2000-3000')).toEqual({ kind: 'unsatisfiable' });
    expect(sel('bytes=-0')).toEqual({ kind: 'unsatisfiable' });
    expect(sel('bytes=0-', {}, testMeta({ size: 0 }))).toEqual({ kind: 'unsatisfiable' });
    expect(sel('bytes=-10', {}, testMeta({ size: 0 }))).toEqual({ kind: 'full' });
  });
  it('serves the full response for several ranges, malformed ones, other units', () => {
    for (const r of ['bytes=0-1,5-6', 'bytes=5-1', 'bytes=a-b', 'bytes=', 'bytes', 'items=0-1', '0-1', 'bytes=--1', 'bytes=1-2-3', '']) {
      expect(sel(r), r).toEqual({ kind: 'full' });
    }
  });
  it('only for GET and 200 entries', () => {
    expect(sel('bytes=0-1', {}, meta, 'HEAD')).toEqual({ kind: 'full' });
    expect(sel('bytes=0-1', {}, testMeta({ status: 404 }))).toEqual({ kind: 'full' });
    expect(selectRange('GET', {}, meta)).toEqual({ kind: 'full' });
  });
  it('honours If-Range with a strong ETag or the exact Last-Modified', () => {
    expect(sel('bytes=0-1', { 'if-range': '"v1"' })).toEqual({ kind: 'partial', start: 0, end: 1 });
    expect(sel('bytes=0-1', { 'if-range': '"v2"' })).toEqual({ kind: 'full' });
    expect(sel('bytes=0-1', { 'if-range': 'W/"v1"' })).toEqual({ kind: 'full' });
    expect(sel('bytes=0-1', { 'if-range': LM })).toEqual({ kind: 'partial', start: 0, end: 1 });
    expect(sel('bytes=0-1', { 'if-range': 'Thu, 02 Jan 2020 00:00:00 GMT' })).toEqual({ kind: 'full' });
    expect(sel('bytes=0-1', { 'if-range': 'garbage' })).toEqual({ kind: 'full' });
    expect(sel('bytes=0-1', { 'if-range': '"v1"' }, testMeta({ headers: { etag: 'W/"v1"' } }))).toEqual({ kind: 'full' });
  });
});
