/**
 * The redirect phase: the matched page rule's forwarding URL (301/302, `$1`… filled with the
 * pattern's captures), then always-HTTPS (301 from http:// to the same URL on the HTTPS listener).
 * WebSocket upgrades are redirected too: a browser's `ws://` to a `wss://`-only site must fail
 * visibly rather than reach the origin in clear.
 */
import { substituteCaptures } from '../router/url-pattern.js';
import type { Phase, RequestContext } from './context.js';
import { sendSimple } from './error-page.js';

export const redirect: Phase = {
  name: 'redirect',
  run(ctx) {
    const rule = ctx.rule;
    if (!rule) return false;
    if (rule.forwardingUrl) {
      let location = substituteCaptures(rule.forwardingUrl.url, ctx.captures ?? []);
      // A pattern that does not look at the query string passes it on (unless the target has its own).
      const q = ctx.path.indexOf('?');
      if (q !== -1 && !rule.match.includes('?') && !location.includes('?')) location += ctx.path.slice(q);
      sendRedirect(ctx, rule.forwardingUrl.status, location);
      return true;
    }
    if (rule.alwaysUseHttps && ctx.scheme === 'http' && ctx.edge.httpsPort !== undefined) {
      sendRedirect(ctx, 301, httpsUrl(ctx.host, ctx.edge.httpsPort, ctx.path));
      return true;
    }
    return false;
  },
};

/** The same URL on HTTPS; the port is left out when it is 443. */
export function httpsUrl(host: string, port: number, path: string): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `https://${h}${port === 443 ? '' : `:${port}`}${path}`;
}

function sendRedirect(ctx: RequestContext, status: 301 | 302, location: string): void {
  const headers: [string, string][] = [
    ['location', location],
    ['content-type', 'text/plain; charset=utf-8'],
    ['x-request-id', ctx.id],
  ];
  sendSimple(ctx, status, headers, `Redirecting to ${location}\n`);
}
