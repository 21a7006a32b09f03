/**
 * The new part of an email reply: what the person wrote above the quoted thread. Mail clients
 * quote in a few ways, cut here at the first one found (line by line, top down):
 *
 * - an attribution line, "On Tue, 3 Nov 2026, Ada <…> wrote:" (Gmail, Apple Mail, Thunderbird),
 *   possibly wrapped over two lines, and any line ending in ":" with "wrote" (or a translation)
 *   in it when a quote or a blank line follows;
 * - Outlook's "-----Original Message-----" or a header block ("From: …" followed by "Sent:" /
 *   "To:" / "Subject:" / "Date:") under a separator or not;
 * - the signature separator "-- " (RFC 3676 §4.3) and everything under it;
 * - lines quoted with ">" (RFC 3676 §4.5) are dropped wherever they are.
 *
 * Pure; trailing blank lines are trimmed. When cutting would leave nothing, the text is kept
 * whole (better a quoted reply than a lost one).
 */

/** A line ending in ":" with a "wrote" word in it ("Am 3. Nov. schrieb Ada <a@b>:"). */
const ATTRIBUTION = /(wrote|schrieb|a écrit|escribió|scrisse|schreef)\b.*:\s*$/i;
const WROTE_END = /\b(wrote|schrieb|a écrit|escribió|scrisse|schreef)\s*:\s*$/i;
const ORIGINAL = /^\s*-{2,}\s*(original message|forwarded message|ursprüngliche nachricht)\s*-{2,}\s*$/i;
const OUTLOOK_FROM = /^\s*\*?from:\*?\s+\S/i;
const OUTLOOK_NEXT = /^\s*\*?(sent|to|subject|date|cc):\*?\s/i;
const UNDERSCORES = /^\s*_{10,}\s*$/;

export function stripQuoted(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const next = lines[i + 1] ?? '';
    if (line === '-- ' || line === '--') break;
    if (ORIGINAL.test(line) || UNDERSCORES.test(line)) break;
    if (OUTLOOK_FROM.test(line) && OUTLOOK_NEXT.test(next)) break;
    if (/^\s*on\b/i.test(line) && (WROTE_END.test(line) || WROTE_END.test(next))) break;
    if (ATTRIBUTION.test(line) && (next.startsWith('>') || next.trim() === '')) break;
    if (line.startsWith('>')) continue;
    kept.push(line);
  }
  const out = kept.join('\n').trim();
  return out === '' ? text.trim() : out;
}
