/**
 * What may be attached, and how it is served (pure). A file is accepted only with a declared type
 * of this list whose first bytes agree with it where the type has a signature (an HTML page
 * declared `image/png` is refused), and served as that type with `nosniff`: raster images inline
 * (previews), everything else as a download. Never HTML, SVG or anything a browser would run.
 * Names keep what a person wrote (Unicode included) minus paths and control characters, and end
 * with an extension of their type, so `invoice.html` sent as text arrives as `invoice.html.txt`.
 */

import type { AttachmentPolicy } from './policy.js';

/** 10 MiB: photos from a phone, PDFs, logs. */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
/** Files one message carries at most. */
export const MAX_ATTACHMENTS = 10;
const MAX_NAME = 120;

export function attachmentPolicy(maxBytes = MAX_ATTACHMENT_BYTES): AttachmentPolicy {
  return { maxBytes, types: KINDS.map((k) => k.type) };
}

export interface Kind {
  type: string;
  /** Extensions, the first one added to a name that has none of them. */
  ext: string[];
  /** Shown in the page (an image preview); anything else is a download. */
  inline: boolean;
  /** The first bytes of such a file, when the type has a signature. */
  signature?: (head: Uint8Array) => boolean;
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const startsWith = (bytes: number[] | string, at = 0) => {
  const sig = typeof bytes === 'string' ? ascii(bytes) : bytes;
  return (head: Uint8Array) => head.length >= at + sig.length && sig.every((b, i) => head[at + i] === b);
};
const zip = startsWith([0x50, 0x4b, 0x03, 0x04]);

export const KINDS: readonly Kind[] = [
  { type: 'image/png', ext: ['.png'], inline: true, signature: startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { type: 'image/jpeg', ext: ['.jpg', '.jpeg'], inline: true, signature: startsWith([0xff, 0xd8, 0xff]) },
  { type: 'image/gif', ext: ['.gif'], inline: true, signature: (h) => startsWith('GIF87a')(h) || startsWith('GIF89a')(h) },
  { type: 'image/webp', ext: ['.webp'], inline: true, signature: (h) => startsWith('RIFF')(h) && startsWith('WEBP', 8)(h) },
  { type: 'application/pdf', ext: ['.pdf'], inline: false, signature: startsWith('%PDF-') },
  { type: 'text/plain', ext: ['.txt', '.log'], inline: false },
  { type: 'text/csv', ext: ['.csv'], inline: false },
  { type: 'application/zip', ext: ['.zip'], inline: false, signature: zip },
  { type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', ext: ['.docx'], inline: false, signature: zip },
  { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', ext: ['.xlsx'], inline: false, signature: zip },
  { type: 'application/vnd.openxmlformats-officedocument.presentationml.presentation', ext: ['.pptx'], inline: false, signature: zip },
  { type: 'application/vnd.oasis.opendocument.text', ext: ['.odt'], inline: false, signature: zip },
  { type: 'application/vnd.oasis.opendocument.spreadsheet', ext: ['.ods'], inline: false, signature: zip },
];

const BY_TYPE = new Map(KINDS.map((k) => [k.type, k]));

/** The kind of a declared Content-Type (parameters and case ignored), or undefined when it may not be attached. */
export function kindOf(contentType: string | undefined): Kind | undefined {
  if (!contentType) return undefined;
  return BY_TYPE.get(contentType.split(';')[0]!.trim().toLowerCase());
}

/** Whether the file's first bytes agree with its kind (a kind without a signature: any bytes). */
export function agrees(kind: Kind, head: Uint8Array): boolean {
  return kind.signature ? kind.signature(head) : true;
}

/** The name a file is stored and served under. */
export function safeName(raw: string, kind: Kind): string {
  const base = raw.split(/[\\/]/).pop() ?? '';
  let name = base
    .normalize('NFC')
    // Control and format characters (bidi overrides make `gpj.exe` read as `exe.jpg`) and quotes.
    .replace(/[\p{Cc}\p{Cf}"]/gu, '')
    .trim()
    .replace(/^\.+/, '');
  if ([...name].length > MAX_NAME) name = [...name].slice(0, MAX_NAME).join('');
  if (!name) name = 'file';
  const lower = name.toLowerCase();
  return kind.ext.some((e) => lower.endsWith(e)) ? name : `${name}${kind.ext[0]}`;
}

/** A size as people read it: 820 B, 48 KB, 2.4 MB (emails, the widget and the inbox). */
export function sizeLabel(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Content-Disposition (RFC 6266) with an ASCII fallback name and the UTF-8 one (RFC 8187). */
export function contentDisposition(name: string, inline: boolean): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/[\\"]/g, '_');
  const utf8 = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}
