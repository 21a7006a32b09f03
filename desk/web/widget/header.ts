/**
 * The panel's header: who is at the desk (up to three online operators' initials, else the
 * workspace's), the title, the status line, and the button that closes the panel.
 */
import type { PublicOperator } from '../../src/protocol.js';
import { downIcon, el } from './dom.js';
import type { Strings } from './locales/strings.js';

export interface HeaderShown {
  title: string;
  status: string;
  operators: readonly PublicOperator[];
}

export interface HeaderView {
  head: HTMLElement;
  update(shown: HeaderShown): void;
}

export function createHeader(t: Strings, onClose: () => void): HeaderView {
  const avatars = el('div', 'avatars');
  const title = el('h2', 'title', undefined, { id: 'dk-title' });
  const statusText = el('span', 'status-text');
  const status = el('p', 'status');
  status.append(el('span', 'dot', undefined, { 'aria-hidden': 'true' }), statusText);
  const titles = el('div', 'titles');
  titles.append(title, status);
  const close = el('button', 'close', undefined, { type: 'button', 'aria-label': t.closeChat });
  close.append(downIcon());
  close.addEventListener('click', onClose);
  const head = el('header', 'head');
  head.append(avatars, titles, close);

  return {
    head,
    update(shown) {
      title.textContent = shown.title;
      statusText.textContent = shown.status;
      const online = shown.operators.filter((o) => o.status === 'online').slice(0, 3);
      avatars.replaceChildren(...(online.length ? online.map((o) => avatar(o.name)) : [avatar(shown.title, 'brand-mark')]));
    },
  };
}

function avatar(name: string, extra?: string): HTMLSpanElement {
  const a = el('span', extra ? `avatar ${extra}` : 'avatar', initials(name));
  if (!extra) a.title = name;
  return a;
}

/** "Ada Lovelace" → "AL", "grace" → "G". */
export function initials(name: string): string {
  const parts = String(name || '?')
    .trim()
    .split(/\s+/);
  return ((parts[0] || '?')[0]! + (parts.length > 1 ? parts[parts.length - 1]![0] : '')).toUpperCase();
}
