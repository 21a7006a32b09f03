import { describe, expect, it } from 'vitest';
import { HostTable, parseHost } from './host-table.js';

describe('HostTable', () => {
  const table = new HostTable<string>([
    ['chat.example.com', 'exact'],
    ['*.example.com', 'wild'],
    ['*.eu.example.com', 'wild-eu'],
    ['*', 'any'],
  ]);
  it('prefers exact, then the longest wildcard, then any', () => {
    expect(table.lookup('chat.example.com')).toBe('exact');
    expect(table.lookup('api.example.com')).toBe('wild');
    expect(table.lookup('a.b.example.com')).toBe('wild');
    expect(table.lookup('fra.eu.example.com')).toBe('wild-eu');
    expect(table.lookup('example.com')).toBe('any');
    expect(table.lookup('other.test')).toBe('any');
  });
  it('misses without a catch-all', () => {
    expect(new HostTable([['a.test', 1]]).lookup('b.test')).toBeUndefined();
  });
});

describe('parseHost', () => {
  it('normalizes', () => {
    expect(parseHost('Chat.Example.COM:8443')).toBe('chat.example.com');
    expect(parseHost('example.com.')).toBe('example.com');
    expect(parseHost('127.0.0.1:80')).toBe('127.0.0.1');
    expect(parseHost('[::1]:8080')).toBe('[::1]');
  });
  it('rejects what is not a host', () => {
    for (const bad of [undefined, '', 'a b', 'evil.com/x', 'a.com:port', 'a..com', '[::1', '[::1]x', 'a.com:99999999', 'x@y.com']) {
      expect(parseHost(bad), String(bad)).toBeUndefined();
    }
  });
});
