import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress, LoginThrottle } from './login-throttle.js';

describe('LoginThrottle', () => {
  const limits = { accountBurst: 3, accountEveryMs: 10_000, addressBurst: 5, addressEveryMs: 1_000 };

  it('refuses an account past its burst until a token comes back, and says when', () => {
    const t = new LoginThrottle(limits);
    for (let i = 0; i < 3; i++) expect(t.attempt('ada@acme.test', '203.0.113.1', 0)).toBe(0);
    expect(t.attempt('ADA@acme.test', '203.0.113.2', 0)).toBe(10_000); // any case, any address
    expect(t.attempt('ada@acme.test', '203.0.113.2', 10_000)).toBe(0);
  });

  it('refuses an address past its burst whatever the accounts, without taking from them', () => {
    const t = new LoginThrottle(limits);
    for (let i = 0; i < 5; i++) expect(t.attempt(`u${i}@x.test`, '203.0.113.9', 0)).toBe(0);
    expect(t.attempt('grace@acme.test', '203.0.113.9', 0)).toBe(1000);
    for (let i = 0; i < 3; i++) expect(t.attempt('grace@acme.test', '203.0.113.10', 0)).toBe(0); // grace lost nothing
  });

  it('does not count a success, and starts the account afresh', () => {
    const t = new LoginThrottle(limits);
    t.attempt('ada@acme.test', '203.0.113.1', 0);
    t.attempt('ada@acme.test', '203.0.113.1', 0);
    t.attempt('ada@acme.test', '203.0.113.1', 0);
    t.succeeded('ada@acme.test', '203.0.113.1');
    for (let i = 0; i < 3; i++) expect(t.attempt('ada@acme.test', '203.0.113.1', 0)).toBe(0);
  });
});

describe('clientAddress', () => {
  const req = (peer: string, xff?: string) => ({ socket: { remoteAddress: peer }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as unknown as IncomingMessage;

  it('is the peer when it is public, whatever X-Forwarded-For says', () => {
    expect(clientAddress(req('198.51.100.7', '203.0.113.1'))).toBe('198.51.100.7');
  });

  it('walks back through the deployment’s own proxies (private hops) to the first public address', () => {
    expect(clientAddress(req('127.0.0.1', '203.0.113.1'))).toBe('203.0.113.1');
    expect(clientAddress(req('::ffff:10.0.0.2', 'spoofed, 203.0.113.1, 10.0.0.5'))).toBe('203.0.113.1');
    expect(clientAddress(req('127.0.0.1'))).toBe('127.0.0.1');
    expect(clientAddress(req('127.0.0.1', 'not-an-ip'))).toBe('127.0.0.1');
  });
});
