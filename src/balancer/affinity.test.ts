import { describe, expect, it } from 'vitest';
import { affinityCookie, readCookie, signPin, verifyPin } from './affinity.js';

const key = 'k'.repeat(32);

describe('affinity pins', () => {
  it('round-trips a signed pin', () => {
    const v = signPin({ originId: 'eu-west/fra-1', expiresAt: 2000 }, key);
    expect(verifyPin(v, key, 1000)).toEqual({ originId: 'eu-west/fra-1', expiresAt: 2000 });
  });
  it('rejects tampering, another key, expiry and garbage', () => {
    const v = signPin({ originId: 'eu-west/fra-1', expiresAt: 2000 }, key);
    const [payload, sig] = v.split('.');
    const forged = `${Buffer.from('eu-west/fra-2|2000').toString('base64url')}.${sig}`;
    expect(verifyPin(forged, key, 1000)).toBeUndefined();
    expect(verifyPin(`${payload}.${sig.slice(0, -2)}AA`, key, 1000)).toBeUndefined();
    expect(verifyPin(v, 'x'.repeat(32), 1000)).toBeUndefined();
    expect(verifyPin(v, key, 2000)).toBeUndefined();
    for (const bad of ['', '.', 'abc', 'a.b', `${payload}.`, 'x'.repeat(600)]) expect(verifyPin(bad, key, 0), bad).toBeUndefined();
  });
});

describe('cookies', () => {
  it('reads one cookie among several', () => {
    expect(readCookie('a=1; __outpost_lb=xyz.abc; b=2', '__outpost_lb')).toBe('xyz.abc');
    expect(readCookie('x__outpost_lb=no; b=2', '__outpost_lb')).toBeUndefined();
    expect(readCookie(undefined, 'a')).toBeUndefined();
    expect(readCookie(['a=1', 'b=2'], 'b')).toBe('2');
  });
  it('writes the attributes asked for', () => {
    expect(affinityCookie('v', { name: 'n', maxAgeSeconds: 60, secure: true, httpOnly: true, sameSite: 'none' })).toBe('n=v; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=None');
    expect(affinityCookie('v', { name: 'n', maxAgeSeconds: 60, secure: false, httpOnly: false, sameSite: undefined })).toBe('n=v; Path=/; Max-Age=60');
  });
});
