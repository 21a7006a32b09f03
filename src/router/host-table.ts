/**
 * Host → load balancer lookup: exact names first, then the longest `*.suffix` wildcard (which
 * matches one or more labels, as Cloudflare's do), then `*` for any host. Built once per config
 * snapshot; a lookup is one or a few Map reads.
 */
export class HostTable<T> {
  private readonly exact = new Map<string, T>();
  private readonly wildcard = new Map<string, T>();
  private any: T | undefined;

  constructor(entries: Iterable<[hostname: string, value: T]>) {
    for (const [name, value] of entries) {
      if (name === '*') this.any = value;
      else if (name.startsWith('*.'))
        this.wildcard.set(name.slice(1), value); // key ".example.com"
      else this.exact.set(name, value);
    }
  }

  /** `host` is lowercase, without port. */
  lookup(host: string): T | undefined {
    const hit = this.exact.get(host);
    if (hit !== undefined) return hit;
    if (this.wildcard.size > 0) {
      // Try ".b.c", then ".c": the longest suffix wins.
      for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        const w = this.wildcard.get(host.slice(dot));
        if (w !== undefined) return w;
      }
    }
    return this.any;
  }
}

const HOSTNAME = /^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$/;
const IPV6_LITERAL = /^\[[0-9a-f:.]+\]$/;

/**
 * The host of a Host header (or HTTP/2 :authority): lowercase, port and trailing dot removed.
 * Undefined when the header is not a valid host (RFC 9110 §7.2, RFC 3986 §3.2.2): the request
 * then gets 400 and is never forwarded.
 */
export function parseHost(header: string | undefined): string | undefined {
  if (!header || header.length > 255) return undefined;
  // A site sees few distinct Host values: remember the last few hundred (bounded, cleared when full).
  const known = parsed.get(header);
  if (known !== undefined) return known === null ? undefined : known;
  const host = parseHostOnce(header);
  if (parsed.size >= 512) parsed.clear();
  parsed.set(header, host ?? null);
  return host;
}

const parsed = new Map<string, string | null>();

function parseHostOnce(header: string): string | undefined {
  let host = header.toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end === -1) return undefined;
    const rest = host.slice(end + 1);
    if (rest && !/^:\d{1,5}$/.test(rest)) return undefined;
    host = host.slice(0, end + 1);
    return IPV6_LITERAL.test(host) ? host : undefined;
  }
  const colon = host.indexOf(':');
  if (colon !== -1) {
    if (!/^\d{1,5}$/.test(host.slice(colon + 1))) return undefined;
    host = host.slice(0, colon);
  }
  if (!HOSTNAME.test(host)) return undefined;
  return host.endsWith('.') ? host.slice(0, -1) : host;
}
