/**
 * The files going with the next message, in a tray above the composer's textarea. Each file is
 * checked against the welcome's policy (shared/upload.ts: type and size, refused at once) and
 * uploaded as soon as it is picked, shown as a chip: "Uploading…", then its name and size (an
 * image with its preview), with × to take it out. A refusal or a failed upload is a line that
 * says why, read out (role=alert); what the visitor typed is never touched.
 */
import type { AttachmentPolicy, AttachmentView } from '../../src/protocol.js';
import { refusal, sizeLabel, UploadError, type UploadRefusal } from '../shared/upload.js';
import { el, fileIcon, removeIcon } from './dom.js';
import type { Strings } from './locales/strings.js';

/** PROTOCOL.md, message.send: up to 10 files per message. */
export const MAX_FILES = 10;

export interface Tray {
  /** The error line and the chips, for the composer to place. */
  error: HTMLParagraphElement;
  list: HTMLUListElement;
  /** Checks and uploads these files (picked or pasted). */
  add(files: readonly File[], policy: AttachmentPolicy): void;
  /** The files uploaded, in the order picked. */
  ready(): AttachmentView[];
  /** A file is still on its way up. */
  busy(): boolean;
  /** After a send: empty, no error. */
  clear(): void;
}

interface Entry {
  file: File;
  chip: HTMLLIElement;
  /** Set once uploaded. */
  view?: AttachmentView;
}

/**
 * `upload` sends one file where the widget's session and conversation say (main.ts); `base` is
 * where a file's url is served; `changed` runs whenever what could be sent changed.
 */
export function createTray(t: Strings, base: string, upload: (file: File) => Promise<AttachmentView>, changed: () => void): Tray {
  const error = el('p', 'tray-error', undefined, { role: 'alert' });
  const list = el('ul', 'tray');
  let entries: Entry[] = [];

  function sync(): void {
    list.hidden = entries.length === 0;
    error.hidden = !error.textContent;
    changed();
  }

  function say(text: string): void {
    error.textContent = text;
    sync();
  }

  function why(reason: UploadRefusal, file: File, policy: AttachmentPolicy): string {
    if (reason === 'type') return t.fileType(file.name);
    if (reason === 'size') return t.fileSize(file.name, sizeLabel(policy.maxBytes));
    return reason === 'rate' ? t.fileRate : t.fileFailed(file.name);
  }

  function remove(entry: Entry): void {
    entries = entries.filter((e) => e !== entry);
    entry.chip.remove();
  }

  /**
   * A file's chip: a spinner, its name, "Uploading…" and ×; once uploaded (the function it
   * returns) its preview or a file icon and its size, in place, so a focused × keeps focus.
   */
  function chip(entry: Entry): (view: AttachmentView) => void {
    const spin = el('span', 'spin', undefined, { 'aria-hidden': 'true' });
    const size = el('span', 'chip-size', t.uploading);
    const x = el('button', 'chip-remove', undefined, { type: 'button', 'aria-label': t.removeFile(entry.file.name) });
    x.append(removeIcon());
    x.addEventListener('click', () => {
      remove(entry);
      error.textContent = '';
      sync();
    });
    entry.chip.className = 'chip is-uploading';
    entry.chip.append(spin, el('span', 'chip-name', entry.file.name), size, x);
    return (view) => {
      entry.view = view;
      entry.chip.className = 'chip';
      spin.replaceWith(view.type.startsWith('image/') ? el('img', '', undefined, { alt: '', src: base + view.url }) : fileIcon());
      size.textContent = sizeLabel(view.size);
    };
  }

  function add(files: readonly File[], policy: AttachmentPolicy): void {
    error.textContent = '';
    for (const file of files) {
      if (entries.length >= MAX_FILES) {
        error.textContent = t.tooManyFiles;
        break;
      }
      const refused = refusal(file, policy);
      if (refused) {
        error.textContent = why(refused, file, policy);
        continue;
      }
      const entry: Entry = { file, chip: el('li') };
      const uploaded = chip(entry);
      entries.push(entry);
      list.append(entry.chip);
      upload(file).then(
        (view) => {
          if (!entries.includes(entry)) return; // removed meanwhile
          uploaded(view);
          sync();
        },
        (e: unknown) => {
          if (!entries.includes(entry)) return;
          remove(entry);
          say(why(e instanceof UploadError ? e.reason : 'failed', file, policy));
        },
      );
    }
    sync();
  }

  list.hidden = error.hidden = true;
  return {
    error,
    list,
    add,
    ready: () => entries.flatMap((e) => (e.view ? [e.view] : [])),
    busy: () => entries.some((e) => !e.view),
    clear() {
      for (const e of entries) e.chip.remove();
      entries = [];
      error.textContent = '';
      sync();
    },
  };
}
