/**
 * A message's file in the thread (desk/PROTOCOL.md, Attachments): an image as a preview inside a
 * link to it, anything else as a chip link with a file icon, its name and size. Both open in a new
 * tab; the server serves images inline and everything else as a download, with nosniff and a
 * sandbox, so a link to a file never runs anything on the Desk's origin.
 */
import type { AttachmentView } from '../../src/protocol.js';
import { sizeLabel } from '../shared/upload.js';
import { el, fileIcon } from './dom.js';

/** `base` is the Desk this script came from: a file's url is relative to it. */
export function attachmentLink(a: AttachmentView, base: string): HTMLAnchorElement {
  const image = a.type.startsWith('image/');
  const link = el('a', image ? 'file-image' : 'file', undefined, { href: base + a.url, target: '_blank', rel: 'noopener noreferrer' });
  if (image) {
    // A fixed height in widget.css: the thread does not jump when the preview arrives.
    link.append(el('img', '', undefined, { alt: a.name, loading: 'lazy', src: base + a.url }));
    return link;
  }
  link.append(fileIcon(), el('span', 'file-name', a.name), el('span', 'file-size', sizeLabel(a.size)));
  return link;
}
