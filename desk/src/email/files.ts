/**
 * The files a message carries, as emails show them: a line per file with its absolute link
 * (`publicUrl` is where people reach Desk). Pure.
 */
import type { Message } from '../store/types.js';

export interface EmailFile {
  name: string;
  href: string;
  size: string;
}

export function emailFiles(m: Message, publicUrl: string): EmailFile[] {
  const base = publicUrl.replace(/\/+$/, '');
  return m.attachments.map((a) => ({ name: a.name, href: `${base}/files/${a.id}/${encodeURIComponent(a.name)}`, size: sizeLabel(a.size) }));
}

/** A message's text in a plain-text email: its body, then a line per file. */
export function emailText(m: Message, publicUrl: string): string {
  const files = emailFiles(m, publicUrl).map((f) => `📎 ${f.name} (${f.size}): ${f.href}`);
  return [m.body, ...files].filter((line) => line !== '').join('\n');
}

function sizeLabel(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
