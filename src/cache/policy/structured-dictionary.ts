/**
 * A Structured Field Dictionary parser (RFC 8941 §4.2.2), as much of RFC 8941 as CDN-Cache-Control
 * needs: member values are kept with their type, parameters are parsed and dropped, and any syntax
 * error makes the whole field invalid (§4.2: "fail parsing" → undefined).
 */

export type BareItem = { type: 'integer' | 'decimal'; value: number } | { type: 'string' | 'token' | 'bytes'; value: string } | { type: 'boolean'; value: boolean };

export type DictionaryValue = BareItem | { type: 'inner-list'; items: BareItem[] };

/**
 * Parses a Dictionary (RFC 8941 §4.2.2). Keys are lowercase (`lcalpha / "*"` first); a key seen
 * twice keeps the last value (§4.2.2 step 2.3). Undefined when the text is not a Dictionary.
 */
export function parseDictionary(text: string): Map<string, DictionaryValue> | undefined {
  const p = { s: text.replace(/^ +| +$/g, ''), i: 0 };
  const dict = new Map<string, DictionaryValue>();
  if (p.s === '') return dict;
  for (;;) {
    const key = parseKey(p);
    if (key === undefined) return undefined;
    let value: DictionaryValue | undefined;
    if (p.s[p.i] === '=') {
      p.i++;
      value = p.s[p.i] === '(' ? parseInnerList(p) : parseBareItem(p);
    } else {
      value = { type: 'boolean', value: true };
    }
    if (value === undefined || !parseParameters(p)) return undefined;
    dict.set(key, value);
    skipOws(p);
    if (p.i >= p.s.length) return dict;
    if (p.s[p.i] !== ',') return undefined;
    p.i++;
    skipOws(p);
    if (p.i >= p.s.length) return undefined; // trailing comma
  }
}

interface Cursor {
  s: string;
  i: number;
}

function skipOws(p: Cursor): void {
  while (p.s[p.i] === ' ' || p.s[p.i] === '\t') p.i++;
}

function parseKey(p: Cursor): string | undefined {
  const m = /^[a-z*][a-z0-9_\-.*]*/.exec(p.s.slice(p.i));
  if (!m) return undefined;
  p.i += m[0].length;
  return m[0];
}

function parseParameters(p: Cursor): boolean {
  while (p.s[p.i] === ';') {
    p.i++;
    while (p.s[p.i] === ' ') p.i++;
    if (parseKey(p) === undefined) return false;
    if (p.s[p.i] === '=') {
      p.i++;
      if (parseBareItem(p) === undefined) return false;
    }
  }
  return true;
}

function parseInnerList(p: Cursor): DictionaryValue | undefined {
  p.i++; // '('
  const items: BareItem[] = [];
  for (;;) {
    while (p.s[p.i] === ' ') p.i++;
    if (p.s[p.i] === ')') {
      p.i++;
      return parseParameters(p) ? { type: 'inner-list', items } : undefined;
    }
    const item = parseBareItem(p);
    if (item === undefined || !parseParameters(p)) return undefined;
    items.push(item);
    if (p.s[p.i] !== ' ' && p.s[p.i] !== ')') return undefined;
  }
}

/** A bare item (RFC 8941 §4.2.3.1). */
function parseBareItem(p: Cursor): BareItem | undefined {
  const rest = p.s.slice(p.i);
  const c = rest[0];
  if (c === undefined) return undefined;
  if (c === '-' || (c >= '0' && c <= '9')) {
    const m = /^-?(\d{1,15})(\.\d{1,3})?/.exec(rest);
    if (!m || (m[2] === undefined && /^-?\d{16}/.test(rest)) || (m[2] !== undefined && m[1].length > 12)) return undefined;
    if (m[2] === undefined && /^\.\d/.test(rest.slice(m[0].length))) return undefined;
    p.i += m[0].length;
    return { type: m[2] === undefined ? 'integer' : 'decimal', value: Number(m[0]) };
  }
  if (c === '"') {
    let value = '';
    for (let i = 1; i < rest.length; i++) {
      const ch = rest[i];
      if (ch === '\\') {
        const next = rest[i + 1];
        if (next !== '"' && next !== '\\') return undefined;
        value += next;
        i++;
      } else if (ch === '"') {
        p.i += i + 1;
        return { type: 'string', value };
      } else if (ch < ' ' || ch > '~') {
        return undefined;
      } else value += ch;
    }
    return undefined;
  }
  if (c === ':') {
    const m = /^:([A-Za-z0-9+/=]*):/.exec(rest);
    if (!m) return undefined;
    p.i += m[0].length;
    return { type: 'bytes', value: m[1] };
  }
  if (c === '?') {
    if (rest[1] !== '0' && rest[1] !== '1') return undefined;
    p.i += 2;
    return { type: 'boolean', value: rest[1] === '1' };
  }
  const m = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(rest);
  if (!m) return undefined;
  p.i += m[0].length;
  return { type: 'token', value: m[0] };
}
