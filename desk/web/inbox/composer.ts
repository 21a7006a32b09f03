/**
 * The composer: Reply / Note tabs, Enter to send (Shift+Enter for a new line), a draft kept per
 * conversation, typing announcements for replies (never for notes), and the canned-response menu
 * (canned.ts).
 */
import { setupCannedMenu } from './canned.js';
import { byId } from './dom.js';
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
  onSend(body: string, note: boolean): void;
  onTyping(conversation: string, state: 'start' | 'stop'): void;
}

export interface Composer {
  /** Switches to another conversation, keeping each one's draft. */
  show(conversation: string): void;
  focus(): void;
}

export function setupComposer({ state, onSend, onTyping }: ComposerOptions): Composer {
  const form = byId<HTMLFormElement>('composer');
  const input = byId<HTMLTextAreaElement>('composer-input');
  const tabs = [...form.querySelectorAll<HTMLButtonElement>('[role=tab]')];
  const drafts = new Map<string, { text: string; mode: Mode }>();
  let mode: Mode = 'reply';
  let current: string | null = null;
  let typingSentAt = 0;
  let typingIdle: ReturnType<typeof setTimeout> | undefined;
  let typingConv: string | null = null;
  const canned = setupCannedMenu(state, input, byId('canned'), () => current, saveDraft);

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
    byId('composer-send').textContent = mode === 'note' ? 'Add note' : 'Send';
    saveDraft();
  }

  function submit(): void {
    const body = input.value.trim();
    if (!body || !current) return;
    canned.close();
    typingStop();
    onSend(body, mode === 'note');
    input.value = '';
    drafts.delete(current);
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
    },
    focus() {
      input.focus();
    },
  };
}
