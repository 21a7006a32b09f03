/** JSON in and out of node:http, bounded. */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeskError, publicError, statusOf } from './errors.js';

/** A REST body is small: a 5,000-character message in JSON is ~20 KiB at worst. */
const MAX_BODY_BYTES = 64 * 1024;

/** Starts `server` on host:port (0: any free port) and resolves with its port; a request that cannot be parsed gets 400. */
export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
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
  sendJson(res, statusOf(err), { error: publicError(err) });
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
