/**
 * A lingering close for sockets the edge answers and then closes itself (refusals of the parser,
 * of an upgrade, of the route phase on a raw socket). end() only half-closes: the socket stays
 * open until the peer closes its side too, so a client that never reads (or never sends its FIN)
 * would keep the connection, and its slot under `limits.maxConnections`, for good. The socket is
 * destroyed `REFUSED_LINGER_MS` after the answer was handed over, unless the peer closed first;
 * destroying at once could reset the connection before the client read the answer (RFC 9112
 * §9.6; nginx's lingering_timeout is the same idea).
 */
import type { Duplex } from 'node:stream';

/** How long a refused client has to read its answer before the socket is destroyed. */
export const REFUSED_LINGER_MS = 2000;

/** Writes `answer`, half-closes, and destroys `socket` REFUSED_LINGER_MS later unless it closed first. */
export function endAndLinger(socket: Duplex, answer: string): void {
  socket.end(answer);
  closeAfterLinger(socket);
}

/** Destroys `socket` `REFUSED_LINGER_MS` after now, unless it closed by itself before. */
export function closeAfterLinger(socket: Duplex): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
