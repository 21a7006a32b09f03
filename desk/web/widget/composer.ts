/**
 * The composer: a textarea that grows to six lines, Enter sends (Shift+Enter is a new line, and an
 * IME composing is left alone); the emoji picker (shared/emoji-picker.ts), floating above; and,
 * when the Desk takes files, a paperclip that opens the file chooser, an image pasted into the
 * textarea, and the tray of files going with the message (tray.ts). The send button is enabled
 * with text or an uploaded file, and not while a file is still uploading (it would be left out).
 */
import type { AttachmentPolicy, AttachmentView } from '../../src/protocol.js';
import { emojiPicker, insertAtCaret } from '../shared/emoji-picker.js';
import { clipIcon, el, sendIcon } from './dom.js';
import type { Strings } from './locales/strings.js';
import { MAX_BODY } from './messages.js';
import { createTray } from './tray.js';

export interface ComposerHandlers {
  /** The visitor sends this (trimmed; blank only when files come with it). */
  send(body: string, attachments: AttachmentView[]): void;
  /** The text changed (typing.ts). */
  input(text: string): void;
  /** The textarea lost focus. */
  blur(): void;
  /** Uploads a file into the visitor's conversation (shared/upload.ts). */
  upload(file: File): Promise<AttachmentView>;
}

export interface ComposerView {
  form: HTMLFormElement;
  focus(): void;
  /** What may be attached (the welcome's), or null: no paperclip, no pasting files. */
  update(policy: AttachmentPolicy | null): void;
}

/** The textarea's max-height in CSS (widget.css, .composer textarea). */
const MAX_HEIGHT = 132;

export function createComposer(t: Strings, base: string, on: ComposerHandlers): ComposerView {
  const input = el('textarea', '', undefined, { rows: '1', maxlength: String(MAX_BODY), placeholder: t.placeholder, 'aria-label': t.messageLabel });
  const sendButton = el('button', 'send', undefined, { type: 'submit', 'aria-label': t.send, disabled: '' });
  sendButton.append(sendIcon());
  const emoji = emojiPicker({ open: t.emoji, grid: t.emojiGrid }, (e) => insertAtCaret(input, e));
  const clip = el('button', 'attach', undefined, { type: 'button', 'aria-label': t.attach });
  clip.append(clipIcon());
  const picker = el('input', '', undefined, { type: 'file', multiple: '', tabindex: '-1', 'aria-hidden': 'true' });
  picker.hidden = true;
  const tray = createTray(t, base, on.upload, canSend);
  const form = el('form', 'composer');
  form.append(tray.error, tray.list, input, emoji.button, clip, picker, sendButton, emoji.panel);

  let policy: AttachmentPolicy | null = null;

  function canSend(): void {
    sendButton.disabled = tray.busy() || !(input.value.trim() || tray.ready().length);
  }

  function autosize(): void {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, MAX_HEIGHT)}px`;
  }

  function submit(): void {
    // Leading blank lines and trailing space go; indentation of the first line stays.
    const body = input.value.replace(/^\s*\n|\s+$/g, '');
    const files = tray.ready();
    if (tray.busy() || !(body.trim() || files.length)) return;
    input.value = '';
    autosize();
    tray.clear();
    on.send(body, files);
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  input.addEventListener('input', () => {
    autosize();
    canSend();
    on.input(input.value);
  });
  input.addEventListener('blur', () => on.blur());
  // A screenshot pasted: attached. Text pasted with an image beside it (cells from a spreadsheet)
  // stays text.
  input.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files ?? [])].filter((f) => f.type.startsWith('image/'));
    if (!policy || !files.length || e.clipboardData?.getData('text/plain')) return;
    e.preventDefault();
    tray.add(files, policy);
  });
  clip.addEventListener('click', () => picker.click());
  picker.addEventListener('change', () => {
    if (policy && picker.files) tray.add([...picker.files], policy);
    picker.value = '';
  });
  // A file taken out: its × is gone, the textarea has focus.
  tray.list.addEventListener('click', (e) => {
    if (e.target instanceof Element && e.target.closest('.chip-remove')) input.focus();
  });

  return {
    form,
    focus: () => input.focus(),
    update(next) {
      policy = next;
      clip.hidden = !next;
      picker.accept = next ? next.types.join(',') : '';
    },
  };
}
