import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { closeFrame, FrameTracker } from './ws-frames.js';

/** Encodes one frame the long way (RFC 6455 §5.2), independently of the tracker. */
function frame(payloadLen: number, masked: boolean, opcode = 0x2, fin = true): Buffer {
  const ext = payloadLen > 0xffff ? 8 : payloadLen > 125 ? 2 : 0;
  const head = Buffer.alloc(2 + ext + (masked ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = (masked ? 0x80 : 0) | (ext === 8 ? 127 : ext === 2 ? 126 : payloadLen);
  if (ext === 2) head.writeUInt16BE(payloadLen, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(payloadLen), 2);
  if (masked) head.set([1, 2, 3, 4], 2 + ext);
  return Buffer.concat([head, Buffer.alloc(payloadLen, 0x61)]);
}

/** A stream of frames and the offsets where each one ends. */
function stream(frames: Buffer[]): { bytes: Buffer; ends: Set<number> } {
  const ends = new Set<number>();
  let at = 0;
  for (const f of frames) ends.add((at += f.length));
  return { bytes: Buffer.concat(frames), ends };
}

/** Feeds one byte at a time and returns the offsets after which the tracker is at a boundary. */
function boundariesByteByByte(bytes: Buffer, tracker = new FrameTracker()): number[] {
  const seen: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    tracker.feed(bytes.subarray(i, i + 1));
    if (tracker.atBoundary) seen.push(i + 1);
  }
  return seen;
}

describe('FrameTracker', () => {
  const cases: Array<[string, Buffer[]]> = [
    ['7-bit lengths, unmasked', [frame(0, false), frame(5, false, 0x1), frame(125, false)]],
    ['7-bit lengths, masked', [frame(0, true), frame(5, true, 0x9), frame(125, true)]],
    ['16-bit lengths', [frame(126, false), frame(200, true), frame(0xffff, false)]],
    ['64-bit lengths', [frame(0x10000, true), frame(70_000, false)]],
    ['a fragmented message with a ping between fragments', [frame(10, true, 0x1, false), frame(4, true, 0x9), frame(300, true, 0x0, false), frame(3, true, 0x0)]],
  ];

  it.each(cases)('finds every boundary byte by byte: %s', (_name, frames) => {
    const { bytes, ends } = stream(frames);
    expect(boundariesByteByByte(bytes)).toEqual([...ends]);
  });

  it.each(cases)('splits at every byte position: %s', (_name, frames) => {
    const { bytes, ends } = stream(frames);
    const sortedEnds = [...ends];
    // Mismatches are collected rather than asserted one by one: 4 × 140k expect() calls are slow.
    const wrong: string[] = [];
    for (let p = 0; p <= bytes.length; p++) {
      const t = new FrameTracker();
      t.feed(bytes.subarray(0, p));
      const boundary = p === 0 || ends.has(p);
      if (t.atBoundary !== boundary) wrong.push(`atBoundary at ${p}`);
      const rest = bytes.subarray(p);
      const expected = boundary ? 0 : sortedEnds.find((e) => e >= p)! - p;
      if (t.bytesToBoundary(rest) !== expected) wrong.push(`bytesToBoundary at ${p}`);
      // Peeking must not have consumed anything.
      if (t.atBoundary !== boundary) wrong.push(`bytesToBoundary consumed at ${p}`);
      t.feed(rest);
      if (!t.atBoundary) wrong.push(`not at boundary after the rest at ${p}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('follows a 14-byte header split across three chunks at every pair of cuts', () => {
    const bytes = frame(70_000, true);
    for (let i = 1; i < 14; i++) {
      for (let j = i + 1; j <= 14; j++) {
        const t = new FrameTracker();
        t.feed(bytes.subarray(0, i));
        t.feed(bytes.subarray(i, j));
        expect(t.atBoundary).toBe(false);
        expect(t.bytesToBoundary(bytes.subarray(j))).toBe(bytes.length - j);
        t.feed(bytes.subarray(j, bytes.length - 1));
        expect(t.atBoundary).toBe(false);
        t.feed(bytes.subarray(bytes.length - 1));
        expect(t.atBoundary).toBe(true);
      }
    }
  });

  it('reports a partial count when the frame continues past the chunk', () => {
    const t = new FrameTracker();
    const bytes = frame(1000, false);
    t.feed(bytes.subarray(0, 3));
    expect(t.bytesToBoundary(bytes.subarray(3, 500))).toBe(497);
    // A chunk holding the rest of this frame and a whole next frame stops at the first end.
    expect(t.bytesToBoundary(Buffer.concat([bytes.subarray(3), frame(2, false)]))).toBe(bytes.length - 3);
  });
});

describe('closeFrame', () => {
  /** Unmasks a Close frame and returns [masked, code, reason]. */
  function decode(f: Buffer): [boolean, number, string] {
    const masked = (f[1] & 0x80) !== 0;
    const len = f[1] & 0x7f;
    const start = masked ? 6 : 2;
    const payload = Buffer.from(f.subarray(start, start + len));
    if (masked) for (let i = 0; i < len; i++) payload[i] ^= f[2 + (i & 3)];
    return [masked, payload.readUInt16BE(0), payload.subarray(2).toString()];
  }

  it('encodes FIN + opcode 8, code and reason, masked or not', () => {
    const plain = closeFrame(1001, 'going away', false);
    expect(plain[0]).toBe(0x88);
    expect(plain.length).toBe(2 + 2 + 10);
    expect(decode(plain)).toEqual([false, 1001, 'going away']);
    const masked = closeFrame(1001, 'going away', true);
    expect(masked.length).toBe(2 + 4 + 2 + 10);
    expect(decode(masked)).toEqual([true, 1001, 'going away']);
    expect(closeFrame(1001, 'going away', true).subarray(2, 6)).not.toEqual(masked.subarray(2, 6));
    expect(boundariesByteByByte(masked)).toEqual([masked.length]);
  });

  it('refuses codes and reasons a peer would reject', () => {
    expect(() => closeFrame(999, '', false)).toThrow(RangeError);
    expect(() => closeFrame(5000, '', false)).toThrow(RangeError);
    expect(() => closeFrame(1001, 'é'.repeat(62), false)).toThrow(RangeError);
    expect(closeFrame(1001, 'x'.repeat(123), false).length).toBe(127);
  });
});

describe('against real ws peers on 127.0.0.1', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    while (cleanup.length) cleanup.pop()!();
  });

  async function wsServer(): Promise<{ wss: WebSocketServer; port: number }> {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    cleanup.push(() => wss.close());
    await once(wss, 'listening');
    return { wss, port: (wss.address() as AddressInfo).port };
  }

  /** Drops the HTTP upgrade head (through the blank line) from captured chunks, keeping the rest as chunked. */
  function afterHead(chunks: Buffer[]): Buffer[] {
    const headEnd = Buffer.concat(chunks).indexOf('\r\n\r\n') + 4;
    const out: Buffer[] = [];
    let at = 0;
    for (const c of chunks) {
      if (at + c.length > headEnd) out.push(c.subarray(Math.max(0, headEnd - at)));
      at += c.length;
    }
    return out;
  }

  it('tracks the frames ws writes in both directions, as they were chunked on the wire', async () => {
    const { wss, port } = await wsServer();
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    const up: Buffer[] = [];
    const down: Buffer[] = [];
    const relay = net.createServer((client) => {
      const origin = net.connect(port, '127.0.0.1');
      client
        .on('data', (d) => {
          up.push(d);
          origin.write(d);
        })
        .on('end', () => origin.end());
      origin
        .on('data', (d) => {
          down.push(d);
          client.write(d);
        })
        .on('end', () => client.end());
    });
    cleanup.push(() => relay.close());
    relay.listen(0, '127.0.0.1');
    await once(relay, 'listening');

    const ws = new WebSocket(`ws://127.0.0.1:${(relay.address() as AddressInfo).port}`, { perMessageDeflate: false });
    await once(ws, 'open');
    const messages = [Buffer.alloc(0), 'hello', 'x'.repeat(200), Buffer.alloc(70_000, 7), 'y'.repeat(0x10000)];
    let echoes = 0;
    const allEchoed = new Promise<void>((r) => ws.on('message', () => ++echoes === messages.length && r()));
    for (const m of messages) ws.send(m);
    ws.ping();
    await Promise.all([allEchoed, once(ws, 'pong')]);
    ws.close(1000);
    await once(ws, 'close');

    // 5 messages + ping/pong + close, each one frame.
    for (const chunks of [afterHead(up), afterHead(down)]) {
      const t = new FrameTracker();
      for (const c of chunks) t.feed(c);
      expect(t.atBoundary).toBe(true);
      expect(boundariesByteByByte(Buffer.concat(chunks))).toHaveLength(7);
    }
    expect(afterHead(up).length).toBeGreaterThan(1); // the large messages really were split
  });

  it('a masked closeFrame makes a ws server report 1001 and answer with its own Close', async () => {
    const { wss, port } = await wsServer();
    const closed = new Promise<[number, string]>((r) => wss.on('connection', (ws) => ws.on('close', (code, reason) => r([code, reason.toString()]))));
    const sock = net.connect(port, '127.0.0.1');
    cleanup.push(() => sock.destroy());
    sock.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    const received: Buffer[] = [];
    sock.on('data', (d) => received.push(d));
    await new Promise<void>((r) => sock.on('data', () => Buffer.concat(received).includes('\r\n\r\n') && r()));
    const ended = once(sock, 'end');
    sock.write(closeFrame(1001, 'going away', true));
    expect(await closed).toEqual([1001, 'going away']);
    await ended;
    const reply = Buffer.concat(afterHead(received));
    expect(reply.subarray(0, 4)).toEqual(Buffer.from([0x88, 12, 0x03, 0xe9]));
  });

  it('an unmasked frame to a server is a protocol error, which is why the flag exists', async () => {
    const { wss, port } = await wsServer();
    const failed = new Promise<string>((r) => wss.on('connection', (ws) => ws.on('error', (e: Error & { code?: string }) => r(e.code!))));
    const sock = net.connect(port, '127.0.0.1');
    cleanup.push(() => sock.destroy());
    sock.on('error', () => {});
    sock.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await once(sock, 'data');
    sock.write(closeFrame(1001, 'going away', false));
    expect(await failed).toBe('WS_ERR_EXPECTED_MASK');
  });

  it('an unmasked closeFrame makes a ws client report 1001', async () => {
    const server = net.createServer((sock) => {
      sock.once('data', (req) => {
        const key = /sec-websocket-key: *(\S+)/i.exec(req.toString())![1];
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        sock.write(closeFrame(1001, 'going away', false));
        // The client answers with its own Close; the server then ends TCP (§7.1.1).
        sock.once('data', () => sock.end());
      });
    });
    cleanup.push(() => server.close());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const [code, reason] = await once(ws, 'close');
    expect([code, reason.toString()]).toEqual([1001, 'going away']);
  });
});
