import { describe, expect, it } from 'vitest';
import { parseHead } from './upgrade-handshake.js';

describe('parseHead', () => {
  it('parses a 101 answer', () => {
    const r = parseHead('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\nSec-WebSocket-Protocol:  chat ');
    expect(r).toEqual({
      status: 101,
      statusText: 'Switching Protocols',
      rawHeaders: ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 'abc=', 'Sec-WebSocket-Protocol', 'chat'],
    });
  });
  it('accepts a missing reason phrase', () => {
    expect(parseHead('HTTP/1.1 403\r\nContent-Length: 0')?.status).toBe(403);
  });
  it('refuses what is not an HTTP/1.x response head', () => {
    for (const bad of ['garbage', 'HTTP/2 101 x', 'HTTP/1.1 1010 x', 'HTTP/1.1 101 x\r\n folded', 'HTTP/1.1 101 x\r\nBad Name: v', 'HTTP/1.1 101 x\r\nnocolon']) {
      expect(parseHead(bad), bad).toBeUndefined();
    }
  });
});
