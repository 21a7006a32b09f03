/**
 * Building the inbox's DOM. Everything a visitor or an operator typed reaches the page as text
 * nodes (or through richText), never as HTML, so a message cannot inject markup; no inline style
 * or handler attribute is ever written (the inbox's CSP allows neither).
 */

type Attr = string | number | boolean | null | undefined;

/** `onclick`, `onkeydown`, …: listeners, typed by their event. */
type Listeners = { [K in keyof HTMLElementEventMap as `on${K}`]?: (e: HTMLElementEventMap[K]) => void };

export interface Props extends Listeners {
  class?: string;
  dataset?: Record<string, string>;
  id?: string;
  role?: string;
  type?: string;
  title?: string;
  tabindex?: string;
  for?: string;
  value?: string;
  placeholder?: string;
  maxlength?: string;
  autocomplete?: string;
  href?: string;
  target?: string;
  rel?: string;
  datetime?: string;
  accept?: string;
  multiple?: boolean;
  hidden?: boolean;
  src?: string;
  alt?: string;
  loading?: 'lazy' | 'eager';
  [aria: `aria-${string}`]: Attr;
}

export type Child = Node | string | null | undefined | false | Child[];

/**
 * An element: h('button', { class: 'x', onclick: fn, 'aria-label': 'y' }, 'text', child).
 * Props named on* become listeners, `class` the className, `true` an empty attribute;
 * null, undefined and false are skipped, in props and in children.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props) as [string, unknown][]) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2), value as EventListener);
    else if (key === 'class') el.className = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child);
  }
}

/** The element with this id, which the page (inbox.html) has. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`inbox.html has no #${id}`);
  return el as T;
}

/** Stroke icons on a 24 grid. */
const ICONS = {
  check: 'M5 12.5 10 17.5 19 7',
  reopen: 'M4 12a8 8 0 1 0 2.4-5.7M4 4v4.5h4.5',
  user: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4.5 20a7.5 7.5 0 0 1 15 0',
  userX: 'M10 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM3 20a7 7 0 0 1 11-5.7M16 16l5 5M21 16l-5 5',
  back: 'M15 5l-7 7 7 7',
  info: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 11v5M12 7.5v.5',
  logout: 'M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10',
  close: 'M6 6l12 12M18 6 6 18',
  bell: 'M6 16V11a6 6 0 1 1 12 0v5l1.5 2h-15zM10 20.5a2 2 0 0 0 4 0',
  clip: 'M20 11.5l-8.1 8.1a5.2 5.2 0 0 1-7.4-7.4l8.6-8.6a3.5 3.5 0 0 1 4.9 4.9l-8.6 8.6a1.7 1.7 0 0 1-2.5-2.5l7.9-7.9',
  file: 'M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8zM14 3v5h5M9 13h6M9 17h4',
};

export type IconName = keyof typeof ICONS;

export function icon(name: IconName, size = 18): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'icon');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

/** "AL" for "Ada Lovelace", "G" for "grace@acme.test". */
export function initials(name: string | null | undefined): string {
  const parts = (name || '?')
    .replace(/[@.].*$/, '')
    .trim()
    .split(/[\s_-]+/)
    .filter(Boolean);
  if (!parts.length) return '?';
  return ((parts[0][0] || '') + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
}

export function avatar(name: string | null | undefined, extraClass = ''): HTMLSpanElement {
  return h('span', { class: `avatar ${extraClass}`.trim(), 'aria-hidden': 'true' }, initials(name));
}

/** An avatar with initials, or a person icon for a visitor who has not said who they are. */
export function personAvatar(name: string | null | undefined, extraClass = ''): HTMLSpanElement {
  if (name) return avatar(name, extraClass);
  return h('span', { class: `avatar anon ${extraClass}`.trim(), 'aria-hidden': 'true' }, icon('user', extraClass.includes('large') ? 26 : 18));
}
