/**
 * Which pages may open a socket. The widget runs on customers' sites, so a visitor's Origin must
 * be in the workspace's `allowedOrigins` (empty = any); pages this node serves itself (the demo,
 * the inbox) are always allowed. Operators connect from the inbox, which is same-origin. A
 * missing Origin is a non-browser client: Origin checks only protect browsers, so it passes for
 * operators (their token is the credential) and not for visitors of a restricted workspace.
 */
import type { IncomingMessage } from 'node:http';
import type { UpgradeInfo } from './connection.js';

function first(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  return v?.split(',')[0]?.trim() || undefined;
}

/** `https://Shop.example:443/` → `https://shop.example` (the form browsers send). */
export function normalizeOrigin(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    return u.origin === 'null' ? undefined : u.origin;
  } catch {
    return undefined;
  }
}

export function upgradeInfo(req: IncomingMessage): UpgradeInfo {
  const origin = first(req.headers.origin);
  let sameOrigin = false;
  if (origin) {
    const host = (() => {
      try {
        return new URL(origin).host.toLowerCase();
      } catch {
        return undefined;
      }
    })();
    // Behind the edge the Host may be the origin's; the edge says what the browser asked for.
    const hosts = [first(req.headers['x-forwarded-host']), first(req.headers.host)].filter(Boolean).map((h) => h!.toLowerCase());
    sameOrigin = host !== undefined && hosts.includes(host);
  }
  return {
    origin,
    sameOrigin,
    country: first(req.headers['x-outpost-country'])?.slice(0, 8),
    // A User-Agent is one value with commas inside (`(KHTML, like Gecko)`): never split it.
    userAgent: req.headers['user-agent']?.slice(0, 300),
  };
}

export function visitorOriginAllowed(allowedOrigins: string[], info: UpgradeInfo): boolean {
  if (allowedOrigins.length === 0 || info.sameOrigin) return true;
  const origin = info.origin && normalizeOrigin(info.origin);
  return origin !== undefined && allowedOrigins.some((o) => normalizeOrigin(o) === origin);
}

export function operatorOriginAllowed(info: UpgradeInfo): boolean {
  return info.origin === undefined || info.sameOrigin;
}
