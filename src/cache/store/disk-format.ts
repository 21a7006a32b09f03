/**
 * The disk store's file format and file names.
 *
 * One file per key, named by the hex sha256 of the key, under two levels of fan-out directories
 * (`ab/cd/abcd…`) so no directory grows past a few thousand files. A file is:
 *
 *   0   4  magic "OPC\x01"
 *   4   2  format version (uint16 BE, 1)
 *   6   2  reserved, 0
 *   8   4  metadata length M (uint32 BE)
 *   12  M  StoredMeta as JSON, padded with spaces (room for the final size while streaming)
 *   12+M   the body, exactly meta.size bytes
 *
 * A file whose length is not 12 + M + meta.size, whose magic or version is wrong, whose JSON does
 * not parse, or whose key does not hash to its name is corrupted.
 *
 * Writers fill a temp file beside the final one (`<hash>.<pid>.<instance>.<seq>.tmp`) and rename
 * it over the final name, so a reader opens either the old file or the new one, never half of one.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { StoredMeta } from '../types.js';

export const HEADER_BYTES = 12;
const MAGIC = 0x4f504301; // "OPC\x01"
const VERSION = 1;
/** Spaces after the JSON: a streamed body's final size may have more digits than the declared one. */
const META_PAD = 24;

const HASH_NAME = /^[0-9a-f]{64}$/;
const TEMP_NAME = /^([0-9a-f]{64})\.(\d+)\.([0-9a-z]+)\.(\d+)\.tmp$/;

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Where the file of a key hash lives: `root/ab/cd/<hash>`. */
export function entryPath(root: string, hash: string): string {
  return join(root, hash.slice(0, 2), hash.slice(2, 4), hash);
}

export function tempName(hash: string, pid: number, instance: string, seq: number): string {
  return `${hash}.${pid}.${instance}.${seq}.tmp`;
}

export function isEntryName(name: string): boolean {
  return HASH_NAME.test(name);
}

/** The writer of a temp file, or undefined when the name is not one of ours. */
export function parseTempName(name: string): { pid: number; instance: string } | undefined {
  const m = TEMP_NAME.exec(name);
  return m === null ? undefined : { pid: Number(m[2]), instance: m[3] };
}

/**
 * Header plus padded metadata: the bytes before the body. `room` reserves that many bytes for the
 * JSON (so a final meta can be written in the same place); the default leaves META_PAD spare.
 */
export function encodeHead(meta: StoredMeta, room?: number): Buffer {
  const json = Buffer.from(JSON.stringify(meta));
  const metaBytes = room ?? json.length + META_PAD;
  if (json.length > metaBytes) throw new Error('metadata outgrew its reserved room');
  const head = Buffer.alloc(HEADER_BYTES + metaBytes, 0x20);
  head.writeUInt32BE(MAGIC, 0);
  head.writeUInt16BE(VERSION, 4);
  head.writeUInt16BE(0, 6);
  head.writeUInt32BE(metaBytes, 8);
  json.copy(head, HEADER_BYTES);
  return head;
}

/** The metadata length the header declares, or undefined when the header is not ours. */
export function readMetaLength(head: Buffer): number | undefined {
  if (head.length < HEADER_BYTES) return undefined;
  if (head.readUInt32BE(0) !== MAGIC || head.readUInt16BE(4) !== VERSION) return undefined;
  return head.readUInt32BE(8);
}

/**
 * Parses the metadata of a file of `fileBytes` bytes named `hash`, given at least its first
 * HEADER_BYTES + metaLength bytes; undefined when anything is off (the file is corrupted).
 */
export function decodeMeta(head: Buffer, fileBytes: number, hash: string): StoredMeta | undefined {
  const metaLength = readMetaLength(head);
  if (metaLength === undefined || head.length < HEADER_BYTES + metaLength) return undefined;
  let meta: StoredMeta;
  try {
    meta = JSON.parse(head.toString('utf8', HEADER_BYTES, HEADER_BYTES + metaLength)) as StoredMeta;
  } catch {
    return undefined;
  }
  if (typeof meta !== 'object' || meta === null || typeof meta.key !== 'string') return undefined;
  if (typeof meta.size !== 'number' || HEADER_BYTES + metaLength + meta.size !== fileBytes) return undefined;
  if (!Array.isArray(meta.tags) || typeof meta.host !== 'string') return undefined;
  if (hashKey(meta.key) !== hash) return undefined;
  return meta;
}
