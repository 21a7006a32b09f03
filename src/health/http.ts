/**
 * The http and https monitor types. Every check opens a fresh connection (`agent: false`,
 * `Connection: close`): it measures what a new client sees, and it never borrows, warms or
 * poisons the pool real traffic uses. The RTT is the time to the final response's headers,
 * redirects included. The body is read only when `expectedBody` asks for it, and then at most
 * 64 KiB of it.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { endpoint, probeHeaders, probeHost } from './endpoint.js';
import { expectedCodes } from './expected-codes.js';
import { abortReason, failureReason } from './failure-reason.js';
import type { MonitorSettings, Probe, ProbeTarget } from './types.js';

/** How much of the body `expectedBody` is searched in. */
export const BODY_LIMIT = 64 * 1024;
/** Redirects followed at most (followRedirects). */
export const MAX_REDIRECTS = 5;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

type HttpSettings = Pick<MonitorSettings, 'type' | 'method' | 'path' | 'headers' | 'expectedCodes' | 'expectedBody' | 'followRedirects' | 'port'>;

export function httpProbe(settings: HttpSettings): Probe {
  const accept = expectedCodes(settings.expectedCodes);
  const needle = settings.expectedBody?.toLowerCase();
  return {
    async check(target, signal) {
      const started = performance.now();
      const rtt = () => performance.now() - started;
      let hop: ProbeTarget = target;
      let path = settings.path;
      let method = settings.method.toUpperCase();
      let headers = probeHeaders(settings.headers, probeHost(target, settings.headers));
      for (let redirects = 0; ; redirects++) {
        const secure = settings.type === 'https' && hop === target ? true : undefined;
        const port = hop === target ? settings.port : undefined;
        const res = await send(hop, secure, port, method, path, headers, signal);
        if ('reason' in res) return { ok: false, rttMs: rtt(), reason: res.reason };
        const { response, request } = res;
        const status = response.statusCode ?? 0;
        try {
          const location = response.headers.location;
          if (settings.followRedirects && REDIRECTS.has(status) && location) {
            if (redirects >= MAX_REDIRECTS) return { ok: false, rttMs: rtt(), reason: 'too many redirects' };
            const scheme = secure ? 'https:' : hop.address.protocol;
            const next = redirectTarget(target, hop, scheme, path, headers.host, location);
            if (!next) return { ok: false, rttMs: rtt(), reason: 'bad redirect' };
            if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) method = 'GET';
            // Leaving for another server: the monitor's own headers (tokens, say) stay behind, as fetch drops Authorization.
            headers = next.hop === target || next.hop === hop ? { ...headers, host: next.host } : probeHeaders({}, next.host);
            ({ hop, path } = next);
            continue;
          }
          const ms = rtt();
          if (!accept(status)) return { ok: false, rttMs: ms, reason: `status ${status}` };
          if (needle === undefined || method === 'HEAD') return { ok: true, rttMs: ms };
          const found = await bodyContains(response, needle, signal);
          if (typeof found === 'string') return { ok: false, rttMs: ms, reason: found };
          return found ? { ok: true, rttMs: ms } : { ok: false, rttMs: ms, reason: 'body mismatch' };
        } finally {
          request.destroy();
        }
      }
    },
  };
}

type Sent = { response: http.IncomingMessage; request: http.ClientRequest } | { reason: string };

/** One request on a new connection; resolves at the response headers, or with why not. */
function send(target: ProbeTarget, secure: boolean | undefined, port: number | undefined, method: string, path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Sent> {
  if (signal.aborted) return Promise.resolve({ reason: abortReason(signal) });
  const ep = endpoint(target, { secure, port });
  return new Promise((resolve) => {
    let request: http.ClientRequest;
    try {
      request = (ep.secure ? https : http).request({
        host: ep.host,
        port: ep.port,
        method,
        path,
        headers: { ...headers, connection: 'close' },
        agent: false,
        signal,
        ...ep.tls,
      });
    } catch (err) {
      // A header value node refuses (a monitor header with a newline, say) throws right here.
      return resolve({ reason: failureReason(err, signal) });
    }
    request.on('response', (response) => {
      // The socket stays ours until the caller destroys the request; a late error must not throw.
      response.on('error', () => {});
      resolve({ response, request });
    });
    request.on('error', (err) => {
      request.destroy();
      resolve({ reason: failureReason(err, signal) });
    });
    request.end();
  });
}

/**
 * Where a redirect goes. A Location on the origin itself — relative, or absolute with the name
 * the probe sent as Host — stays on the origin address (same connection options and Host); any
 * other is followed as a new http(s) target with its own Host.
 */
function redirectTarget(origin: ProbeTarget, hop: ProbeTarget, scheme: string, path: string, host: string, location: string): { hop: ProbeTarget; path: string; host: string } | undefined {
  let url: URL;
  try {
    url = new URL(location, `${scheme}//${host}${path}`);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const nextPath = `${url.pathname}${url.search}`;
  if (url.protocol === scheme && url.host === host) return { hop, path: nextPath, host };
  if (url.origin === origin.address.origin) return { hop: origin, path: nextPath, host: url.host };
  return { hop: { address: new URL(url.origin), tls: origin.tls?.rejectUnauthorized === false ? { rejectUnauthorized: false } : undefined }, path: nextPath, host: url.host };
}

/** Whether the first BODY_LIMIT bytes contain `needle` (lowercase); a string is a failure reason. */
async function bodyContains(response: http.IncomingMessage, needle: string, signal: AbortSignal): Promise<boolean | string> {
  const decoder = new StringDecoder('utf8');
  let text = '';
  let bytes = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      const take = chunk.subarray(0, BODY_LIMIT - bytes);
      bytes += take.length;
      const from = Math.max(0, text.length - needle.length);
      text += decoder.write(take).toLowerCase();
      if (text.includes(needle, from)) return true;
      if (bytes >= BODY_LIMIT) return false;
    }
    return (text + decoder.end().toLowerCase()).includes(needle);
  } catch (err) {
    return failureReason(err, signal);
  }
}
