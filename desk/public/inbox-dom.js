/**
 * DOM and formatting helpers for the inbox. Everything a visitor or operator typed reaches the
 * page as text nodes (never innerHTML), so a message cannot inject markup.
 */

/**
 * Builds an element: h('button', { class: 'x', onclick: fn, 'aria-label': 'y' }, 'text', child).
 * Props named on* become listeners, `class` the className, booleans toggle attributes,
 * null/undefined/false are skipped; children may be strings, nodes, arrays or falsy.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** An inline SVG icon from the set below (stroke icons on a 24 grid). */
export function icon(name, size = 18) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'icon');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name] || '');
  svg.append(path);
  return svg;
}

const ICONS = {
  send: 'M4.5 12 19 5l-4 14-3.5-5.5zM11.5 13.5 19 5',
  check: 'M5 12.5 10 17.5 19 7',
  reopen: 'M4 12a8 8 0 1 0 2.4-5.7M4 4v4.5h4.5',
  user: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4.5 20a7.5 7.5 0 0 1 15 0',
  userX: 'M10 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM3 20a7 7 0 0 1 11-5.7M16 16l5 5M21 16l-5 5',
  inbox: 'M3 13h5l1.5 3h5l1.5-3h5M5.5 5h13L21 13v6H3v-6z',
  note: 'M5 4h14v11l-5 5H5zM14 20v-5h5',
  chat: 'M4 5.5h16v11H10l-4.5 3.5v-3.5H4z',
  back: 'M15 5l-7 7 7 7',
  info: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 11v5M12 7.5v.5',
  logout: 'M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10',
  close: 'M6 6l12 12M18 6 6 18',
  bell: 'M6 16V11a6 6 0 1 1 12 0v5l1.5 2h-15zM10 20.5a2 2 0 0 0 4 0',
  link: 'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1',
};

export function initials(name) {
  const parts = String(name || '?').replace(/[@.].*$/, '').trim().split(/[\s_-]+/).filter(Boolean);
  if (!parts.length) return '?';
  return ((parts[0][0] || '') + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
}

export function avatar(name, extraClass = '') {
  return h('span', { class: `avatar ${extraClass}`.trim(), 'aria-hidden': 'true' }, initials(name));
}

/** An avatar with initials, or a person icon for a visitor who has not said who they are. */
export function personAvatar(name, extraClass = '') {
  if (name) return avatar(name, extraClass);
  return h('span', { class: `avatar anon ${extraClass}`.trim(), 'aria-hidden': 'true' }, icon('user', extraClass.includes('large') ? 26 : 18));
}

const MINUTE = 60_000, HOUR = 60 * MINUTE, DAY = 24 * HOUR;

/** "now", "5m", "3h", "Mon", "12 Mar": the conversation list's compact times. */
export function shortTime(t, now = Date.now()) {
  if (!t) return '';
  const age = now - t;
  if (age < MINUTE) return 'now';
  if (age < HOUR) return `${Math.floor(age / MINUTE)}m`;
  if (age < DAY && new Date(t).getDate() === new Date(now).getDate()) return `${Math.floor(age / HOUR)}h`;
  if (age < 6 * DAY) return new Date(t).toLocaleDateString([], { weekday: 'short' });
  return new Date(t).toLocaleDateString([], { day: 'numeric', month: 'short' });
}

export function clockTime(t) {
  return new Date(t).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
}

export function fullTime(t) {
  return new Date(t).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

export function dayLabel(t, now = Date.now()) {
  const d = new Date(t).toDateString();
  if (d === new Date(now).toDateString()) return 'Today';
  if (d === new Date(now - DAY).toDateString()) return 'Yesterday';
  return new Date(t).toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' });
}

/** "Germany" for "DE", falling back to the code itself. */
export function countryName(code) {
  if (!code) return '';
  try {
    return new Intl.DisplayNames([navigator.language || 'en'], { type: 'region' }).of(code.toUpperCase()) || code;
  } catch {
    return code;
  }
}

/** "Chrome 126 on Windows" from a user-agent string: enough for a human, not for feature detection. */
export function browserSummary(ua) {
  if (!ua) return '';
  const os = /iPhone|iPad/.test(ua) ? 'iOS' : /Android/.test(ua) ? 'Android' : /Mac OS X/.test(ua) ? 'macOS'
    : /Windows/.test(ua) ? 'Windows' : /CrOS/.test(ua) ? 'ChromeOS' : /Linux/.test(ua) ? 'Linux' : '';
  const browsers = [[/Edg\/(\d+)/, 'Edge'], [/OPR\/(\d+)/, 'Opera'], [/Firefox\/(\d+)/, 'Firefox'], [/Chrome\/(\d+)/, 'Chrome'],
    [/Version\/(\d+).*Safari/, 'Safari']];
  for (const [re, name] of browsers) {
    const m = ua.match(re);
    if (m) return `${name} ${m[1]}${os ? ` on ${os}` : ''}`;
  }
  return os || ua.slice(0, 40);
}
