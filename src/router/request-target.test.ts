import { describe, expect, it } from 'vitest';
import { normalizeTarget, parseTarget } from './request-target.js';

describe('normalizeTarget (RFC 3986 §6, merged slashes)', () => {
  it.each([
    ['/', '/'],
    ['/a/b?x=1', '/a/b?x=1'],
    ['/x/../admin/x', '/admin/x'],
    ['/x/%2e%2e/admin/x', '/admin/x'],
    ['/x/%2E%2E/admin/x', '/admin/x'],
    ['/x/.%2e/admin', '/admin'],
    ['/./a/./b', '/a/b'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['//admin//x', '/admin/x'],
    ['/%7euser/%41', '/~user/A'],
    ['/a%2fb', '/a%2Fb'],
    ['/a%2Fb/../c', '/c'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/a/../b?next=/x/../y', '/b?next=/x/../y'],
    ['/a#frag', '/a'],
    ['/a?q#frag', '/a?q'],
    ['/a.b/c..d/.e', '/a.b/c..d/.e'],
  ])('%s → %s', (input, want) => {
    expect(normalizeTarget(input)).toBe(want);
  });

  it.each(['/%E0%A4%A', '/%', '/%zz', '/a%2'])('refuses the malformed escape in %s', (input) => {
    expect(normalizeTarget(input)).toBeUndefined();
  });

  it('returns the very string when there is nothing to do (the common case)', () => {
    const s = '/static/app.js?v=3';
    expect(normalizeTarget(s)).toBe(s);
  });
});

describe('parseTarget (RFC 9112 §3.2)', () => {
  it('reads absolute-form: the authority from the target, the path in origin-form', () => {
    expect(parseTarget('http://example.com:8080/x/../admin?q=1')).toEqual({ form: 'absolute', scheme: 'http', authority: 'example.com:8080', path: '/admin?q=1' });
    expect(parseTarget('HTTPS://example.com')).toEqual({ form: 'absolute', scheme: 'https', authority: 'example.com', path: '/' });
    expect(parseTarget('http://example.com?x')).toEqual({ form: 'absolute', scheme: 'http', authority: 'example.com', path: '/?x' });
  });

  it('knows asterisk-form', () => {
    expect(parseTarget('*')).toEqual({ form: 'asterisk' });
  });

  it.each(['http://', 'http://user@host/', 'example.com:443', 'ftp://x/', '%', 'a/b', ''])('refuses %j', (raw) => {
    expect(parseTarget(raw).form).toBe('invalid');
  });

  it('leaves the authority to the Host check: `http://[` is absolute-form with authority `[`', () => {
    expect(parseTarget('http://[')).toEqual({ form: 'absolute', scheme: 'http', authority: '[', path: '/' });
  });
});
