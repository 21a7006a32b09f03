/**
 * The websocket monitor type: a real opening handshake (RFC 6455 §4.1) on a new connection —
 * ws over an http:// origin, wss over https:// — judged by its 101 and its Sec-WebSocket-Accept
 * (§4.2.2: base64 SHA-1 of our key and the GUID), then a Close frame (1000) and the socket is
 * destroyed. An origin that accepts TCP but never completes the handshake fails at the timeout.
 * The RTT is the time to the 101.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { endpoint, probeHeaders, probeHost } from './endpoint.js';
import { abortReason, failureReason } from './failure-reason.js';
import type { MonitorSettings, Probe, ProbeResult } from './types.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2 item 5.4). */
export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

export function websocketProbe(settings: Pick<MonitorSettings, 'path' | 'headers' | 'port'>): Probe {
  return {
    check(target, signal) {
      const started = performance.now();
      if (signal.aborted) return Promise.resolve({ ok: false, rttMs: 0, reason: abortReason(signal) });
      const ep = endpoint(target, { port: settings.port });
      const key = randomBytes(16).toString('base64');
      const headers = {
        ...probeHeaders(settings.headers, probeHost(target, settings.headers)),
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': key,
        'sec-websocket-version': '13',
      };
      return new Promise<ProbeResult>((resolve) => {
        let settled = false;
        let request: http.ClientRequest | undefined;
        const done = (ok: boolean, reason?: string) => {
          if (settled) return;
          settled = true;
          request?.destroy();
          const rttMs = performance.now() - started;
          resolve(ok ? { ok, rttMs } : { ok, rttMs, reason });
        };
        try {
          request = (ep.secure ? https : http).request({
            host: ep.host,
            port: ep.port,
            method: 'GET',
            path: settings.path,
            headers,
            agent: false,
            signal,
            ...ep.tls,
          });
        } catch (err) {
          // A header value node refuses throws right here.
          return done(false, failureReason(err, signal));
        }
        request.on('upgrade', (response: http.IncomingMessage, socket: Duplex) => {
          // The socket left the request: it is ours to close on every path from here.
          socket.on('error', () => {});
          const problem = handshakeProblem(response, key);
          if (!problem) socket.end(closeFrame());
          socket.destroy();
          done(!problem, problem);
        });
        request.on('response', (response) => {
          response.on('error', () => {});
          done(false, `status ${response.statusCode}`);
        });
        request.on('error', (err) => done(false, failureReason(err, signal)));
        request.end();
      });
    },
  };
}

function handshakeProblem(response: http.IncomingMessage, key: string): string | undefined {
  if (response.statusCode !== 101) return `status ${response.statusCode}`;
  if (response.headers.upgrade?.toLowerCase() !== 'websocket') return 'bad handshake: Upgrade';
  if (response.headers['sec-websocket-accept'] !== acceptFor(key)) return 'bad handshake: Sec-WebSocket-Accept';
  return undefined;
}

/** A masked Close frame with status 1000 (RFC 6455 §5.5.1; clients mask every frame, §5.3). */
function closeFrame(): Buffer {
  const mask = randomBytes(4);
  const payload = Buffer.from([0x03, 0xe8]);
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, payload]);
}
