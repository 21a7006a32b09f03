import { describe, expect, it } from 'vitest';
import { createClientIpResolver, forwardedForEntries, listEntries } from './client-ip.js';

// Our load balancers live in 10.0.0.0/8 and 2001:db8:ab::/48; a CDN in front of them in 198.51.100.0/24.
const trustedProxies = ['10.0.0.0/8', '2001:db8:ab::/48', '198.51.100.0/24'];

describe('createClientIpResolver', () => {
  const resolve = createClientIpResolver({ trustedProxies });

  it('uses the socket address when the peer is not a trusted proxy, whatever the header says', () => {
    expect(resolve('203.0.113.7', { 'x-forwarded-for': '1.1.1.1' })).toBe('203.0.113.7');
    expect(resolve('::ffff:203.0.113.7', { 'x-forwarded-for': '1.1.1.1' })).toBe('203.0.113.7');
    expect(resolve('2001:DB8:0::1', {})).toBe('2001:db8::1');
  });

  it('reads the header from a trusted proxy: the rightmost untrusted entry', () => {
    expect(resolve('10.0.0.5', { 'x-forwarded-for': '203.0.113.7' })).toBe('203.0.113.7');
    // The client sent "6.6.6.6" itself; our proxy appended the real peer.
    expect(resolve('10.0.0.5', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' })).toBe('203.0.113.7');
  });

  it('walks a chain of several trusted hops', () => {
    // client → CDN (198.51.100.9) → LB (10.1.1.1) → LB (2001:db8:ab::2) → us
    const xff = '6.6.6.6, 203.0.113.7, 198.51.100.9, 10.1.1.1';
    expect(resolve('2001:db8:ab::2', { 'x-forwarded-for': xff })).toBe('203.0.113.7');
    expect(resolve('::ffff:10.9.9.9', { 'x-forwarded-for': '2001:db8:beef::1, ::ffff:10.1.1.1' })).toBe('2001:db8:beef::1');
  });

  it('falls back to the socket without a header, and to the leftmost hop when every hop is trusted', () => {
    expect(resolve('10.0.0.5', {})).toBe('10.0.0.5');
    expect(resolve('10.0.0.5', { 'x-forwarded-for': '' })).toBe('10.0.0.5');
    expect(resolve('10.0.0.5', { 'x-forwarded-for': '10.3.3.3, 198.51.100.1' })).toBe('10.3.3.3');
  });

  it('skips empty entries, strips ports and quotes', () => {
    expect(resolve('10.0.0.5', { 'x-forwarded-for': '203.0.113.7, , 10.1.1.1,' })).toBe('203.0.113.7');
    expect(resolve('10.0.0.5', { 'x-forwarded-for': '203.0.113.7:51234' })).toBe('203.0.113.7');
    expect(resolve('10.0.0.5', { 'x-forwarded-for': '[2001:db8:beef::1]:443' })).toBe('2001:db8:beef::1');
    expect(resolve('10.0.0.5', { 'x-forwarded-for': '"203.0.113.7"' })).toBe('203.0.113.7');
  });

  it('never returns garbage, and never walks past it into what the client wrote', () => {
    // Junk left of the real client is never reached.
    expect(resolve('10.0.0.5', { 'x-forwarded-for': 'garbage, <script>, 203.0.113.7' })).toBe('203.0.113.7');
    // Our own proxy wrote "unknown": everything further left is unvouched for, stop at that proxy.
    expect(resolve('10.0.0.5', { 'x-forwarded-for': '6.6.6.6, unknown, 10.1.1.1' })).toBe('10.1.1.1');
    expect(resolve('10.0.0.5', { 'x-forwarded-for': '6.6.6.6, unknown' })).toBe('10.0.0.5');
  });

  it('joins repeated header values', () => {
    expect(resolve('10.0.0.5', { 'x-forwarded-for': ['6.6.6.6', '203.0.113.7'] as unknown as string })).toBe('203.0.113.7');
  });

  it('trusts nothing with an empty list', () => {
    const none = createClientIpResolver({ trustedProxies: [] });
    expect(none('10.0.0.5', { 'x-forwarded-for': '203.0.113.7' })).toBe('10.0.0.5');
  });

  it('passes an unreadable socket address through', () => {
    expect(resolve(undefined, { 'x-forwarded-for': '203.0.113.7' })).toBe('');
    expect(resolve('weird', {})).toBe('weird');
  });

  it('reads another header when configured', () => {
    const cf = createClientIpResolver({ trustedProxies, header: 'CF-Connecting-IP' });
    expect(cf('198.51.100.3', { 'cf-connecting-ip': '203.0.113.7', 'x-forwarded-for': '6.6.6.6' })).toBe('203.0.113.7');
    expect(cf('203.0.113.99', { 'cf-connecting-ip': '6.6.6.6' })).toBe('203.0.113.99');
  });

  it('reads RFC 7239 Forwarded', () => {
    const fwd = createClientIpResolver({ trustedProxies, header: 'forwarded' });
    const headers = { forwarded: 'for=6.6.6.6, for="[2001:db8:beef::1]:4711";proto=https, For=10.1.1.1;by=10.0.0.5' };
    expect(fwd('10.0.0.5', headers)).toBe('2001:db8:beef::1');
    expect(fwd('10.0.0.5', { forwarded: 'for=6.6.6.6, for=_hidden' })).toBe('10.0.0.5');
    expect(fwd('10.0.0.5', { forwarded: 'proto=https' })).toBe('10.0.0.5');
  });

  it('refuses a bad trusted-proxy list, naming every bad entry', () => {
    expect(() => createClientIpResolver({ trustedProxies: ['10.0.0.0/8', 'lb.internal', '10.0.0.0/99'] })).toThrow(/lb\.internal.*10\.0\.0\.0\/99/);
  });
});

describe('header parsing', () => {
  it('splits X-Forwarded-For', () => {
    expect(listEntries(' a , "b",,c ')).toEqual(['a', 'b', '', 'c']);
  });
  it('takes for= from each Forwarded element', () => {
    expect(forwardedForEntries('for=192.0.2.43, for="[2001:db8:cafe::17]";proto=http;by=203.0.113.43, by=1.2.3.4')).toEqual(['192.0.2.43', '[2001:db8:cafe::17]', '']);
  });
});
