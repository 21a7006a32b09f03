/** data-theme: light, dark, or auto (the visitor's system setting, followed live while the page is open). */
import type { Theme } from './config.js';

export function applyTheme(root: HTMLElement, theme: Theme): void {
  const dark = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  const apply = () => root.classList.toggle('theme-dark', theme === 'dark' || (theme === 'auto' && !!dark?.matches));
  apply();
  if (theme === 'auto') dark?.addEventListener?.('change', apply);
}
