/**
 * The composer: a textarea that grows to six lines, Enter sends (Shift+Enter is a new line, and an
 * IME composing is left alone), the send button only enabled with something to send.
 */
import { el, sendIcon } from './dom.js';
import type { Strings } from './locales/strings.js';
import { MAX_BODY } from './messages.js';

export interface ComposerHandlers {
  /** The visitor sends this (trimmed, not blank). */
  send(body: string): void;
  /** The text changed (typing.ts). */
  input(text: string): void;
  /** The textarea lost focus. */
  blur(): void;
}

export interface ComposerView {
  form: HTMLFormElement;
  focus(): void;
}

/** The textarea's max-height in CSS (widget.css, .composer textarea). */
const MAX_HEIGHT = 132;

export function createComposer(t: Strings, on: ComposerHandlers): ComposerView {
  const input = el('textarea', '', undefined, { rows: '1', maxlength: String(MAX_BODY), placeholder: t.placeholder, 'aria-label': t.messageLabel });
  const sendButton = el('button', 'send', undefined, { type: 'submit', 'aria-label': t.send, disabled: '' });
  sendButton.append(sendIcon());
  const form = el('form', 'composer');
  form.append(input, sendButton);

  function autosize(): void {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, MAX_HEIGHT)}px`;
  }

  function submit(): void {
    // Leading blank lines and trailing space go; indentation of the first line stays.
    const body = input.value.replace(/^\s*\n|\s+$/g, '');
    if (!body.trim()) return;
    input.value = '';
    autosize();
    sendButton.disabled = true;
    on.send(body);
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
    sendButton.disabled = !input.value.trim();
    on.input(input.value);
  });
  input.addEventListener('blur', () => on.blur());

  return { form, focus: () => input.focus() };
}
