/**
 * Page-rule URL patterns, as Cloudflare writes them: `[scheme://]host[:port]/path[?query]` with `*`
 * matching zero or more characters anywhere (each `*` is a capture, `$1`…`$9` in forwarding URLs),
 * case-insensitive. Without a scheme both match; without a port every port does; without `?` the
 * query string is not looked at. Compiled once per config snapshot into one RegExp per pattern.
 *
 * The route phase asks the snapshot's matcher for the rule of each request (pipeline/phases.ts).
 */

export interface UrlParts {
  scheme: 'http' | 'https';
  /** Lowercase, without port. */
  host: string;
  port: number;
  /** Path and query as the request line has them (`/a/b?x=1`). */
  path: string;
}

export interface CompiledPattern {
  readonly source: string;
  /** The `*` captures when the URL matches, else undefined. */
  match(url: UrlParts): string[] | undefined;
}

export function compilePattern(pattern: string): CompiledPattern {
  const trimmed = pattern.trim();
  const schemeMatch = /^(https?):\/\//i.exec(trimmed);
  const withoutScheme = schemeMatch ? trimmed.slice(schemeMatch[0].length) : trimmed;
  // The host part runs to the first '/'; a pattern with none (`*`, `example.com`) means any path.
  const slash = withoutScheme.indexOf('/');
  const hostPart = slash === -1 ? withoutScheme : withoutScheme.slice(0, slash);
  const pathPart = slash === -1 ? (hostPart === '*' ? '' : '/*') : withoutScheme.slice(slash);
  const portMatch = /:(\d+|\*)$/.exec(hostPart);
  const host = portMatch ? hostPart.slice(0, portMatch.index) : hostPart;
  const hasQuery = pathPart.includes('?');
  const scheme = schemeMatch?.[1].toLowerCase();
  const text = `${scheme ? `${scheme}://` : ''}${host}${portMatch ? `:${portMatch[1]}` : ''}${pathPart}`;
  const regex = new RegExp(`^${text.split('*').map(escapeRegExp).join('(.*)')}$`, 'is');
  return {
    source: pattern,
    match(url) {
      const q = hasQuery ? -1 : url.path.indexOf('?');
      const path = q === -1 ? url.path : url.path.slice(0, q);
      const subject = `${scheme ? `${url.scheme}://` : ''}${url.host}${portMatch ? `:${url.port}` : ''}${path}`;
      const m = regex.exec(subject);
      return m ? m.slice(1) : undefined;
    },
  };
}

/** An ordered rule list: the first rule whose pattern matches wins (Page Rules' order). */
export function firstMatch<R extends { match: string }>(rules: readonly R[]): (url: UrlParts) => { rule: R; captures: string[] } | undefined {
  const compiled = rules.map((rule) => ({ rule, pattern: compilePattern(rule.match) }));
  return (url) => {
    for (const { rule, pattern } of compiled) {
      const captures = pattern.match(url);
      if (captures) return { rule, captures };
    }
    return undefined;
  };
}

/** `https://new.example.com/$1` with the captures of the match (missing ones become empty). */
export function substituteCaptures(template: string, captures: readonly string[]): string {
  return template.replace(/\$([1-9])/g, (_, n: string) => captures[Number(n) - 1] ?? '');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** The port of a Host header (`example.com:8443`), or the scheme's default. */
export function portOf(authority: string, scheme: 'http' | 'https'): number {
  const m = /:(\d+)$/.exec(authority);
  return m ? Number(m[1]) : scheme === 'https' ? 443 : 80;
}
