/**
 * The launcher in the page's corner: opens and closes the panel, and says how many answers are
 * unread (a badge, and in its label for screen readers).
 */
import { chatIcon, downIcon, el } from './dom.js';
import type { Strings } from './locales/strings.js';

export interface LauncherView {
  button: HTMLButtonElement;
  update(open: boolean, unread: number): void;
}

export function createLauncher(t: Strings, onClick: () => void): LauncherView {
  const badge = el('span', 'badge');
  badge.hidden = true;
  const button = el('button', 'launcher', undefined, { type: 'button', 'aria-label': t.openChat(0), 'aria-expanded': 'false', 'aria-controls': 'dk-panel' });
  button.append(chatIcon(), downIcon(), badge);
  button.addEventListener('click', onClick);
  return {
    button,
    update(open, unread) {
      badge.hidden = open || unread === 0;
      badge.textContent = unread > 9 ? '9+' : String(unread);
      button.setAttribute('aria-expanded', String(open));
      button.setAttribute('aria-label', open ? t.closeChat : t.openChat(unread));
    },
  };
}
