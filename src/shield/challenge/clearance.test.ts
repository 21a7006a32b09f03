import { describe, expect, it } from 'vitest';
import { clearanceCookie, clientPrefix, issueClearance, verifyClearance } from './clearance.js';

const SECRET = 'a-secret-shared-by-every-worker';
const NOW = 1_750_000_000_000;
const UA = 'Mozilla/5.0 (Macintosh) Safari/605.1.15';
const ctx = { clientPrefix: '198.51.100.0/24', userAgent: UA, host: 'shop.example', now: NOW + 1000 };
const issue = (lifetimeMs = 3_600_000) => issueClearance(SECRET, { clientPrefix: ctx.clientPrefix, userAgent: UA, host: ctx.host, now: NOW, lifetimeMs });

describe('clientPrefix', () => {
  it('binds IPv4 to its /24', () => {
    expect(clientPrefix('198.51.100.7')).toBe('198.51.100.0/24');
    expect(clientPrefix('198.51.100.255')).toBe(clientPrefix('198.51.100.1'));
    expect(clientPrefix('198.51.101.7')).not.toBe(clientPrefix('198.51.100.7'));
  });

  it('binds IPv6 to its /64, in RFC 5952 form', () => {
    expect(clientPrefix('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(clientPrefix('2001:DB8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientPrefix('[2001:db8::1%eth0]')).toBe('2001:db8::/64');
    expect(clientPrefix('2001:db8:1:3::1')).not.toBe(clientPrefix('2001:db8:1:2::1'));
  });

  it('treats IPv4-mapped IPv6 as the IPv4 it carries', () => {
    expect(clientPrefix('::ffff:198.51.100.7')).toBe('198.51.100.0/24');
    expect(clientPrefix('::ffff:c633:6407')).toBe('198.51.100.0/24');
  });

  it('leaves what is not an address as it is', () => {
    expect(clientPrefix('unix:/run/x.sock')).toBe('unix:/run/x.sock');
    expect(clientPrefix('300.1.2.3')).toBe('300.1.2.3');
    expect(clientPrefix('')).toBe('');
  });
});

describe('issueClearance / verifyClearance', () => {
  it('round trips, in a compact cookie-safe value', () => {
    const value = issue();
    expect(value).toMatch(/^1\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(value.split('.')[1]).toBe(String(NOW + 3_600_000));
    expect(verifyClearance(SECRET, value, ctx)).toBe(true);
    expect(verifyClearance(SECRET, value, { ...ctx, now: NOW + 3_599_999 })).toBe(true);
  });

  it('refuses an expired clearance', () => {
    expect(verifyClearance(SECRET, issue(), { ...ctx, now: NOW + 3_600_000 })).toBe(false);
  });

  it('refuses another prefix, another user agent, another site, another secret', () => {
    const value = issue();
    expect(verifyClearance(SECRET, value, { ...ctx, host: 'admin.example' })).toBe(false);
    expect(verifyClearance(SECRET, value, { ...ctx, clientPrefix: '198.51.101.0/24' })).toBe(false);
    expect(verifyClearance(SECRET, value, { ...ctx, userAgent: 'Mozilla/5.0 (Macintosh) Safari/605.1.16' })).toBe(false);
    expect(verifyClearance('another-secret-of-enough-length', value, ctx)).toBe(false);
    expect(verifyClearance('', value, ctx)).toBe(false);
  });

  it('refuses tampering: a later expiry, a changed MAC, a changed version', () => {
    const value = issue();
    const [, exp, mac] = value.split('.');
    expect(verifyClearance(SECRET, `1.${Number(exp) + 1}.${mac}`, ctx)).toBe(false);
    expect(verifyClearance(SECRET, `1.${exp}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`, ctx)).toBe(false);
    expect(verifyClearance(SECRET, `2.${exp}.${mac}`, ctx)).toBe(false);
    expect(verifyClearance(SECRET, `${value} `, ctx)).toBe(false);
  });

  it('never throws on garbage of any shape', () => {
    const value = issue();
    const garbage: unknown[] = [
      undefined,
      null,
      0,
      1,
      NaN,
      true,
      {},
      [],
      [value],
      Symbol('x'),
      () => value,
      Buffer.from(value),
      '',
      '.',
      '..',
      '...',
      '1',
      '1.',
      '1..',
      '1.2.3.4',
      `1.${'9'.repeat(400)}.x`,
      `1.99999999999999999.${'A'.repeat(43)}`,
      `1.1.${'A'.repeat(43)}`,
      `1.-5.${'A'.repeat(43)}`,
      `1.1e20.${'A'.repeat(43)}`,
      value.repeat(3),
      'x'.repeat(100_000),
      '\u0000',
      '%00',
      '\ud800',
      '１.１.１',
      value.replace(/\./g, '%2E'),
      encodeURIComponent(`${value};`),
    ];
    for (let i = 0; i < 500; i++) {
      // Random strings over an alphabet close to the real one, and mutations of a real value.
      const alphabet = '01.9AZaz_-=+/%;';
      let s = '';
      const n = (i * 7919) % 70;
      for (let j = 0; j < n; j++) s += alphabet[(i * 31 + j * 17 + ((i * j) % 13)) % alphabet.length];
      garbage.push(s, value.slice(0, i % value.length) + s.slice(0, 3) + value.slice((i % value.length) + 1));
    }
    for (const g of garbage) expect(verifyClearance(SECRET, g, ctx)).toBe(false);
    expect(verifyClearance(SECRET, value, { clientPrefix: undefined as unknown as string, userAgent: undefined as unknown as string, host: undefined as unknown as string, now: NaN })).toBe(false);
  });

  it('refuses configuration errors when issuing', () => {
    expect(() => issueClearance('short', { clientPrefix: 'p', userAgent: 'u', host: 'h', now: NOW, lifetimeMs: 1000 })).toThrow(RangeError);
    expect(() => issue(0)).toThrow(RangeError);
    expect(() => issue(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('clearanceCookie', () => {
  it('is HttpOnly, SameSite=Lax, Path=/, with Max-Age and optional Secure', () => {
    expect(clearanceCookie('1.2.abc', { maxAgeSeconds: 3600, secure: true })).toBe('__outpost_clearance=1.2.abc; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax; Secure');
    expect(clearanceCookie('v', { name: '__Host-clear', maxAgeSeconds: 59.9, secure: false })).toBe('__Host-clear=v; Max-Age=59; Path=/; HttpOnly; SameSite=Lax');
    expect(clearanceCookie('v', { maxAgeSeconds: -5, secure: false })).toContain('Max-Age=0;');
  });

  it('refuses a name or value that would break the header', () => {
    expect(() => clearanceCookie('a;b', { maxAgeSeconds: 1, secure: true })).toThrow(TypeError);
    expect(() => clearanceCookie('a b', { maxAgeSeconds: 1, secure: true })).toThrow(TypeError);
    expect(() => clearanceCookie('v', { name: 'a=b', maxAgeSeconds: 1, secure: true })).toThrow(TypeError);
    expect(() => clearanceCookie('v', { name: '', maxAgeSeconds: 1, secure: true })).toThrow(TypeError);
  });
});
