/**
 * The "I'm Under Attack" interstitial: a small self-contained HTML page (no third-party
 * script, no external resource) that runs the proof of work and posts the answer, with a
 * no-JS path so that nobody is locked out.
 *
 * CSP choice: hashes, not nonces. The inline script and style are constant text (page-script.ts)
 * and every per-request value travels in HTML attributes, so their SHA-256 hashes are computed
 * once here and CHALLENGE_CSP is one constant string: no per-response nonce to generate, and a
 * value injected into the page can never run, whatever the escaping. Workers come from a Blob
 * (`worker-src blob:`); where a browser refuses one the script falls back to the main thread.
 * The form posts to the same origin (`form-action 'self'`, which also covers the redirect after
 * it); nothing else is allowed (`default-src 'none'`), not even images. A meta refresh is a
 * navigation, which CSP does not govern. No `noindex` on the page: served with a 503 it tells
 * crawlers "come back later" without dropping real pages from an index (Anubis #227).
 */
import { createHash } from 'node:crypto';
import { PAGE_SCRIPT, PAGE_STYLE } from './page-script.js';

export interface ChallengePageInput {
  /** The signed challenge token (token.ts). */
  token: string;
  nonce: string;
  difficulty: number;
  /** Same-origin path the answer is POSTed to, e.g. `/.outpost/challenge`. */
  action: string;
  /** Where to go after passing: the path (and query) first asked for. Escaped here, validated by the receiver (`safeReturnTo`). */
  returnTo: string;
  /** Seconds the no-JS path waits before its refresh (the server enforces it with `verifyWait`). */
  noJsWaitSeconds: number;
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The Content-Security-Policy to send with `challengePage` (see the module comment). */
export const CHALLENGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(PAGE_SCRIPT)}`,
  `style-src ${sha256(PAGE_STYLE)}`,
  'worker-src blob:',
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Response headers for the page, besides the status (503 with Retry-After suits crawlers). */
export const CHALLENGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': CHALLENGE_CSP,
  // Each page carries a fresh single-use token: never store or share it.
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
});

/** HTML-escapes text for an element body or a double-quoted attribute value. */
export function escapeHtml(value: string): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The URL of the no-JS path: `action?nojs=<token>&returnTo=<returnTo>` (`&` if `action` has a
 * query already), percent-encoded, ready to be HTML-escaped.
 */
export function noJsUrl(action: string, token: string, returnTo: string): string {
  assertLocalPath(action, 'action');
  return `${action}${action.includes('?') ? '&' : '?'}nojs=${encodeQuery(token)}&returnTo=${encodeQuery(returnTo)}`;
}

/** encodeURIComponent plus `!'()*` (RFC 3986 reserved), so no quote can end the refresh URL early. */
function encodeQuery(value: string): string {
  return encodeURIComponent(String(value)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The challenge page. Throws RangeError when `action` is not a same-origin path or the numbers
 * are out of range (configuration errors); every other value is escaped.
 */
export function challengePage(input: ChallengePageInput): string {
  const { token, nonce, difficulty, action, returnTo } = input;
  assertLocalPath(action, 'action');
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > 64) throw new RangeError('difficulty must be an integer from 0 to 64');
  const wait = Math.floor(input.noJsWaitSeconds);
  if (!Number.isFinite(wait) || wait < 0) throw new RangeError('noJsWaitSeconds must be a finite number >= 0');
  const e = escapeHtml;
  const slowUrl = e(noJsUrl(action, token, returnTo));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Checking your browser</title>
<noscript><meta http-equiv="refresh" content="${wait}; url=${slowUrl}"></noscript>
<style>${PAGE_STYLE}</style>
</head>
<body>
<main>
<h1>One moment, please</h1>
<p>This site is checking that your browser is not part of an attack; you will continue by yourself in a few seconds.</p>
<form id="oc-form" method="post" action="${e(action)}" data-nonce="${e(nonce)}" data-difficulty="${difficulty}" data-wait="${wait}">
<input type="hidden" name="token" value="${e(token)}">
<input type="hidden" name="answer" value="">
<input type="hidden" name="returnTo" value="${e(returnTo)}">
</form>
<p id="oc-status" role="status" hidden>Checking&hellip;</p>
<progress id="oc-bar" max="1" value="0" aria-label="Progress of the check" hidden></progress>
<noscript><p>JavaScript is off, so the check takes a little longer: this page moves on by itself in ${wait} seconds. If it does not, follow <a href="${slowUrl}">this link</a> after that time.</p></noscript>
<p id="oc-slow" hidden>Taking too long? <a href="${slowUrl}">Continue the slower way</a> (it waits ${wait} seconds from when this page opened).</p>
</main>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/**
 * A return path that is safe to redirect to: `value` if it is a same-origin path (starts with
 * one `/`, not `//` or `/\`, no control characters, at most 2048 characters), else `/`. For the
 * receiver of the POST and of the no-JS link, where `returnTo` is client input.
 */
export function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && isLocalPath(value) ? value : '/';
}

function isLocalPath(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses in a return path
  return value.length <= 2048 && /^\/(?![/\\])/.test(value) && !/[\u0000-\u001f\u007f\\]/.test(value);
}

function assertLocalPath(value: string, what: string): void {
  if (typeof value !== 'string' || !isLocalPath(value) || /[\s"'<>`]/.test(value)) throw new RangeError(`challenge ${what} must be a same-origin path, got ${JSON.stringify(value)}`);
}
