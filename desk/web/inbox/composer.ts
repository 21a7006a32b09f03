/**
 * The composer: Reply / Note tabs, Enter to send (Shift+Enter for a new line), a draft kept per
 * conversation, typing announcements for replies (never for notes), the canned-response menu
 * (canned.ts), the emoji picker (shared/emoji-picker.ts) and files (attach.ts). Send is enabled
 * with words or files, once every file picked is up.
 */
import type { AttachmentView } from '../../src/protocol.js';
import { emojiPicker, insertAtCaret } from '../shared/emoji-picker.js';
import { setupComposerFiles } from './attach.js';
import { setupCannedMenu } from './canned.js';
import { byId, h } from './dom.js';
import type { InboxState } from './state.js';

/** A `typing start` at most this often while the operator keeps typing. */
const TYPING_EVERY = 3000;
/** No key for this long: `typing stop`. */
const TYPING_IDLE = 2500;
/** The menu closes this long after the textarea loses focus (a click on it lands first). */
const BLUR_CLOSE = 150;

type Mode = 'reply' | 'note';

export interface ComposerOptions {
  state: InboxState;
  /** `body` may be empty when files come with it. */
  onSend(body: string, note: boolean, attachments: AttachmentView[]): void;
  onTyping(conversation: string, state: 'start' | 'stop'): void;
  /** Uploads a file into a conversation (the operator's credential is the caller's). */
  upload(conversation: string, file: File): Promise<AttachmentView>;
}

export interface Composer {
  /** Switches to another conversation, keeping each one's draft. */
  show(conversation: string): void;
  focus(): void;
  /** The welcome's attachment policy may have changed. */
  refresh(): void;
}

export function setupComposer({ state, onSend, onTyping, upload }: ComposerOptions): Composer {
  const form = byId<HTMLFormElement>('composer');
  const input = byId<HTMLTextAreaElement>('composer-input');
  const sendButton = byId<HTMLButtonElement>('composer-send');
  const tabs = [...form.querySelectorAll<HTMLButtonElement>('[role=tab]')];
  const drafts = new Map<string, { text: string; mode: Mode }>();
  let mode: Mode = 'reply';
  let current: string | null = null;
  let typingSentAt = 0;
  let typingIdle: ReturnType<typeof setTimeout> | undefined;
  let typingConv: string | null = null;
  const canned = setupCannedMenu(state, input, byId('canned'), () => current, saveDraft);
  const files = setupComposerFiles({ form, input, policy: () => state.attachments, conversation: () => current, upload, onChange: updateSend });
  const emoji = emojiPicker({ open: 'Insert an emoji', grid: 'Emoji' }, (e) => insertAtCaret(input, e));
  emoji.button.title = 'Insert an emoji';
  // The tools go first in the composer's foot; the grid floats above the composer, like the canned menu.
  sendButton.parentElement?.prepend(h('div', { class: 'composer-tools' }, emoji.button, files.button));
  form.parentElement?.append(emoji.panel);

  for (const tab of tabs) {
    tab.addEventListener('click', () => {
      setMode(tab.dataset.mode === 'note' ? 'note' : 'reply');
      input.focus();
    });
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  input.addEventListener('keydown', (e) => {
    if (canned.key(e)) return;
    // keyCode 229: a key that an input method (IME) is still composing, where isComposing is not set.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  input.addEventListener('input', () => {
    canned.update();
    typing();
    saveDraft();
    updateSend();
  });
  input.addEventListener('click', () => canned.update());
  input.addEventListener('blur', () => {
    setTimeout(() => canned.close(), BLUR_CLOSE);
    typingStop();
  });

  function setMode(next: Mode): void {
    if (next === mode) return;
    if (next === 'note') typingStop();
    mode = next;
    for (const tab of tabs) tab.setAttribute('aria-selected', String(tab.dataset.mode === mode));
    form.classList.toggle('is-note', mode === 'note');
    input.placeholder = mode === 'note' ? 'Write an internal note, only your team sees it…' : 'Reply to the visitor…  (/ for canned responses)';
    input.setAttribute('aria-label', mode === 'note' ? 'Internal note' : 'Reply');
    sendButton.textContent = mode === 'note' ? 'Add note' : 'Send';
    saveDraft();
  }

  function sendable(): boolean {
    return !!current && !files.busy() && (!!input.value.trim() || files.ready().length > 0);
  }

  function updateSend(): void {
    sendButton.disabled = !sendable();
  }

  function submit(): void {
    if (!sendable() || !current) return;
    canned.close();
    typingStop();
    onSend(input.value.trim(), mode === 'note', files.ready());
    input.value = '';
    drafts.delete(current);
    files.clear();
  }

  function saveDraft(): void {
    if (!current) return;
    if (input.value) drafts.set(current, { text: input.value, mode });
    else drafts.delete(current);
  }

  // Typing, for replies only: a start now and then while keys come, a stop when they stop.
  function typing(): void {
    if (mode !== 'reply' || !current) return;
    clearTimeout(typingIdle);
    if (!input.value.trim()) {
      typingStop();
      return;
    }
    if (Date.now() - typingSentAt > TYPING_EVERY || typingConv !== current) {
      typingConv = current;
      typingSentAt = Date.now();
      onTyping(current, 'start');
    }
    typingIdle = setTimeout(typingStop, TYPING_IDLE);
  }

  function typingStop(): void {
    clearTimeout(typingIdle);
    if (!typingSentAt || !typingConv) return;
    onTyping(typingConv, 'stop');
    typingSentAt = 0;
    typingConv = null;
  }

  return {
    show(conversation) {
      if (current === conversation) return;
      typingStop();
      saveDraft();
      current = conversation;
      const draft = drafts.get(conversation);
      input.value = draft?.text || '';
      setMode(draft?.mode || 'reply');
      canned.close();
      files.refresh();
      updateSend();
    },
    focus() {
      input.focus();
    },
    refresh() {
      files.refresh();
      updateSend();
    },
  };
}
