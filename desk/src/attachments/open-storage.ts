/**
 * The attachment storage a URL names. A local directory is the one backend today (a `file:` URL
 * or a path); an S3-compatible bucket (`s3://bucket/prefix`) is the next: it needs a server to
 * test against, which this project does not run yet, so it is refused by name rather than
 * offered untested.
 */
import { fileURLToPath } from 'node:url';
import { LocalStorage } from './local-storage.js';
import type { AttachmentStorage } from './storage.js';

/** A storage from its URL: `file:///var/lib/desk/files`, or a plain directory path. */
export function openAttachmentStorage(where: string): AttachmentStorage {
  if (/^s3:/i.test(where)) throw new Error(`attachment storage ${where}: S3-compatible storage is not built yet; use a directory (desk/README.md, Attachments)`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(where) && !where.startsWith('file:')) throw new Error(`attachment storage ${where}: unknown scheme (a directory path or a file: URL)`);
  return new LocalStorage(where.startsWith('file:') ? fileURLToPath(where) : where);
}
