/**
 * WebSocket frame boundaries (RFC 6455 §5.2) for a splice that never parses messages.
 *
 * The edge copies WebSocket bytes between client and origin untouched. To shut down gracefully
 * it sends a Close frame (1001 "going away", §7.4.1) into each direction, which is only valid
 * between two frames: written mid-frame, it would be read as payload. A `FrameTracker` per
 * direction follows just the frame headers to know where those boundaries are. Between
 * fragments of one message is a boundary too, since control frames may be injected there
 * (§5.4). Extensions such as permessage-deflate only use RSV bits and do not change framing.
 *
 * Draining one direction: if `atBoundary`, write the Close frame now; otherwise, for each next
 * chunk, forward (and feed) only `chunk.subarray(0, bytesToBoundary(chunk))`, then write the
 * Close frame once `atBoundary` holds. Forward nothing after it in that direction: an endpoint
 * sends no data frames after its Close (§5.5.1).
 */
import { randomFillSync } from 'node:crypto';

/** Longest frame header: 2 bytes + 8 bytes of 64-bit length + 4 bytes of masking key. */
const MAX_HEADER = 14;

/** Follows frame headers in one direction of a WebSocket byte stream; see the module comment. */
export class FrameTracker {
  /** Header bytes of the frame in progress, when its header was split across chunks. */
  private readonly header = Buffer.allocUnsafe(MAX_HEADER);
  /** How many header bytes are in `header` (0 when not inside a header). */
  private headerLen = 0;
  /** Payload bytes of the current frame not yet seen. */
  private payloadLeft = 0;

  /** True when no frame is partly transmitted: no partial header, no payload pending. */
  get atBoundary(): boolean {
    return this.headerLen === 0 && this.payloadLeft === 0;
  }

  /** Accounts for every byte of `chunk`, which has just passed in this direction. */
  feed(chunk: Buffer): void {
    this.advance(chunk, false);
  }

  /**
   * How many leading bytes of `chunk` finish the frame in progress: 0 when already at a
   * boundary, `chunk.length` when the frame goes on past this chunk. Does not consume them;
   * feed that slice afterwards.
   */
  bytesToBoundary(chunk: Buffer): number {
    if (this.atBoundary) return 0;
    // `advance` only appends to `header` past headerLen, so restoring the two counters undoes it.
    const { headerLen, payloadLeft } = this;
    const n = this.advance(chunk, true);
    this.headerLen = headerLen;
    this.payloadLeft = payloadLeft;
    return n;
  }

  /**
   * Walks `chunk` frame by frame. With `stopAtBoundary`, returns the offset of the first
   * boundary reached (callers ensure it is not at one on entry); otherwise `chunk.length`.
   */
  private advance(chunk: Buffer, stopAtBoundary: boolean): number {
    const end = chunk.length;
    let off = 0;
    while (off < end) {
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, end - off);
        this.payloadLeft -= take;
        off += take;
      } else if (this.headerLen === 0 && end - off >= 2 && end - off >= headerSize(chunk[off + 1])) {
        // Fast path: the whole header is in this chunk, read it in place without copying.
        this.payloadLeft = payloadLength(chunk, off);
        off += headerSize(chunk[off + 1]);
      } else {
        // Slow path: collect the header byte by byte until it is complete.
        this.header[this.headerLen++] = chunk[off++];
        if (this.headerLen < 2 || this.headerLen < headerSize(this.header[1])) continue;
        this.payloadLeft = payloadLength(this.header, 0);
        this.headerLen = 0;
      }
      if (stopAtBoundary && this.atBoundary) return off;
    }
    return end;
  }
}

/** Header size from the second header byte: mask bit and 7-bit length (§5.2). */
function headerSize(byte1: number): number {
  const len7 = byte1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (byte1 & 0x80 ? 4 : 0);
}

/** Payload length of the complete header at `buf[off]`: 7 bits, or 16 / 64 bits that follow. */
function payloadLength(buf: Buffer, off: number): number {
  const len7 = buf[off + 1] & 0x7f;
  if (len7 === 126) return buf.readUInt16BE(off + 2);
  // 64-bit length, most significant bit 0; a Number is exact up to 2^53 bytes, plenty here.
  if (len7 === 127) return buf.readUInt32BE(off + 2) * 2 ** 32 + buf.readUInt32BE(off + 6);
  return len7;
}

/**
 * A complete Close frame (§5.5.1): FIN, opcode 0x8, payload = 2-byte status code + UTF-8 reason.
 * `masked` must be true for frames sent to a server (client → server, §5.3), with a fresh random
 * key, and false towards a client. Throws a RangeError for a code outside 1000-4999 or a reason
 * over 123 bytes (control frame payloads are at most 125 bytes, §5.5).
 */
export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  if (!Number.isInteger(code) || code < 1000 || code > 4999) throw new RangeError(`invalid close code ${code}`);
  const reasonLen = Buffer.byteLength(reason);
  if (reasonLen > 123) throw new RangeError('close reason longer than 123 bytes');
  const payloadLen = 2 + reasonLen;
  const keyLen = masked ? 4 : 0;
  const frame = Buffer.allocUnsafe(2 + keyLen + payloadLen);
  frame[0] = 0x88;
  frame[1] = (masked ? 0x80 : 0) | payloadLen;
  const start = 2 + keyLen;
  frame.writeUInt16BE(code, start);
  frame.write(reason, start + 2);
  if (masked) {
    randomFillSync(frame, 2, 4);
    // §5.3: payload byte i is XORed with key byte i mod 4.
    for (let i = 0; i < payloadLen; i++) frame[start + i] ^= frame[2 + (i & 3)];
  }
  return frame;
}
