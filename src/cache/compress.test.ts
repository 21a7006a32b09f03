import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createEncoder, isCompressible, negotiateEncoding, shouldCompress, varyWithAcceptEncoding, weakEtag, type CompressionInput, type Encoder, type Encoding } from './compress.js';

describe('negotiateEncoding', () => {
  it.each<[string | string[] | undefined, Encoding | undefined]>([
    ['gzip, deflate, br', 'br'],
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['br;q=0', undefined],
    ['br;q=0, gzip', 'gzip'],
    ['br;q=0.8, gzip', 'gzip'],
    ['br;q=0.8, gzip;q=0.8', 'br'],
    ['br;q=0.5, gzip;q=0.501', 'gzip'],
    ['*;q=0.5, gzip;q=0.1', 'br'],
    ['*', 'br'],
    ['*;q=0', undefined],
    ['*, br;q=0', 'gzip'],
    ['*;q=0, gzip', 'gzip'],
    ['identity', undefined],
    ['identity;q=0', undefined],
    ['identity;q=0, gzip', 'gzip'],
    ['deflate, compress', undefined],
    ['', undefined],
    [undefined, undefined],
    ['   ', undefined],
    ['GZIP', 'gzip'],
    [' Br ; Q=1 , gzip ', 'br'],
    ['gzip;q=1.000, br;q=0.999', 'gzip'],
    ['x-gzip', 'gzip'],
    ['x-gzip;q=0, gzip', 'gzip'],
    ['gzip;q=0, x-gzip', undefined],
    [['gzip', 'br'], 'br'],
    [['br;q=0', 'gzip;q=0.2'], 'gzip'],
    // A coding named twice keeps its first weight.
    ['gzip;q=0, gzip', undefined],
  ])('%j → %s', (header, expected) => {
    expect(negotiateEncoding(header)).toBe(expected);
  });

  it.each<[string, Encoding | undefined]>([
    ['garbage', undefined],
    [';;;,,,', undefined],
    ['br;q=2, gzip', 'gzip'],
    ['br;q=abc, gzip;q=0.3', 'gzip'],
    ['br;q=, gzip', 'gzip'],
    ['br;q, gzip;q=0.1', 'gzip'],
    ['br;q=0.5555, gzip;q=0.1', 'gzip'],
    ['br;q=-1, gzip;q=0.1', 'gzip'],
    ['b r, gzip', 'gzip'],
    ['"br", gzip', 'gzip'],
    ['br;level=9', 'br'],
    ['\u0000\uffff', undefined],
  ])('skips malformed members: %j → %s', (header, expected) => {
    expect(() => negotiateEncoding(header)).not.toThrow();
    expect(negotiateEncoding(header)).toBe(expected);
  });
});

describe('isCompressible', () => {
  it.each([
    'text/html',
    'text/plain',
    'text/css',
    'text/javascript',
    'text/csv',
    'text/html; charset=utf-8',
    'TEXT/HTML;Charset=UTF-8',
    ' text/plain ',
    'application/json',
    'application/json; charset=utf-8',
    'application/javascript',
    'application/xml',
    'application/ld+json',
    'application/problem+json',
    'application/manifest+json',
    'application/rss+xml',
    'application/atom+xml',
    'application/xhtml+xml',
    'image/svg+xml',
    'application/wasm',
    'font/ttf',
    'font/otf',
    'application/vnd.ms-fontobject',
  ])('%s is compressible', (type) => {
    expect(isCompressible(type)).toBe(true);
  });

  it.each([
    undefined,
    '',
    'text',
    'text/',
    '/json',
    '*/*',
    'application/+json',
    'image/png',
    'image/jpeg',
    'image/webp',
    'image/avif',
    'image/gif',
    'video/mp4',
    'audio/mpeg',
    'application/zip',
    'application/gzip',
    'application/octet-stream',
    'application/pdf',
    'font/woff',
    'font/woff2',
    'text/event-stream',
    'application/jsonx',
  ])('%s is not compressible', (type) => {
    expect(isCompressible(type)).toBe(false);
  });
});

describe('shouldCompress', () => {
  const base: CompressionInput = { status: 200, method: 'GET', contentType: 'text/html', contentLength: 4096 };

  it('compresses a plain 200 text answer to GET', () => {
    expect(shouldCompress(base)).toBe(true);
  });

  it.each<[string, Partial<CompressionInput>, boolean]>([
    ['203', { status: 203 }, true],
    ['206', { status: 206 }, false],
    ['304', { status: 304 }, false],
    ['404', { status: 404 }, false],
    ['500', { status: 500 }, false],
    ['HEAD', { method: 'HEAD' }, false],
    ['POST', { method: 'POST' }, false],
    ['lowercase get (methods are case-sensitive)', { method: 'get' }, false],
    ['no Content-Type', { contentType: undefined }, false],
    ['an image', { contentType: 'image/png' }, false],
    ['already gzip', { contentEncoding: 'gzip' }, false],
    ['already br, uppercase', { contentEncoding: 'BR' }, false],
    ['identity', { contentEncoding: 'identity' }, true],
    ['Identity', { contentEncoding: ' Identity ' }, true],
    ['empty Content-Encoding', { contentEncoding: '' }, true],
    ['identity then gzip', { contentEncoding: 'identity, gzip' }, false],
    ['no-transform', { cacheControl: 'public, no-transform, max-age=60' }, false],
    ['No-Transform uppercase', { cacheControl: 'No-Transform' }, false],
    ['no-transform only inside a quoted argument', { cacheControl: 'private="no-transform", max-age=60' }, true],
    ['other Cache-Control', { cacheControl: 'public, max-age=600' }, true],
    ['unknown length (streamed)', { contentLength: undefined }, true],
    ['exactly the default minimum', { contentLength: 1024 }, true],
    ['one byte under the default minimum', { contentLength: 1023 }, false],
    ['empty body', { contentLength: 0 }, false],
    ['custom minSize, above', { contentLength: 200, minSize: 100 }, true],
    ['custom minSize, below', { contentLength: 99, minSize: 100 }, false],
    ['minSize 0 takes an empty body', { contentLength: 0, minSize: 0 }, true],
    ['NaN length counts as unknown', { contentLength: Number.NaN }, true],
  ])('%s', (_name, change, expected) => {
    expect(shouldCompress({ ...base, ...change })).toBe(expected);
  });
});

describe('varyWithAcceptEncoding', () => {
  it.each<[string | undefined, string]>([
    [undefined, 'Accept-Encoding'],
    ['', 'Accept-Encoding'],
    ['  ', 'Accept-Encoding'],
    ['Cookie', 'Cookie, Accept-Encoding'],
    ['Cookie, Origin', 'Cookie, Origin, Accept-Encoding'],
    ['Cookie,', 'Cookie, Accept-Encoding'],
    ['Accept-Encoding', 'Accept-Encoding'],
    ['accept-encoding', 'accept-encoding'],
    ['Origin, ACCEPT-ENCODING', 'Origin, ACCEPT-ENCODING'],
    ['*', '*'],
    ['Origin, *', 'Origin, *'],
    ['Accept-Encoding-X', 'Accept-Encoding-X, Accept-Encoding'],
  ])('%j → %j', (vary, expected) => {
    expect(varyWithAcceptEncoding(vary)).toBe(expected);
  });
});

describe('weakEtag', () => {
  it.each<[string | undefined, string | undefined]>([
    ['"x"', 'W/"x"'],
    ['"abc-123"', 'W/"abc-123"'],
    ['""', 'W/""'],
    ['W/"x"', 'W/"x"'],
    [' "x" ', 'W/"x"'],
    [undefined, undefined],
    ['', undefined],
    ['x', undefined],
    ['"unterminated', undefined],
    ['w/"x"', undefined],
  ])('%j → %j', (etag, expected) => {
    expect(weakEtag(etag)).toBe(expected);
  });
});

describe('createEncoder', () => {
  /** About 100 KiB of text that varies enough not to collapse to nothing. */
  function sampleText(): Buffer {
    const words = ['edge', 'cache', 'origin', 'proxy', 'brotli', 'gzip', 'vary', 'header', 'stream', 'outpost'];
    const lines: string[] = [];
    let seed = 7;
    let size = 0;
    while (size < 100 * 1024) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const line = `<li data-id="${seed}">${words[seed % 10]} ${words[(seed >> 4) % 10]} #${seed % 9973}</li>\n`;
      lines.push(line);
      size += Buffer.byteLength(line);
    }
    return Buffer.from(lines.join('')).subarray(0, 100 * 1024);
  }

  const decompress: Record<Encoding, (b: Buffer) => Buffer> = {
    br: (b) => zlib.brotliDecompressSync(b),
    gzip: (b) => zlib.gunzipSync(b),
  };
  /** Decompresses a stream that has not ended yet: everything flushed so far. */
  const decompressPartial: Record<Encoding, (b: Buffer) => Buffer> = {
    br: (b) => zlib.brotliDecompressSync(b, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }),
    gzip: (b) => zlib.gunzipSync(b, { finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  };

  async function compress(encoder: Encoder, input: Buffer, chunk: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let i = 0; i < input.length; i += chunk) parts.push(input.subarray(i, i + chunk));
    const out: Buffer[] = [];
    // A sink, so the pipeline settles only after the encoder's last bytes are read.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        out.push(chunk);
        done();
      },
    });
    await pipeline(Readable.from(parts), encoder, sink);
    return Buffer.concat(out);
  }

  it.each<Encoding>(['br', 'gzip'])('%s round-trips 100 KiB of text and shrinks it', async (encoding) => {
    const input = sampleText();
    expect(input.length).toBe(100 * 1024);
    const compressed = await compress(createEncoder(encoding), input, 16 * 1024);
    expect(compressed.length).toBeLessThan(input.length / 3);
    expect(decompress[encoding](compressed).equals(input)).toBe(true);
  });

  it('uses the size hint for brotli and still round-trips', async () => {
    const input = sampleText();
    const compressed = await compress(createEncoder('br', input.length), input, 64 * 1024);
    expect(compressed.length).toBeLessThan(input.length / 3);
    expect(decompress.br(compressed).equals(input)).toBe(true);
  });

  it.each([0, -1, Number.NaN, 2 ** 40])('ignores an unusable size hint (%s)', async (hint) => {
    const input = Buffer.from('hello, edge '.repeat(200));
    const compressed = await compress(createEncoder('br', hint), input, 1024);
    expect(decompress.br(compressed).equals(input)).toBe(true);
  });

  it('produces the gzip and brotli formats', async () => {
    const input = Buffer.from('x'.repeat(2048));
    const gz = await compress(createEncoder('gzip'), input, 2048);
    expect([...gz.subarray(0, 3)]).toEqual([0x1f, 0x8b, 0x08]);
    // brotli has no magic number; gunzip must refuse it.
    const br = await compress(createEncoder('br'), input, 2048);
    expect(() => zlib.gunzipSync(br)).toThrow();
  });

  it.each<Encoding>(['br', 'gzip'])('%s emits each write before the stream ends', async (encoding) => {
    const encoder = createEncoder(encoding);
    const out: Buffer[] = [];
    encoder.on('data', (b: Buffer) => out.push(b));

    encoder.write('data: first event\n\n');
    await once(encoder, 'data');
    // Let the rest of the flushed block arrive.
    await new Promise((resolve) => setImmediate(resolve));
    expect(decompressPartial[encoding](Buffer.concat(out)).toString()).toBe('data: first event\n\n');

    encoder.write('data: second event\n\n');
    await once(encoder, 'data');
    await new Promise((resolve) => setImmediate(resolve));
    expect(decompressPartial[encoding](Buffer.concat(out)).toString()).toBe('data: first event\n\ndata: second event\n\n');

    encoder.end();
    await once(encoder, 'end');
    expect(decompress[encoding](Buffer.concat(out)).toString()).toBe('data: first event\n\ndata: second event\n\n');
  });
});
