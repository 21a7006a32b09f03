/**
 * The files a message carries, as emails show them: a line per file with its absolute link
 * (`publicUrl` is where people reach Desk). Pure.
 */
import { sizeLabel } from '../attachments/kinds.js';
import { fileUrl } from '../server/views.js';
import type { Message } from '../store/types.js';

export interface EmailFile {
  name: string;
  href: string;
  size: string;
}

export function emailFiles(m: Message, publicUrl: string): EmailFile[] {
  const base = publicUrl.replace(/\/+$/, '');
  return m.attachments.map((a) => ({ name: a.name, href: `${base}${fileUrl(a)}`, size: sizeLabel(a.size) }));
}

/** A message's text in a plain-text email: its body, then a line per file. */
export function emailText(m: Message, publicUrl: string): string {
  const files = emailFiles(m, publicUrl).map((f) => `📎 ${f.name} (${f.size}): ${f.href}`);
  return [m.body, ...files].filter((line) => line !== '').join('\n');
}
