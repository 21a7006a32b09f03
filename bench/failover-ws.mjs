#!/usr/bin/env node
// WebSocket clients for the failover bench (forked by failover.mjs, driven over IPC): --count
// sockets to --url, each noting which origin greeted it ({"hello": name}). A socket that closes
// reconnects at once, to the same URL (the proxy); an attempt that fails (refused, an error
// answer, closed before the greeting) is tried again after --retry-ms, until the end.
//
// Messages: in {cmd: 'open'} → out {type: 'opened', open, failed}; in {cmd: 'echo'} → every open
// socket sends a message and waits for its echo → out {type: 'echoed', open, echoed};
// in {cmd: 'report'} → out {type: 'report', sockets}, one per socket: segments [origin, helloAt,
// closeAt|null] (a connection that got its greeting) and attempts [startAt, endAt, ok 1|0, error].
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    count: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '50' },
    'retry-ms': { type: 'string', default: '100' },
    'handshake-timeout': { type: 'string', default: '5000' },
  },
});

const now = () => Math.round((performance.timeOrigin + performance.now()) * 100) / 100;
const count = Number(opt.count);
const retryMs = Number(opt['retry-ms']);
let stopping = false;

/** Per socket: current ws, its history. */
const sockets = Array.from({ length: count }, () => ({ ws: null, live: false, segments: [], attempts: [], onEcho: null }));

/** One connection attempt for socket i; resolves true once greeted, false if it failed. */
function connect(i) {
  const s = sockets[i];
  const attempt = [now(), null, 0, ''];
  s.attempts.push(attempt);
  return new Promise((resolve) => {
    let segment = null;
    const ws = new WebSocket(opt.url, { perMessageDeflate: false, handshakeTimeout: Number(opt['handshake-timeout']) });
    s.ws = ws;
    ws.on('message', (data) => {
      if (!segment) {
        let origin = '?';
        try {
          origin = String(JSON.parse(data.toString()).hello ?? '?');
        } catch {
          // not a greeting
        }
        segment = [origin, now(), null];
        s.segments.push(segment);
        s.live = true;
        attempt[1] = segment[1];
        attempt[2] = 1;
        resolve(true);
        return;
      }
      s.onEcho?.(data.toString());
    });
    ws.on('error', (e) => {
      if (!attempt[3]) attempt[3] = e.code || e.message.slice(0, 60);
    });
    ws.on('close', () => {
      s.live = false;
      if (segment) {
        segment[2] = now();
        if (!stopping) void connect(i);
      } else {
        attempt[1] = now();
        if (!attempt[3]) attempt[3] = 'closed before greeting';
        resolve(false);
        if (!stopping) setTimeout(() => !stopping && void connect(i), retryMs);
      }
    });
  });
}

async function openAll() {
  let next = 0;
  let open = 0;
  let failed = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      if (await connect(i)) open++;
      else failed++; // retried in the background by connect()
    }
  };
  await Promise.all(Array.from({ length: Number(opt.concurrency) }, worker));
  return { open, failed };
}

async function echoAll() {
  let open = 0;
  let echoed = 0;
  await Promise.all(
    sockets.map(
      (s, i) =>
        new Promise((resolve) => {
          if (!s.live || s.ws.readyState !== WebSocket.OPEN) return resolve();
          open++;
          const msg = `echo-${i}-${now()}`;
          const timer = setTimeout(() => {
            s.onEcho = null;
            resolve();
          }, 3000);
          s.onEcho = (text) => {
            if (text !== msg) return;
            echoed++;
            clearTimeout(timer);
            s.onEcho = null;
            resolve();
          };
          s.ws.send(msg);
        }),
    ),
  );
  return { open, echoed };
}

process.on('message', async (m) => {
  if (m?.cmd === 'open') process.send({ type: 'opened', ...(await openAll()) });
  else if (m?.cmd === 'echo') process.send({ type: 'echoed', ...(await echoAll()) });
  else if (m?.cmd === 'report') {
    stopping = true;
    process.send({ type: 'report', sockets: sockets.map((s) => ({ segments: s.segments, attempts: s.attempts })) }, () => {
      for (const s of sockets) s.ws?.terminate();
      process.exit(0);
    });
  }
});
// The coordinator gone (killed, crashed): nothing left to do.
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
