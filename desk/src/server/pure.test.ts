/** The pure parts of the Desk node: event parsing, passwords, the token bucket, presence, origins, static paths. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClientEvent } from './client-events.js';
import { DeskError } from './errors.js';
import { parseMessage } from './fanout.js';
import { normalizeOrigin, operatorOriginAllowed, visitorOriginAllowed } from './origins.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { available, PresenceBoard } from './presence.js';
import { cacheControl, contentType, resolvePublic } from './static-files.js';
import { TokenBucket } from './token-bucket.js';

function errorOf(text: string): { code: string; ref?: string } {
  try {
    parseClientEvent(text);
  } catch (err) {
    if (err instanceof DeskError) return { code: err.code, ...(err.ref ? { ref: err.ref } : {}) };
    throw err;
  }
  throw new Error('parsed');
}

describe('parseClientEvent', () => {
  it('accepts the protocol events and ignores unknown fields', () => {
    expect(parseClientEvent('{"type":"message.send","clientId":"k1","body":"hi","extra":1}')).toEqual({ type: 'message.send', clientId: 'k1', body: 'hi' });
    expect(parseClientEvent('{"type":"conversation.assign","conversation":"c1","operator":null}')).toEqual({ type: 'conversation.assign', conversation: 'c1', operator: null });
    expect(parseClientEvent('{"type":"ping","t":5}')).toEqual({ type: 'ping', t: 5 });
  });

  it('refuses what is not an event, with the clientId as ref', () => {
    expect(errorOf('nope')).toEqual({ code: 'bad_event' });
    expect(errorOf('[1]')).toEqual({ code: 'bad_event' });
    expect(errorOf('{"type":"x","clientId":"k"}')).toEqual({ code: 'bad_event', ref: 'k' });
    expect(errorOf('{"type":"message.send","clientId":"k","body":"   "}')).toEqual({ code: 'bad_event', ref: 'k' });
    expect(errorOf('{"type":"read","upToSeq":-1}')).toEqual({ code: 'bad_event' });
    expect(errorOf('{"type":"visitor.email","email":"not-an-email"}')).toEqual({ code: 'bad_event' });
    expect(errorOf('{"type":"toString"}')).toEqual({ code: 'bad_event' });
  });

  it('counts the 5,000-character limit in characters, not UTF-16 units', () => {
    const emoji = '😀'.repeat(5000); // 10,000 UTF-16 units, 5,000 characters
    expect(parseClientEvent(JSON.stringify({ type: 'message.send', clientId: 'k', body: emoji })).type).toBe('message.send');
    expect(errorOf(JSON.stringify({ type: 'message.send', clientId: 'k', body: 'x'.repeat(5001) }))).toEqual({ code: 'too_large', ref: 'k' });
  });
});

describe('passwords', () => {
  it('scrypt hashes verify, with the parameters in the hash', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horsE', hash)).toBe(false);
    expect(await hashPassword('correct horse')).not.toBe(hash); // salted
  });

  it('refuses malformed or abusive stored hashes without running scrypt on them', async () => {
    expect(await verifyPassword('x', 'plain')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$1073741824$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$1000$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA')).toBe(false);
  });
});

describe('TokenBucket', () => {
  it('allows the burst, then the rate', () => {
    const b = new TokenBucket(20, 40, 0);
    let ok = 0;
    for (let i = 0; i < 100; i++) if (b.take(0)) ok++;
    expect(ok).toBe(40);
    expect(b.take(49)).toBe(false); // 0.98 token
    expect(b.take(50)).toBe(true); // 1 token after 50 ms at 20/s
    expect(b.take(50)).toBe(false);
    for (let i = 0; i < 40; i++) expect(b.take(10_000)).toBe(true); // refilled to the burst, no more
    expect(b.take(10_000)).toBe(false);
  });
});

describe('PresenceBoard', () => {
  it('merges local and remote operators, best status wins, remote lists expire', () => {
    const p = new PresenceBoard();
    p.connect('w', 'o1', 'Ada');
    p.connect('w', 'o1', 'Ada'); // a second tab
    p.setStatus('w', 'o1', 'away');
    p.applyRemote(
      'w',
      'nyc',
      [
        { id: 'o1', name: 'Ada', status: 'online' },
        { id: 'o2', name: 'Grace', status: 'away' },
      ],
      1000,
      0,
    );
    expect(p.list('w', 10)).toEqual([
      { id: 'o1', name: 'Ada', status: 'online' },
      { id: 'o2', name: 'Grace', status: 'away' },
    ]);
    expect(p.sweep(999)).toEqual([]);
    expect(p.sweep(1000)).toEqual(['w']);
    expect(p.list('w', 1000)).toEqual([{ id: 'o1', name: 'Ada', status: 'away' }]);
    expect(available(p.list('w', 1000))).toBe(false);
    p.disconnect('w', 'o1');
    expect(p.localEntries('w')).toHaveLength(1);
    p.disconnect('w', 'o1');
    expect(p.localWorkspaces()).toEqual([]);
    p.applyRemote('w', 'nyc', [{ id: 'o2', name: 'Grace', status: 'online' }], 1000, 0);
    p.applyRemote('w', 'nyc', [], 1000, 1); // a node whose last operator left says so at once
    expect(p.list('w', 2)).toEqual([]);
  });
});

describe('origins', () => {
  const info = (origin: string | undefined, sameOrigin = false) => ({ origin, sameOrigin, country: undefined, userAgent: undefined });
  it('a widget origin must be listed unless the list is empty or the page is our own', () => {
    expect(visitorOriginAllowed([], info('https://any.example'))).toBe(true);
    expect(visitorOriginAllowed(['https://shop.example'], info('https://shop.example'))).toBe(true);
    expect(visitorOriginAllowed(['https://Shop.example:443/'], info('https://shop.example'))).toBe(true);
    expect(visitorOriginAllowed(['https://shop.example'], info('https://evil.example'))).toBe(false);
    expect(visitorOriginAllowed(['https://shop.example'], info(undefined))).toBe(false);
    expect(visitorOriginAllowed(['https://shop.example'], info('http://desk.local', true))).toBe(true);
    expect(operatorOriginAllowed(info(undefined))).toBe(true);
    expect(operatorOriginAllowed(info('https://evil.example'))).toBe(false);
    expect(normalizeOrigin('null')).toBeUndefined();
  });
});

describe('fan-out messages', () => {
  it('accepts only well-formed messages of the channel they came on', () => {
    const msg = { origin: 'a', workspace: 'w', to: { kind: 'operators' }, event: { type: 'x' } };
    expect(parseMessage('desk:w:w', JSON.stringify(msg))).toEqual(msg);
    expect(parseMessage('desk:w:other', JSON.stringify(msg))).toBeUndefined();
    expect(parseMessage('desk:w:w', '{')).toBeUndefined();
    expect(parseMessage('desk:w:w', JSON.stringify({ ...msg, event: {} }))).toBeUndefined();
    expect(parseMessage('desk:w:w', JSON.stringify({ origin: 'a', workspace: 'w', presence: { operators: [], ttlMs: 1 } }))).toBeTruthy();
  });
});

describe('static files', () => {
  it('stays inside the public folder and picks types and caching', () => {
    const root = path.resolve('/srv/public');
    expect(resolvePublic(root, '/')).toBe(path.join(root, 'index.html'));
    expect(resolvePublic(root, '/widget.js')).toBe(path.join(root, 'widget.js'));
    expect(resolvePublic(root, '/../secret')).toBeUndefined();
    expect(resolvePublic(root, '/%2e%2e/secret')).toBeUndefined();
    expect(resolvePublic(root, '/%00')).toBeUndefined();
    expect(resolvePublic(root, '/%E0%A4%A')).toBeUndefined();
    expect(contentType('a.js')).toBe('text/javascript; charset=utf-8');
    expect(cacheControl('a.css')).toBe('public, max-age=300');
    expect(cacheControl('a.html')).toBe('no-cache');
  });
});
