/**
 * A message's files in the thread (desk/PROTOCOL.md, Attachments): images as previews, anything
 * else as a chip with its name and size; each a link that opens the file in a new tab (the server
 * serves images inline and everything else as a download).
 */
import type { AttachmentView } from '../../src/protocol.js';
import { sizeLabel } from '../shared/upload.js';
import { h, icon } from './dom.js';

/** The types a browser shows inline (the server serves these with `inline`). */
const IMAGES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

export function isImage(type: string): boolean {
  return IMAGES.includes(type);
}

/**
 * Where to fetch a file from the page: the server's URLs are relative to the Desk node
 * ("/files/…"), read here relative to the page like every other path of the inbox, so it works
 * under a prefix too; an absolute URL (another host) stays as it is.
 */
export function fileHref(url: string): string {
  return url.startsWith('/') && !url.startsWith('//') ? `.${url}` : url;
}

/** The files of one message, or null when it has none. */
export function messageFiles(files: readonly AttachmentView[]): HTMLDivElement | null {
  if (!files.length) return null;
  return h('div', { class: 'msg-files' }, ...files.map(fileLink));
}

function fileLink(a: AttachmentView): HTMLAnchorElement {
  const link = { href: fileHref(a.url), target: '_blank', rel: 'noopener noreferrer' };
  // The preview's height is fixed by the style sheet: an image that loads late never moves the thread.
  if (isImage(a.type)) return h('a', { ...link, class: 'att-image', title: `${a.name}, ${sizeLabel(a.size)}` }, h('img', { src: link.href, alt: a.name, loading: 'lazy' }));
  return h('a', { ...link, class: 'file-chip' }, icon('file'), h('span', { class: 'file-name' }, a.name), h('span', { class: 'file-size' }, sizeLabel(a.size)));
}
