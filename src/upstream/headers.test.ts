import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, requestIdOf, upstreamRequestHeaders } from './headers.js';

const info = { host: 'origin.test', clientHost: 'chat.example.com', clientIp: '203.0.113.7', scheme: 'https' as const, requestId: 'req-123456', via: '1.1 sin' };
const pairs = (flat: string[]) => {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i].toLowerCase(), flat[i + 1]]);
  return out;
};
const get = (flat: string[], name: string) =>
  pairs(flat)
    .filter(([k]) => k === name)
    .map(([, v]) => v);

describe('upstreamRequestHeaders', () => {
  const raw = [
    'Host',
    'chat.example.com',
    'Connection',
    'keep-alive, X-Secret',
    'X-Secret',
    'drop me',
    'Keep-Alive',
    'timeout=5',
    'TE',
    'trailers',
    'Transfer-Encoding',
    'chunked',
    'Upgrade',
    'h2c',
    'Proxy-Connection',
    'x',
    'Trailer',
    'x',
    'X-Forwarded-For',
    '198.51.100.1',
    'X-Forwarded-Proto',
    'http',
    'X-Forwarded-Host',
    'evil',
    'Via',
    '1.1 other',
    'Accept',
    'text/html',
    'Cookie',
    'a=1',
    'X-Request-Id',
    'spoof',
    ':path',
    '/',
  ];
  const out = upstreamRequestHeaders(raw, info);
  it('drops hop-by-hop fields and the ones Connection names', () => {
    for (const h of ['connection', 'x-secret', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'proxy-connection', 'trailer', ':path']) {
      expect(get(out, h), h).toEqual([]);
    }
  });
  it('keeps end-to-end fields', () => {
    expect(get(out, 'accept')).toEqual(['text/html']);
    expect(get(out, 'cookie')).toEqual(['a=1']);
  });
  it('appends to X-Forwarded-For and Via, replaces the rest', () => {
    expect(get(out, 'x-forwarded-for')).toEqual(['198.51.100.1, 203.0.113.7']);
    expect(get(out, 'via')).toEqual(['1.1 other, 1.1 sin']);
    expect(get(out, 'x-forwarded-proto')).toEqual(['https']);
    expect(get(out, 'x-forwarded-host')).toEqual(['chat.example.com']);
    expect(get(out, 'x-request-id')).toEqual(['req-123456']);
    expect(get(out, 'host')).toEqual(['origin.test']);
  });
  it('keeps the upgrade handshake for WebSockets only', () => {
    const ws = upstreamRequestHeaders(['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'], info, true);
    expect(get(ws, 'upgrade')).toEqual(['websocket']);
    expect(get(ws, 'connection')).toEqual(['upgrade']);
    expect(get(ws, 'sec-websocket-key')).toEqual(['k']);
  });
});

describe('X-Outpost-Country', () => {
  it('is set from the geo lookup and never taken from the client', () => {
    const out = upstreamRequestHeaders(['X-Outpost-Country', 'ZZ'], { ...info, country: 'SG' });
    expect(get(out, 'x-outpost-country')).toEqual(['SG']);
    expect(get(upstreamRequestHeaders(['X-Outpost-Country', 'ZZ'], info), 'x-outpost-country')).toEqual([]);
  });
});

describe('clientResponseHeaders', () => {
  it('filters hop-by-hop, keeps repeated fields, adds Via and the request id', () => {
    const raw = [
      'Content-Type',
      'text/plain',
      'X-Internal',
      '1',
      'Connection',
      'close, X-Internal',
      'Keep-Alive',
      'timeout=5',
      'Transfer-Encoding',
      'chunked',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'Via',
      '1.1 origin',
    ].map((s) => Buffer.from(s));
    const out = clientResponseHeaders(raw, '1.1 sin', 'rid-000001');
    expect(get(out, 'x-internal')).toEqual([]);
    expect(get(out, 'connection')).toEqual([]);
    expect(get(out, 'transfer-encoding')).toEqual([]);
    expect(get(out, 'keep-alive')).toEqual([]);
    expect(get(out, 'set-cookie')).toEqual(['a=1', 'b=2']);
    expect(get(out, 'via')).toEqual(['1.1 origin, 1.1 sin']);
    expect(get(out, 'x-request-id')).toEqual(['rid-000001']);
  });
});

describe('requestIdOf', () => {
  it('keeps a sane id and replaces anything else', () => {
    expect(requestIdOf('abc-123-def')).toBe('abc-123-def');
    expect(requestIdOf('bad id with spaces')).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdOf('x'.repeat(300))).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdOf(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
