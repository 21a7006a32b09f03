/**
 * Reading an inbound email with bounded work. The header block is parsed first and alone (it is
 * all routing and the checks need); the body is parsed only for an email that will be stored, and
 * even then no step may cost more than a fixed amount whatever the email holds:
 *
 * - the header block is at most MAX_HEADER_BYTES (RFC 5322 sets no limit; 64 KiB is far above
 *   any real mail's);
 * - HTML longer than MAX_HTML_CHARS is not given to mailparser's html-to-text (a 9 MiB HTML mail
 *   held the event loop for seconds); its first MAX_HTML_CHARS are stripped of tags here instead,
 *   in one linear pass;
 * - the text is cut to MAX_TEXT_CHARS before the quote stripper sees it (a message keeps at most
 *   5,000 characters anyway, and the stripper's per-line patterns must not meet a 10 MiB line).
 */
import { simpleParser, type ParsedMail } from 'mailparser';

export const MAX_HEADER_BYTES = 64 * 1024;
export const MAX_HTML_CHARS = 256 * 1024;
export const MAX_TEXT_CHARS = 20_000;

/** Where the header block ends (the empty line, RFC 5322 §2.1), or the whole message when it has no body. */
function headerEnd(raw: Buffer): number | undefined {
  const limit = Math.min(raw.length, MAX_HEADER_BYTES);
  const window = raw.subarray(0, limit);
  const crlf = window.indexOf('\r\n\r\n');
  const lf = window.indexOf('\n\n');
  const ends = [crlf >= 0 ? crlf + 4 : -1, lf >= 0 ? lf + 2 : -1].filter((n) => n >= 0);
  if (ends.length) return Math.min(...ends);
  return raw.length <= MAX_HEADER_BYTES ? raw.length : undefined;
}

/** The header block parsed (no body), or undefined when it is longer than MAX_HEADER_BYTES. */
export async function parseHeaders(raw: Buffer): Promise<ParsedMail | undefined> {
  const end = headerEnd(raw);
  if (end === undefined) return undefined;
  return simpleParser(Buffer.concat([raw.subarray(0, end), Buffer.from('\r\n\r\n')]), { skipHtmlToText: true, skipTextToHtml: true });
}

/** The email's text (HTML-only mail turned into text), at most MAX_TEXT_CHARS. */
export async function bodyText(raw: Buffer): Promise<string> {
  const mail = await simpleParser(raw, {
    skipHtmlToText: false,
    maxHtmlLengthToParse: MAX_HTML_CHARS,
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
  });
  let text = mail.text ?? '';
  if (text.trim() === '' && typeof mail.html === 'string') text = htmlPrefixText(mail.html);
  return text.slice(0, MAX_TEXT_CHARS);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** `html` without `<tag …>…</tag>` blocks (script, style), by index search: linear however they nest or fail to close. */
function dropBlocks(html: string, tag: string): string {
  const lower = html.toLowerCase();
  let out = '';
  for (let i = 0; ; ) {
    const start = lower.indexOf(`<${tag}`, i);
    if (start < 0) return out + html.slice(i);
    out += html.slice(i, start);
    const close = lower.indexOf(`</${tag}`, start);
    const end = close < 0 ? -1 : lower.indexOf('>', close);
    if (end < 0) return out; // unclosed: the rest is script
    i = end + 1;
  }
}

/**
 * The text of the first MAX_HTML_CHARS of an HTML document, roughly: scripts and styles dropped,
 * block ends as line breaks, other tags removed, the common entities decoded. For HTML too long
 * for html-to-text. Every step is linear: tag patterns stop at the next `<` or `>` (`[^<>]*`), so
 * a run of unclosed `<` cannot make them backtrack over the rest of the input.
 */
export function htmlPrefixText(html: string): string {
  const text = dropBlocks(dropBlocks(html.slice(0, MAX_HTML_CHARS), 'script'), 'style')
    .replace(/<(br|\/p|\/div|\/li|\/tr|\/h[1-6])\b[^<>]*>/gi, '\n')
    .replace(/<[^<>]*>/g, '')
    .replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,6});/gi, (m, e: string) => {
      if (e[0] !== '#') return ENTITIES[e.toLowerCase()] ?? m;
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    });
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
