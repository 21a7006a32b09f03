/**
 * The composer's files (desk/PROTOCOL.md, Attachments): the paperclip with its hidden file input,
 * an image pasted into the textarea, files dropped on the composer. Each file is checked against
 * the welcome's policy first (shared/upload.ts refusal(): its type and size, refused at once and
 * saying why), uploaded into the conversation it was picked for, and shown in the tray above the
 * textarea while it goes up, then as a chip with its remove button. A message takes the files of
 * its conversation's tray; each conversation keeps its own, like its draft.
 */
import type { AttachmentPolicy, AttachmentView } from '../../src/protocol.js';
import { refusal, sizeLabel, UploadError, type UploadRefusal } from '../shared/upload.js';
import { h, icon } from './dom.js';
import { fileHref, isImage } from './files.js';

/** The most files one message names (PROTOCOL.md, message.send). */
export const MAX_FILES = 10;

interface TrayItem {
  name: string;
  size: number;
  type: string;
  /** Set once uploaded; until then the item shows as uploading. */
  attachment?: AttachmentView;
}

export interface AttachOptions {
  form: HTMLFormElement;
  input: HTMLTextAreaElement;
  /** The welcome's policy; null: this Desk takes no files (no paperclip, nothing taken). */
  policy(): AttachmentPolicy | null;
  conversation(): string | null;
  upload(conversation: string, file: File): Promise<AttachmentView>;
  /** The tray changed: what may be sent changed with it. */
  onChange(): void;
}

export interface ComposerFiles {
  /** The paperclip, hidden while this Desk takes no files. */
  button: HTMLButtonElement;
  /** The uploaded files of the conversation on screen. */
  ready(): AttachmentView[];
  /** A file of the conversation on screen is still going up. */
  busy(): boolean;
  /** After a send: the tray of the conversation on screen is empty again. */
  clear(): void;
  /** Another conversation is on screen, or the policy came: drawn again. */
  refresh(): void;
}

export function setupComposerFiles(opts: AttachOptions): ComposerFiles {
  const { form, input } = opts;
  const trays = new Map<string, TrayItem[]>();
  const picker = h('input', { type: 'file', id: 'composer-file', multiple: true, hidden: true, tabindex: '-1', 'aria-label': 'Files to attach' });
  const button = h('button', { type: 'button', class: 'icon-btn attach-button', 'aria-label': 'Attach a file', title: 'Attach a file', hidden: true, onclick: () => picker.click() }, icon('clip'));
  const error = h('p', { class: 'composer-error', id: 'composer-error', role: 'alert', hidden: true });
  const tray = h('ul', { class: 'tray', 'aria-label': 'Files to send', hidden: true });
  const status = h('span', { class: 'sr-only', role: 'status' });
  input.before(error, tray);
  form.append(picker, status);
  let shownFor: string | null = null;

  picker.addEventListener('change', () => {
    add([...(picker.files ?? [])]);
    picker.value = ''; // the same file may be picked again
  });
  // A pasted image (a screenshot); text copied with a picture pastes as text.
  input.addEventListener('paste', (e) => {
    const data = e.clipboardData;
    if (!data || !opts.policy() || data.types.includes('text/plain') || !data.files.length) return;
    e.preventDefault();
    add([...data.files]);
  });
  const carriesFiles = (e: DragEvent) => !!opts.policy() && !!e.dataTransfer?.types.includes('Files');
  form.addEventListener('dragover', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    form.classList.add('is-dropping');
  });
  form.addEventListener('dragleave', (e) => {
    if (!form.contains(e.relatedTarget as Node | null)) form.classList.remove('is-dropping');
  });
  form.addEventListener('drop', (e) => {
    form.classList.remove('is-dropping');
    if (!carriesFiles(e)) return;
    e.preventDefault();
    add([...(e.dataTransfer?.files ?? [])]);
  });

  function current(): TrayItem[] {
    const id = opts.conversation();
    return (id && trays.get(id)) || [];
  }

  /** Checks each file, then uploads the accepted ones into the conversation on screen. */
  function add(files: File[]): void {
    const policy = opts.policy();
    const conversation = opts.conversation();
    if (!policy || !conversation || !files.length) return;
    let items = trays.get(conversation);
    if (!items) trays.set(conversation, (items = []));
    const problems: string[] = [];
    for (const file of files) {
      if (items.length >= MAX_FILES) {
        problems.push(`At most ${MAX_FILES} files per message.`);
        break;
      }
      const why = refusal(file, policy);
      if (why) {
        problems.push(refusalText(file, why, policy));
        continue;
      }
      const item: TrayItem = { name: file.name, size: file.size, type: file.type };
      items.push(item);
      status.textContent = `Uploading ${file.name}…`;
      opts.upload(conversation, file).then(
        (attachment) => {
          item.attachment = attachment;
          status.textContent = `${attachment.name} attached`;
          changed();
        },
        (e: unknown) => {
          remove(conversation, item);
          say(refusalText(file, e instanceof UploadError ? e.reason : 'failed', policy));
        },
      );
    }
    say(problems.join(' '));
    changed();
  }

  function remove(conversation: string, item: TrayItem): void {
    const items = trays.get(conversation);
    if (items?.includes(item)) items.splice(items.indexOf(item), 1);
    changed();
  }

  function say(text: string): void {
    error.textContent = text;
    error.hidden = !text;
  }

  function changed(): void {
    render();
    opts.onChange();
  }

  function render(): void {
    const conversation = opts.conversation();
    const items = current();
    tray.hidden = !items.length;
    tray.replaceChildren(
      ...items.map((item) =>
        h(
          'li',
          { class: `tray-item${item.attachment ? '' : ' uploading'}` },
          item.attachment && isImage(item.type) ? h('img', { class: 'tray-thumb', src: fileHref(item.attachment.url), alt: '' }) : h('span', { class: 'tray-icon' }, icon('file', 16)),
          h('span', { class: 'tray-name' }, item.name),
          h('span', { class: 'tray-size' }, item.attachment ? sizeLabel(item.size) : 'Uploading…'),
          h(
            'button',
            {
              type: 'button',
              class: 'tray-remove',
              'aria-label': `Remove ${item.name}`,
              title: 'Remove',
              onclick: () => {
                if (conversation) remove(conversation, item);
                input.focus();
              },
            },
            icon('close', 14),
          ),
        ),
      ),
    );
  }

  return {
    button,
    ready: () => current().flatMap((item) => item.attachment ?? []),
    busy: () => current().some((item) => !item.attachment),
    clear() {
      const id = opts.conversation();
      if (id) trays.delete(id);
      say('');
      changed();
    },
    refresh() {
      const policy = opts.policy();
      button.hidden = !policy;
      picker.accept = policy ? policy.types.join(',') : '';
      if (shownFor !== opts.conversation()) say('');
      shownFor = opts.conversation();
      render();
    },
  };
}

/** Why a file was not taken, in the operator's words. */
function refusalText(file: { name: string; size: number }, why: UploadRefusal, policy: AttachmentPolicy): string {
  switch (why) {
    case 'type':
      return `“${file.name}” can’t be attached: files of this type are not accepted.`;
    case 'size':
      return file.size === 0 ? `“${file.name}” is empty.` : `“${file.name}” is too large: at most ${sizeLabel(policy.maxBytes).replace('.0 ', ' ')} per file.`;
    case 'rate':
      return `Too many files at once: attach “${file.name}” again in a few seconds.`;
    case 'failed':
      return `“${file.name}” could not be uploaded. Try again.`;
  }
}
