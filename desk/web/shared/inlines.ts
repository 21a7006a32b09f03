/**
 * A message body read as markdown-lite and links, into a small tree that rich-text.ts builds as
 * DOM (pure: tested in Node).
 *
 * Markdown-lite, as chat apps read it: `code` (nothing parsed inside), **bold**, *italics* or
 * _italics_ (not inside words, so snake_case and 2*3*4 stay text). Links: http(s) URLs and
 * `www.` hosts, without trailing punctuation, opened in a new tab with
 * `rel="noopener noreferrer nofollow"`; no other scheme is ever a link (no javascript:, data:).
 */
export type Inline = { kind: 'text'; text: string } | { kind: 'code'; text: string } | { kind: 'link'; href: string; text: string } | { kind: 'bold' | 'italic'; children: Inline[] };

const CODE = /`([^`\n]+)`/g;
// A URL runs to whitespace or a character that never ends one; trailing punctuation is trimmed below.
const URL_RE = /\b(?:https?:\/\/[^\s<>"`]+|www\.[\w-]+\.[^\s<>"`]+)/gi;
const TRAILING = /[.,;:!?'")\]}*_]+$/;
// No lookbehind (Safari before 16.4 throws on it, and the widget would not start): the character
// before an italic marker is matched (group 2 or 4) and given back as text.
const EMPHASIS = /\*\*(?=\S)([^*]*?\S)\*\*|(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])|(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/g;

export function inlines(body: string): Inline[] {
  return splitBy(body, CODE, (m) => [{ kind: 'code', text: m[1]! }], links);
}

function links(text: string): Inline[] {
  return splitBy(
    text,
    URL_RE,
    (m) => {
      const raw = m[0];
      const url = raw.replace(TRAILING, '');
      const rest = raw.slice(url.length);
      const href = safeHref(url);
      const out: Inline[] = href ? [{ kind: 'link', href, text: url }] : emphasis(url);
      return rest ? [...out, ...emphasis(rest)] : out;
    },
    emphasis,
  );
}

function emphasis(text: string): Inline[] {
  return joinTexts(
    splitBy(
      text,
      EMPHASIS,
      (m) => {
        if (m[1] !== undefined) return [{ kind: 'bold', children: emphasis(m[1]) }];
        const before = (m[2] ?? m[4])!;
        const italic: Inline = { kind: 'italic', children: emphasis((m[3] ?? m[5])!) };
        return before ? [{ kind: 'text', text: before }, italic] : [italic];
      },
      (s) => [{ kind: 'text', text: s }],
    ),
  );
}

/** Neighbouring text nodes as one (the character given back before an italic joins the text before it). */
function joinTexts(nodes: Inline[]): Inline[] {
  const out: Inline[] = [];
  for (const n of nodes) {
    const last = out[out.length - 1];
    if (n.kind === 'text' && last?.kind === 'text') out[out.length - 1] = { kind: 'text', text: last.text + n.text };
    else out.push(n);
  }
  return out;
}

/** An http(s) URL as an absolute href, or undefined (a `www.` host gets https://). */
export function safeHref(text: string): string | undefined {
  const candidate = /^www\./i.test(text) ? `https://${text}` : text;
  try {
    const url = new URL(candidate);
    const host = url.hostname.replace(/^\[.*\]$/, 'ip6');
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return host.split('.').every((label) => label.length > 0) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function splitBy(text: string, re: RegExp, match: (m: RegExpMatchArray) => Inline[], between: (s: string) => Inline[]): Inline[] {
  const out: Inline[] = [];
  let at = 0;
  // matchAll works on a copy of `re`: the callbacks recurse with the same expressions.
  for (const m of text.matchAll(re)) {
    if (m.index > at) out.push(...between(text.slice(at, m.index)));
    out.push(...match(m));
    at = m.index! + m[0].length;
  }
  if (at < text.length) out.push(...between(text.slice(at)));
  return out;
}
