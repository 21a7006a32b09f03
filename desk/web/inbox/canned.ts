/**
 * The canned-response menu of the composer: "/word" right before the caret opens it with the
 * responses whose shortcut or body has the word (shortcuts starting with it first); ↑↓ choose,
 * Enter or Tab insert the body in place of "/word" ({{name}}, {{email}}, {{agent}} filled in),
 * Escape closes. A textarea (role textbox) takes no aria-expanded: the open menu is named by
 * aria-controls, its choice by aria-activedescendant.
 */
import type { CannedResponse } from './api.js';
import { h } from './dom.js';
import { firstName } from './format.js';
import type { InboxState } from './state.js';

const SHOWN = 8;

export interface CannedMenu {
  /** Opens, narrows or closes the menu after the text or the caret moved. */
  update(): void;
  close(): void;
  /** Handles a key while the menu is open; true when it did (the composer does nothing more). */
  key(e: KeyboardEvent): boolean;
}

/** `conversation()`: the one being answered, for the placeholders. */
export function setupCannedMenu(state: InboxState, input: HTMLTextAreaElement, menu: HTMLElement, conversation: () => string | null, onInsert: () => void): CannedMenu {
  let matches: CannedResponse[] = [];
  let active = 0;
  let tokenStart = -1;

  /** The "/word" right before the caret, if the caret sits at its end. */
  function slashToken(): { start: number; query: string } | undefined {
    const upto = input.value.slice(0, input.selectionStart);
    const m = upto.match(/(^|\s)\/([\w-]*)$/);
    return m ? { start: upto.length - m[2].length - 1, query: m[2].toLowerCase() } : undefined;
  }

  function update(): void {
    const token = slashToken();
    if (!token || !state.canned.length) {
      close();
      return;
    }
    tokenStart = token.start;
    const q = token.query;
    const startsWith = (c: CannedResponse) => c.shortcut.toLowerCase().startsWith(q);
    matches = state.canned
      .filter((c) => c.shortcut.toLowerCase().includes(q) || c.body.toLowerCase().includes(q))
      .sort((a, b) => Number(!startsWith(a)) - Number(!startsWith(b)))
      .slice(0, SHOWN);
    if (!matches.length) {
      close();
      return;
    }
    active = Math.min(active, matches.length - 1);
    menu.hidden = false;
    input.setAttribute('aria-controls', 'canned');
    render();
  }

  function render(): void {
    menu.replaceChildren(
      h('div', { class: 'canned-head' }, 'Canned responses', h('span', {}, '↑↓ to choose · Enter to insert · Esc to close')),
      ...matches.map((c, i) =>
        h(
          'div',
          {
            role: 'option',
            class: 'canned-item',
            id: `canned-${i}`,
            'aria-selected': String(i === active),
            onmousedown: (e) => {
              e.preventDefault();
              pick(c);
            },
            onmousemove: () => {
              if (active === i) return;
              active = i;
              render();
            },
          },
          h('span', { class: 'canned-shortcut' }, `/${c.shortcut}`),
          h('span', { class: 'canned-body' }, c.body),
        ),
      ),
    );
    input.setAttribute('aria-activedescendant', `canned-${active}`);
  }

  function pick(c: CannedResponse | undefined): void {
    if (!c) return;
    const end = input.selectionStart;
    const body = fill(c.body);
    input.value = input.value.slice(0, tokenStart) + body + input.value.slice(end);
    const caret = tokenStart + body.length;
    input.setSelectionRange(caret, caret);
    close();
    onInsert();
    input.focus();
  }

  /** Fills {{name}} / {{email}} / {{agent}} placeholders when a canned body uses them. */
  function fill(body: string): string {
    const id = conversation();
    const c = id ? state.conversations.get(id) : undefined;
    const name = c?.visitor.name ? firstName(c.visitor.name) : 'there';
    const email = c?.visitor.email || '';
    const agent = firstName(state.me?.name);
    // Replaced by functions: a "$" in a name is text, not a replacement pattern.
    return body
      .replace(/\{\{\s*(visitor\.)?(first_?name|name)\s*\}\}/gi, () => name)
      .replace(/\{\{\s*(visitor\.)?email\s*\}\}/gi, () => email)
      .replace(/\{\{\s*(agent|operator)(\.name)?\s*\}\}/gi, () => agent);
  }

  function close(): void {
    menu.hidden = true;
    matches = [];
    active = 0;
    input.removeAttribute('aria-activedescendant');
    input.removeAttribute('aria-controls');
  }

  function key(e: KeyboardEvent): boolean {
    if (menu.hidden) return false;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      active = (active + (e.key === 'ArrowDown' ? 1 : -1) + matches.length) % matches.length;
      render();
    } else if (e.key === 'Enter' || e.key === 'Tab') pick(matches[active]);
    else if (e.key === 'Escape') {
      e.stopPropagation();
      close();
    } else return false;
    e.preventDefault();
    return true;
  }

  return { update, close, key };
}
