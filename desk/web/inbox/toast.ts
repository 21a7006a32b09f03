/** A short message at the bottom of the screen (role status), gone after 4 s. */
import { h } from './dom.js';

const SHOWN_FOR = 4000;
let timer: ReturnType<typeof setTimeout> | undefined;

export function toast(text: string): void {
  let el = document.getElementById('toast');
  if (!el) {
    el = h('div', { id: 'toast', class: 'toast', role: 'status' });
    document.body.append(el);
  }
  const shown = el;
  shown.textContent = text;
  shown.classList.add('show');
  clearTimeout(timer);
  timer = setTimeout(() => shown.classList.remove('show'), SHOWN_FOR);
}
