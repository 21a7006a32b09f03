/**
 * Is an email an automatic answer (vacation notice, bounce, list traffic) rather than a person's
 * reply? Those are accepted (250, so the sender does not retry) and not stored: a vacation notice
 * would otherwise land in the conversation every time an operator writes.
 *
 * Signals, any one suffices:
 * - `Auto-Submitted` other than "no" (RFC 3834 §5);
 * - `X-Autoreply`, `X-Autorespond`, `X-Autoresponder` present (various MTAs);
 * - `Precedence: bulk | junk | list | auto_reply` (RFC 2076, de facto);
 * - `X-Auto-Response-Suppress` naming All, DR, AutoReply or OOF (Exchange sets it on its own
 *   automatic mail);
 * - `List-Id` or `List-Unsubscribe` (mailing list traffic);
 * - an empty `Return-Path` (`<>`: the null sender of bounces, RFC 5321 §4.5.5).
 *
 * Pure: `header(name)` gives a header's raw value (lower-case name) or undefined.
 */
export function isAutoReply(header: (name: string) => string | undefined): boolean {
  const auto = header('auto-submitted');
  if (auto !== undefined && auto.trim().toLowerCase().split(/[\s;]/)[0] !== 'no') return true;
  for (const name of ['x-autoreply', 'x-autorespond', 'x-autoresponder', 'list-id', 'list-unsubscribe']) {
    if (header(name) !== undefined) return true;
  }
  const precedence = header('precedence')?.trim().toLowerCase();
  if (precedence && ['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return true;
  const suppress = header('x-auto-response-suppress')?.toLowerCase();
  if (suppress && /\b(all|dr|autoreply|oof)\b/.test(suppress)) return true;
  const returnPath = header('return-path');
  if (returnPath !== undefined && returnPath.replace(/[\s<>]/g, '') === '') return true;
  return false;
}
