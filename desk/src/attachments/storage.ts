/**
 * Where attachments' bytes live: one interface, each backend passing one contract suite
 * (desk/test/attachment-storage.test.ts), chosen by URL in open-storage.ts. Keys are attachment
 * ids (`f_…`, random): a backend never sees a name someone chose.
 */
import type { Readable } from 'node:stream';

export interface AttachmentStorage {
  /**
   * Stores `source` under `key`, at most `maxBytes` (more: the write fails with
   * TooLargeError and nothing is kept). Resolves with the bytes stored. `check` sees the first
   * 16 bytes (the whole file when shorter) before anything is kept, and may throw to refuse it.
   */
  write(key: string, source: Readable, maxBytes: number, check?: (head: Buffer) => void): Promise<number>;
  /** The bytes under `key`, or undefined when there are none. */
  read(key: string): Promise<Readable | undefined>;
  remove(key: string): Promise<void>;
}

export class TooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`larger than ${maxBytes} bytes`);
  }
}
