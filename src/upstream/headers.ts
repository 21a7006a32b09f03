/**
 * Header hygiene between client and origin, both directions.
 * - Hop-by-hop fields (RFC 9110 §7.6.1) never cross: Connection, the fields it names,
 *   Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade (re-added for WebSockets only),
 *   Trailer, and HTTP/2 pseudo-headers.
 * - The origin learns who asked: X-Forwarded-For (appended), -Proto, -Host (replaced),
 *   Via (appended, §7.6.3), X-Request-Id.
 * Works on flat raw header arrays (`[name, value, name, value]`) as Node and undici give them,
 * so no header object is built on the hot path.
 */
import { randomUUID } from 'node:crypto';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer', 'http2-settings', 'expect']);
/** Set by the edge itself; whatever the client sent under these names is replaced. */
const EDGE_OWNED = new Set(['x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'host', 'x-outpost-country']);

/** Lowercase names listed in Connection headers (RFC 9110 §7.6.1): also hop-by-hop. */
export function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let out: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 10 && raw[i].toLowerCase() === 'connection') {
      for (const t of raw[i + 1].split(',')) {
        const name = t.trim().toLowerCase();
        if (name) (out ??= new Set()).add(name);
      }
    }
  }
  return out;
}

const REQUEST_ID = /^[A-Za-z0-9._:@=+/-]{6,128}$/;

/** The client's request id when it is a sane token, else a new one. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

export interface ForwardInfo {
  /** Host header for the origin. */
  host: string;
  /** The client's Host, for X-Forwarded-Host. */
  clientHost: string;
  clientIp: string;
  scheme: 'http' | 'https';
  requestId: string;
  /** `1.1 sin` — protocol version and PoP id. */
  via: string;
  /** The client's country (ISO code) when the geo database knows it: X-Outpost-Country. */
  country?: string;
}

/** This PoP's Via entry for a request (RFC 9110 §7.6.3): the protocol it came in on and the PoP's id, `1.1 sin` or `2 sin`. */
export function viaOf(ctx: { proto: string; snapshot: { config: { pop: { id: string } } } }): string {
  return `${ctx.proto === 'h2' ? '2' : '1.1'} ${ctx.snapshot.config.pop.id}`;
}

/** What the origin is told of a request (`via` = `1.1 <pop>` or `2 <pop>`). */
export function forwardInfo(
  ctx: { authority: string; clientIp: string; scheme: 'http' | 'https'; id: string; origin?: { hostOverride?: string }; client?: { country?: string }; rule?: { hostHeader?: string } },
  via: string,
): ForwardInfo {
  return {
    // A page rule's hostHeader is the most specific (per URL), then the origin's own override.
    host: ctx.rule?.hostHeader ?? ctx.origin?.hostOverride ?? ctx.authority,
    clientHost: ctx.authority,
    clientIp: ctx.clientIp,
    scheme: ctx.scheme,
    requestId: ctx.id,
    via,
    country: ctx.client?.country,
  };
}

/**
 * Request headers for the origin. `keepUpgrade` keeps Upgrade/Connection: upgrade for WebSocket
 * handshakes (the only hop-by-hop exchange a proxy repeats on purpose).
 */
export function upstreamRequestHeaders(raw: readonly string[], info: ForwardInfo, keepUpgrade = false): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  let xff: string | undefined;
  let via: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const lower = name.toLowerCase();
    if (lower.charCodeAt(0) === 58 /* ':' pseudo-header */) continue;
    if (HOP_BY_HOP.has(lower) || EDGE_OWNED.has(lower) || named?.has(lower)) continue;
    if (lower === 'x-forwarded-for') {
      xff = xff ? `${xff}, ${raw[i + 1]}` : raw[i + 1];
      continue;
    }
    if (lower === 'via') {
      via = via ? `${via}, ${raw[i + 1]}` : raw[i + 1];
      continue;
    }
    out.push(name, raw[i + 1]);
  }
  out.push(
    'host',
    info.host,
    'x-forwarded-for',
    xff ? `${xff}, ${info.clientIp}` : info.clientIp,
    'x-forwarded-proto',
    info.scheme,
    'x-forwarded-host',
    info.clientHost,
    'via',
    via ? `${via}, ${info.via}` : info.via,
    'x-request-id',
    info.requestId,
  );
  if (info.country) out.push('x-outpost-country', info.country);
  if (keepUpgrade) out.push('connection', 'upgrade', 'upgrade', 'websocket');
  return out;
}

/**
 * Response headers for the client from raw headers (undici's Buffers or Node's strings):
 * hop-by-hop removed, Via appended, the request id echoed; a flat string array for `res.writeHead`.
 */
export function clientResponseHeaders(raw: readonly (Buffer | string)[], via: string, requestId: string, keepUpgrade = false): string[] {
  const out: string[] = [];
  let named: Set<string> | undefined;
  let viaValue: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = latin1(raw[i]);
    const lower = name.toLowerCase();
    if (lower === 'connection') {
      for (const t of latin1(raw[i + 1]).split(',')) (named ??= new Set()).add(t.trim().toLowerCase());
      continue;
    }
    if (HOP_BY_HOP.has(lower) || lower === 'x-request-id') continue;
    if (lower === 'via') {
      viaValue = viaValue ? `${viaValue}, ${latin1(raw[i + 1])}` : latin1(raw[i + 1]);
      continue;
    }
    out.push(name, latin1(raw[i + 1]));
  }
  if (named) {
    // Connection may come after the fields it names: filter once more now that all are known.
    for (let i = out.length - 2; i >= 0; i -= 2) if (named.has(out[i].toLowerCase())) out.splice(i, 2);
  }
  out.push('via', viaValue ? `${viaValue}, ${via}` : via, 'x-request-id', requestId);
  if (keepUpgrade) out.push('connection', 'upgrade', 'upgrade', 'websocket');
  return out;
}

function latin1(v: Buffer | string): string {
  return typeof v === 'string' ? v : v.toString('latin1');
}
