/** How the inbox words times, places, browsers and pages: pure, in the browser's locale. */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "now", "5m", "3h", "Mon", "12 Mar": the conversation list's compact times. */
export function shortTime(t: number, now = Date.now()): string {
  if (!t) return '';
  const age = now - t;
  if (age < MINUTE) return 'now';
  if (age < HOUR) return `${Math.floor(age / MINUTE)}m`;
  if (age < DAY && new Date(t).getDate() === new Date(now).getDate()) return `${Math.floor(age / HOUR)}h`;
  if (age < 6 * DAY) return new Date(t).toLocaleDateString([], { weekday: 'short' });
  return new Date(t).toLocaleDateString([], { day: 'numeric', month: 'short' });
}

export function clockTime(t: number): string {
  return new Date(t).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
}

export function fullTime(t: number): string {
  return new Date(t).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/** "Today", "Yesterday", else the weekday and date: the thread's day separators. */
export function dayLabel(t: number, now = Date.now()): string {
  const d = new Date(t).toDateString();
  if (d === new Date(now).toDateString()) return 'Today';
  if (d === new Date(now - DAY).toDateString()) return 'Yesterday';
  return new Date(t).toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' });
}

/** "Germany" for "DE", falling back to the code itself. */
export function countryName(code: string | undefined): string {
  if (!code) return '';
  try {
    return new Intl.DisplayNames([navigator.language || 'en'], { type: 'region' }).of(code.toUpperCase()) || code;
  } catch {
    return code;
  }
}

const OPERATING_SYSTEMS: [RegExp, string][] = [
  [/iPhone|iPad/, 'iOS'],
  [/Android/, 'Android'],
  [/Mac OS X/, 'macOS'],
  [/Windows/, 'Windows'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

const BROWSERS: [RegExp, string][] = [
  [/Edg\/(\d+)/, 'Edge'],
  [/OPR\/(\d+)/, 'Opera'],
  [/Firefox\/(\d+)/, 'Firefox'],
  [/Chrome\/(\d+)/, 'Chrome'],
  [/Version\/(\d+).*Safari/, 'Safari'],
];

/** "Chrome 126 on Windows" from a user-agent string: enough for a human, not for feature detection. */
export function browserSummary(ua: string | undefined): string {
  if (!ua) return '';
  const os = OPERATING_SYSTEMS.find(([re]) => re.test(ua))?.[1] ?? '';
  for (const [re, name] of BROWSERS) {
    const m = ua.match(re);
    if (m) return `${name} ${m[1]}${os ? ` on ${os}` : ''}`;
  }
  return os || ua.slice(0, 40);
}

/** "shop.example/products/x" for a page's URL. */
export function pageLabel(url: string): string {
  try {
    const u = new URL(url);
    return u.host + (u.pathname === '/' ? '' : u.pathname);
  } catch {
    return url;
  }
}

/** The URL when it is http(s), else "#": a visitor's page link never runs script. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : '#';
  } catch {
    return '#';
  }
}

export function firstName(name: string | null | undefined): string {
  return (name || '').split(/\s+/)[0];
}

/** Whitespace runs as one space: a message on one line of the list. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
