import { describe, expect, it } from 'vitest';
import { compilePattern, firstMatch, substituteCaptures, type UrlParts } from './url-pattern.js';

const url = (s: string): UrlParts => {
  const u = new URL(s);
  return { scheme: u.protocol.slice(0, -1) as 'http' | 'https', host: u.hostname, port: Number(u.port) || (u.protocol === 'https:' ? 443 : 80), path: u.pathname + u.search };
};

describe('compilePattern', () => {
  it('matches host and path wildcards, case-insensitively', () => {
    const p = compilePattern('*.example.com/api/*');
    expect(p.match(url('https://chat.example.com/api/v1/messages'))).toEqual(['chat', 'v1/messages']);
    expect(p.match(url('http://A.Example.COM/API/x'))).toEqual(['a', 'x']); // hosts arrive lowercase; the path compares case-insensitively
    expect(p.match(url('https://example.com/api/x'))).toBeUndefined(); // no subdomain: no leading dot
    expect(p.match(url('https://chat.example.com/static/x'))).toBeUndefined();
  });
  it('`example.com/foo/*` does not match `example.com/foo`', () => {
    const p = compilePattern('example.com/foo/*');
    expect(p.match(url('https://example.com/foo'))).toBeUndefined();
    expect(p.match(url('https://example.com/foo/'))).toEqual(['']);
  });
  it('ignores the query string unless the pattern has one', () => {
    expect(compilePattern('example.com/static/*.css').match(url('https://example.com/static/a.css?v=3'))).toEqual(['a']);
    const q = compilePattern('example.com/search?q=*');
    expect(q.match(url('https://example.com/search?q=cats'))).toEqual(['cats']);
    expect(q.match(url('https://example.com/search'))).toBeUndefined();
  });
  it('honours an explicit scheme and port', () => {
    expect(compilePattern('https://example.com/*').match(url('http://example.com/a'))).toBeUndefined();
    expect(compilePattern('https://example.com/*').match(url('https://example.com/a'))).toEqual(['a']);
    expect(compilePattern('example.com:8443/*').match(url('https://example.com:8443/a'))).toEqual(['a']);
    expect(compilePattern('example.com:8443/*').match(url('https://example.com/a'))).toBeUndefined();
  });
  it('`*` alone and `*/api/*` (the design sketch) match any host', () => {
    expect(compilePattern('*').match(url('https://any.test/x?y'))).toBeDefined();
    expect(compilePattern('*/api/*').match(url('http://desk.test/api/conversations'))).toEqual(['desk.test', 'conversations']);
  });
  it('treats regex characters literally', () => {
    expect(compilePattern('example.com/a+b(c)/*').match(url('https://example.com/a+b(c)/d'))).toEqual(['d']);
    expect(compilePattern('example.com/a.b').match(url('https://example.com/aXb'))).toBeUndefined();
  });
});

describe('firstMatch and captures', () => {
  const rules = [
    { match: '*/api/*', cache: 'bypass' },
    { match: '*/static/*', cache: 'standard' },
    { match: '*', cache: 'everything' },
  ];
  const find = firstMatch(rules);
  it('the first matching rule wins', () => {
    expect(find(url('https://a.test/api/x'))?.rule.cache).toBe('bypass');
    expect(find(url('https://a.test/static/app.js'))?.rule.cache).toBe('standard');
    expect(find(url('https://a.test/'))?.rule.cache).toBe('everything');
  });
  it('substitutes $n in forwarding URLs', () => {
    const m = compilePattern('old.example.com/*').match(url('https://old.example.com/docs/a?b=1'))!;
    expect(substituteCaptures('https://new.example.com/$1', m)).toBe('https://new.example.com/docs/a');
    expect(substituteCaptures('https://x/$2', m)).toBe('https://x/');
  });
});
