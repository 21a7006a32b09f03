/** JSON in and out of node:http, bounded; the request target read without throwing. */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { DeskError, publicError, statusOf } from './errors.js';

/** A REST body is small: a 5,000-character message in JSON is ~20 KiB at worst. */
const MAX_BODY_BYTES = 64 * 1024;

/** Starts `server` on host:port (0: any free port) and resolves with its port; a request that cannot be parsed gets 400. */
export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  server.on('clientError', (_err, socket) => {
    if (socket.writable) refuseUpgrade(socket, 400);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * The request target as a URL, or undefined when it is not one. Node's parser passes any
 * request-target through (`GET http://[ HTTP/1.1`), and `new URL()` throws on it: read it here,
 * never with a bare `new URL(req.url)` in a listener, where a throw kills the process.
 */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://desk');
  } catch {
    return undefined;
  }
}

/** A path segment percent-decoded, or a `bad_event` (400) DeskError when it is not valid UTF-8 (`%E0%A4%A`). */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new DeskError('bad_event', 'bad percent-encoding in the path');
  }
}

/** 400 for a request whose target is not a URL; the connection is closed after it (RFC 9112 §3.2: a bad request-target). */
export function badTarget(res: ServerResponse): void {
  sendJson(res, 400, { error: { code: 'bad_event', message: 'bad request target' } }, { connection: 'close' });
  res.once('finish', () => res.socket?.destroy());
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

/**
 * Answers an upgrade that is not taken with `status` and an optional JSON body, then destroys the
 * socket: `end()` alone leaves it open for a client that never reads (it keeps its slot).
 */
export function refuseUpgrade(socket: Duplex, status: number, body?: unknown): void {
  socket.on('error', () => socket.destroy());
  const text = body === undefined ? '' : JSON.stringify(body);
  const type = text ? 'Content-Type: application/json\r\n' : '';
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nConnection: close\r\n${type}Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`, () => socket.destroy());
  // A client that does not read may never let the answer finish: cut it anyway.
  setTimeout(() => socket.destroy(), 2000).unref();
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** `{error: {code, message}}` with the error's status. */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const retry = err instanceof DeskError && err.retryAfter !== undefined ? { 'retry-after': String(Math.max(1, Math.ceil(err.retryAfter))) } : undefined;
  sendJson(res, statusOf(err), { error: publicError(err) }, retry);
}

/** Reads a JSON object body (empty = `{}`); `too_large` past 64 KiB, `bad_event` when it is not a JSON object. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new DeskError('too_large', 'request body too large');
    chunks.push(chunk);
  }
  if (size === 0) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new DeskError('bad_event', 'body is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new DeskError('bad_event', 'body must be a JSON object');
  return raw as Record<string, unknown>;
}
