/**
 * The tcp monitor type: a connection is opened and closed, nothing is sent (Cloudflare's
 * `connection_established`). The RTT is the time to the connection. TLS is not attempted even
 * for an https:// origin; use an `https` monitor to check the handshake too.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { endpoint } from './endpoint.js';
import { abortReason, failureReason } from './failure-reason.js';
import type { MonitorSettings, Probe } from './types.js';

export function tcpProbe(settings: Pick<MonitorSettings, 'port'>): Probe {
  return {
    check(target, signal) {
      const started = performance.now();
      if (signal.aborted) return Promise.resolve({ ok: false, rttMs: 0, reason: abortReason(signal) });
      const ep = endpoint(target, { secure: false, port: settings.port });
      return new Promise((resolve) => {
        const socket = net.connect({ host: ep.host, port: ep.port });
        let settled = false;
        const done = (ok: boolean, reason?: string) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          socket.destroy();
          resolve(ok ? { ok, rttMs: performance.now() - started } : { ok, rttMs: performance.now() - started, reason });
        };
        const onAbort = () => done(false, abortReason(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        socket.once('connect', () => done(true));
        socket.on('error', (err) => done(false, failureReason(err, signal)));
      });
    },
  };
}
