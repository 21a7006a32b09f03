/**
 * Uploading a file to Desk (desk/PROTOCOL.md, Attachments), for the widget and the inbox: checked
 * against the welcome's policy first (type and size, so a refusal is immediate and says why),
 * then POSTed as the request body. The caller adds its credential (the widget's session header,
 * the inbox's bearer) and shows what comes back.
 */
import type { AttachmentPolicy, AttachmentView } from '../../src/protocol.js';

export { sizeLabel } from '../../src/attachments/kinds.js';

export type UploadRefusal = 'type' | 'size' | 'rate' | 'failed';

export class UploadError extends Error {
  constructor(readonly reason: UploadRefusal) {
    super(`upload refused: ${reason}`);
  }
}

/** Why `file` may not be attached under `policy`, or undefined when it may. */
export function refusal(file: { type: string; size: number }, policy: AttachmentPolicy): UploadRefusal | undefined {
  if (!policy.types.includes(file.type)) return 'type';
  if (file.size === 0 || file.size > policy.maxBytes) return 'size';
  return undefined;
}

export async function upload(base: string, query: Record<string, string>, file: File, headers: Record<string, string>, policy: AttachmentPolicy): Promise<AttachmentView> {
  const refused = refusal(file, policy);
  if (refused) throw new UploadError(refused);
  const params = new URLSearchParams({ ...query, name: file.name });
  let res: Response;
  try {
    res = await fetch(`${base}/api/attachments?${params}`, { method: 'POST', headers: { ...headers, 'content-type': file.type }, body: file });
  } catch {
    throw new UploadError('failed');
  }
  if (res.status === 201) return ((await res.json()) as { attachment: AttachmentView }).attachment;
  throw new UploadError(res.status === 415 ? 'type' : res.status === 413 ? 'size' : res.status === 429 ? 'rate' : 'failed');
}
