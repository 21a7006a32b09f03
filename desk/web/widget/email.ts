/**
 * Email, on a Desk that sends it (welcome.email): while nobody is online the panel asks for an
 * address; while someone is, "Get the replies by email" offers the same form. Once given, the
 * address stays in view with "Change" and "Email me this chat" (desk/EMAIL.md, Transcripts).
 */
import { el } from './dom.js';
import type { Strings } from './locales/strings.js';

export interface EmailShown {
  /** Connected to a Desk that sends email. */
  canEmail: boolean;
  available: boolean;
  /** The visitor asked for the form while someone is online. */
  asked: boolean;
  email: string | undefined;
}

export interface EmailHandlers {
  /** A valid address was entered. */
  save(email: string): void;
  change(): void;
  transcript(): void;
  ask(): void;
}

export interface EmailView {
  form: HTMLFormElement;
  done: HTMLParagraphElement;
  /** The offer, in the brand line. */
  ask: HTMLButtonElement;
  focus(): void;
  update(shown: EmailShown): void;
  /** A passing line in place of the address (a transcript's answer), until the next update. */
  note(text: string): void;
}

const ADDRESS = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function createEmail(t: Strings, on: EmailHandlers): EmailView {
  const label = el('label', '', undefined, { for: 'dk-email' });
  const input = el('input', '', undefined, { id: 'dk-email', type: 'email', autocomplete: 'email', placeholder: t.emailPlaceholder, required: '' });
  const row = el('div', 'row');
  row.append(input, el('button', '', t.save, { type: 'submit' }));
  const form = el('form', 'email', undefined, { novalidate: '' });
  form.hidden = true;
  form.append(label, row);

  const doneText = el('span', 'email-done-text');
  const change = el('button', 'email-change', t.change, { type: 'button' });
  const transcript = el('button', 'email-transcript', t.emailTranscript, { type: 'button' });
  const done = el('p', 'email-done');
  done.hidden = true;
  done.append(doneText, ' ', change, ' ', transcript);

  const ask = el('button', 'email-ask', t.emailAsk, { type: 'button' });
  ask.hidden = true;

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const email = input.value.trim();
    if (!ADDRESS.test(email)) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    on.save(email);
  });
  change.addEventListener('click', () => on.change());
  transcript.addEventListener('click', () => on.transcript());
  ask.addEventListener('click', () => on.ask());

  return {
    form,
    done,
    ask,
    focus: () => input.focus(),
    update({ canEmail, available, asked, email }) {
      form.hidden = !canEmail || !!email || (available && !asked);
      done.hidden = !canEmail || !email;
      ask.hidden = !canEmail || !!email || !available || asked;
      label.textContent = available ? t.emailOnline : t.emailAway;
      if (email) doneText.textContent = t.emailDone(email);
    },
    note(text) {
      doneText.textContent = text;
    },
  };
}
