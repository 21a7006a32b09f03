#!/usr/bin/env node
// Open-loop HTTP load for the failover bench (forked by failover.mjs, driven over IPC): GET
// --path at a fixed --rate from a start time for a duration, over an undici Pool of up to
// --connections keep-alive connections. Request i is due at start + i / rate whatever happened to
// the earlier ones (wrk2-style pacing), so a stall shows as queued requests and latency, not as
// a lower rate; latency is measured from the due time (coordinated omission corrected).
//
// Messages: in {cmd: 'start', startAt, durationMs} (startAt: epoch ms); out {type: 'done',
// result} once every request has finished. result holds one entry per request in parallel
// arrays: due (epoch ms), lag (send − due, ms), latency (done − due, ms), status (0: error),
// origin ('a', 'b', ... from the JSON body's "origin"; '' if none), err (error code or '').
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    path: { type: 'string', default: '/api/info' },
    rate: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '512' },
    timeout: { type: 'string', default: '10000' },
  },
});

const now = () => performance.timeOrigin + performance.now();
const rate = Number(opt.rate);
const timeout = Number(opt.timeout);
const pool = new Pool(opt.url, {
  connections: Number(opt.connections),
  pipelining: 1,
  keepAliveTimeout: 60_000,
  headersTimeout: timeout,
  bodyTimeout: timeout,
  connect: { timeout },
});

process.on('message', (m) => {
  if (m?.cmd === 'start') void run(m.startAt, m.durationMs);
});
// The coordinator gone (killed, crashed): nothing left to do.
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });

async function run(startAt, durationMs) {
  const n = Math.floor((rate * durationMs) / 1000);
  const due = new Float64Array(n);
  const lag = new Float32Array(n);
  const latency = new Float32Array(n);
  const status = new Uint16Array(n);
  const origin = new Array(n).fill('');
  const err = new Array(n).fill('');
  const pending = [];

  const fire = (i) => {
    const t = startAt + (i * 1000) / rate;
    due[i] = t;
    lag[i] = now() - t;
    return pool
      .request({ path: opt.path, method: 'GET', headers: { host: 'bench.local' } })
      .then(async (res) => {
        const text = await res.body.text();
        status[i] = res.statusCode;
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {
          // an HTML error page
        }
        origin[i] = String(json?.origin ?? '');
        // An error answer: its code when it has one (Outpost: {"error": {"code": "origin_reset"}}).
        if (res.statusCode !== 200) err[i] = String(json?.error?.code ?? '');
      })
      .catch((e) => {
        status[i] = 0;
        err[i] = e.code || e.name || 'error';
      })
      .finally(() => {
        latency[i] = now() - t;
      });
  };

  let next = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const dueCount = Math.min(n, Math.floor(((now() - startAt) * rate) / 1000) + 1);
      while (next < dueCount) pending.push(fire(next++));
      if (next >= n) resolve();
      else setTimeout(tick, 1);
    };
    setTimeout(tick, Math.max(0, startAt - now()));
  });
  await Promise.all(pending);
  const round = (a) => Array.from(a, (x) => Math.round(x * 100) / 100);
  process.send({ type: 'done', result: { due: round(due), lag: round(lag), latency: round(latency), status: Array.from(status), origin, err } }, () => process.exit(0));
}
