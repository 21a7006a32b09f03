/**
 * The Cache-Control field (RFC 9111 §5.2): a comma list of `token [ "=" ( token / quoted-string ) ]`
 * with case-insensitive names. Parsing is strict about the element syntax (no spaces around `=`, the
 * form the cache test suite checks) and never throws: a malformed element is skipped, and when it
 * names a directive that takes a number that directive counts as invalid.
 */
import { applyDirective, emptyDirectives, type DirectiveArgument, type Directives } from './directives.js';

export type { Directives } from './directives.js';

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses Cache-Control (RFC 9111 §5.2). Repeated field lines (an array) are one list (RFC 9110
 * §5.3). Arguments may be tokens or quoted strings for every directive (§5.2: recipients accept
 * both forms), so `max-age="60"` is 60; `max-age=60, max-age=120` keeps 60 and records a conflict.
 */
export function parseCacheControl(value: string | string[] | undefined): Directives {
  const d = emptyDirectives();
  if (value === undefined) return d;
  const text = Array.isArray(value) ? value.join(', ') : value;
  const seen = new Map<string, DirectiveArgument>();
  let i = 0;
  while (i < text.length) {
    // Skip OWS and empty list elements.
    while (i < text.length && (text[i] === ',' || text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= text.length) break;
    const nameStart = i;
    while (i < text.length && TCHAR.test(text[i])) i++;
    const name = text.slice(nameStart, i).toLowerCase();
    let arg: DirectiveArgument;
    let ok = name !== '';
    if (ok && text[i] === '=') {
      i++;
      if (text[i] === '"') {
        const quoted = readQuoted(text, i);
        arg = quoted?.value ?? null;
        i = quoted?.end ?? text.length;
        ok = quoted !== undefined;
      } else {
        const argStart = i;
        while (i < text.length && TCHAR.test(text[i])) i++;
        arg = text.slice(argStart, i);
        ok = arg !== '';
      }
    }
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i < text.length && text[i] !== ',') ok = false;
    if (!ok) {
      i = skipElement(text, i);
      // `max-age =60`, `max-age= 60`: the directive is there but unreadable.
      if (name !== '') applyDirective(d, name, null, seen);
      continue;
    }
    applyDirective(d, name, arg, seen);
  }
  return d;
}

/** A quoted-string starting at `start` (RFC 9110 §5.6.4), unescaped; undefined when unterminated. */
function readQuoted(text: string, start: number): { value: string; end: number } | undefined {
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      i++;
      value += text[i] ?? '';
    } else if (c === '"') {
      return { value, end: i + 1 };
    } else {
      value += c;
    }
  }
  return undefined;
}

/** The index of the comma ending the element that contains `i` (quoted strings respected). */
function skipElement(text: string, i: number): number {
  let quoted = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') return i;
  }
  return i;
}
