/**
 * The WebSocket handshake with an origin over a raw socket: write the request head, read the
 * response head, hand back the socket. No http.ClientRequest and no HTTP parser stay attached to
 * a tunnel that may live for hours (memory per idle WebSocket matters at 10,000s of them).
 */
import type net from 'node:net';
import type { OriginRuntime } from './origin.js';
import { connectTo, spareTarget } from './spare-sockets.js';

export interface HandshakeResult {
  socket: net.Socket;
  status: number;
  statusText: string;
  /** Flat [name, value, …] as received. */
  rawHeaders: string[];
  /** Bytes received after the response head (first frames, or the start of an error body). */
  rest: Buffer;
  /** The connection was opened ahead (websocket.preconnect), not for this upgrade. */
  preconnected: boolean;
}

const MAX_HEAD = 16 * 1024;

export function errnoError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Connects to `origin`, sends `GET path` with `headers`, resolves with the origin's answer head.
 * Rejects with errors whose `code` classifyUpstreamError understands.
 */
export function upgradeHandshake(
  origin: OriginRuntime,
  path: string,
  headers: string[],
  connectTimeoutMs: number,
  responseTimeoutMs: number,
  signal: { aborted: boolean; onAbort?: () => void },
): Promise<HandshakeResult> {
  const spare = origin.spares?.take();
  if (!spare) return handshake(origin, connectTo(spareTarget(origin, connectTimeoutMs)), false, path, headers, connectTimeoutMs, responseTimeoutMs, signal);
  // A spare the origin closed at the moment it was taken fails before any answer: then a new
  // connection, as if there had been no spare (not an origin failure).
  return handshake(origin, spare, true, path, headers, connectTimeoutMs, responseTimeoutMs, signal).catch((err: { code?: string }) => {
    if (signal.aborted || (err.code !== 'UND_ERR_SOCKET' && err.code !== 'ECONNRESET' && err.code !== 'EPIPE')) throw err;
    return handshake(origin, connectTo(spareTarget(origin, connectTimeoutMs)), false, path, headers, connectTimeoutMs, responseTimeoutMs, signal);
  });
}

function handshake(
  origin: OriginRuntime,
  socket: net.Socket,
  connected: boolean,
  path: string,
  headers: string[],
  connectTimeoutMs: number,
  responseTimeoutMs: number,
  signal: { aborted: boolean; onAbort?: () => void },
): Promise<HandshakeResult> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let buf: Buffer = Buffer.alloc(0);
    const onConnectTimeout = () => fail(errnoError('connect timeout', 'UND_ERR_CONNECT_TIMEOUT'));
    const onResponseTimeout = () => fail(errnoError('no upgrade answer in time', 'UND_ERR_HEADERS_TIMEOUT'));
    const onEnd = () => fail(errnoError('origin closed before answering', 'UND_ERR_SOCKET'));
    const onConnected = () => {
      socket.off('timeout', onConnectTimeout);
      socket.on('timeout', onResponseTimeout);
      socket.setTimeout(responseTimeoutMs);
      let head = `GET ${path} HTTP/1.1\r\n`;
      for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
      socket.write(`${head}\r\n`);
    };
    const connectEvent = origin.secure ? 'secureConnect' : 'connect';
    // Every listener goes on success: a tunnel may live for hours, and a listener left behind
    // would keep this whole scope (headers, buffers) alive with it.
    const detach = () => {
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('end', onEnd);
      socket.off('timeout', onConnectTimeout);
      socket.off('timeout', onResponseTimeout);
      socket.off(connectEvent, onConnected);
      socket.setTimeout(0);
      signal.onAbort = undefined;
    };
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      detach();
      socket.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buf.length > MAX_HEAD) fail(errnoError('response head too large', 'HPE_HEADER_OVERFLOW'));
        return;
      }
      const parsed = parseHead(buf.subarray(0, end).toString('latin1'));
      if (!parsed) return fail(errnoError('not an HTTP response', 'HPE_INVALID_CONSTANT'));
      settled = true;
      detach();
      socket.pause();
      // Copy what followed the head, so the tunnel does not pin the whole first read.
      resolve({ socket, ...parsed, rest: Buffer.from(buf.subarray(end + 4)), preconnected: connected });
    };
    signal.onAbort = () => fail(errnoError('client went away', 'UND_ERR_ABORTED'));
    socket.on('error', fail);
    socket.on('end', onEnd);
    socket.on('data', onData);
    if (connected) return onConnected();
    socket.on('timeout', onConnectTimeout);
    socket.setTimeout(connectTimeoutMs);
    socket.once(connectEvent, onConnected);
  });
}

/** `HTTP/1.1 101 Switching Protocols\r\nName: value…` → status and raw headers (RFC 9112 §4, §5). */
export function parseHead(text: string): { status: number; statusText: string; rawHeaders: string[] } | undefined {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) return undefined;
  const rawHeaders: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    // No obs-fold, no whitespace before the colon (RFC 9112 §5.1-5.2): refuse rather than guess.
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) return undefined;
    rawHeaders.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return { status: Number(m[1]), statusText: m[2] ?? '', rawHeaders };
}
