/**
 * An SMTP message read whole, up to a bound: what the inbound listener and the mail catcher take
 * in. Past `maxSize` the rest is read and counted, never kept, so an oversized message costs its
 * bytes on the wire and no memory.
 */
import type { SMTPServerDataStream } from 'smtp-server';

/** The message, or undefined past `maxSize`. */
export async function readMessage(stream: SMTPServerDataStream, maxSize: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxSize) chunks.push(chunk);
    else chunks.length = 0;
  }
  return stream.sizeExceeded || size > maxSize ? undefined : Buffer.concat(chunks);
}
