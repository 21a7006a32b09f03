/**
 * Desk benchmark: operator sockets that record when each visitor message reaches them. One
 * operator per `base` URL (log in over REST, operator.hello over the WebSocket); for every
 * message.new from a visitor, latency = receive time − the send time in its body. Operators
 * answer a share of messages (at most `answersPerSecond` each: real operators type).
 *
 *   node bench/desk/operators.mjs <durationMs> <answersPerSecond> <out.json> <base-url>...
 *
 * Writes {latencies: [ms…], received, answered, duplicates} to out.json at the end.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const [durationArg, answersArg, out, ...bases] = process.argv.slice(2);
const now = () => performance.timeOrigin + performance.now();
const latencies = [];
let received = 0;
let answered = 0;
/** clientId → deliveries to one operator (a second delivery of a message is a duplicate). */
const seen = bases.map(() => new Map());
let duplicates = 0;
const sockets = [];

for (const [i, base] of bases.entries()) {
  // A node just through a load run may still be catching up (and the edge's monitors with it):
  // try for 30 s.
  let res;
  for (const until = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 500))) {
    res = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: i % 2 ? 'grace@acme.test' : 'ada@acme.test', password: 'demo-password' }),
    }).catch((err) => ({ ok: false, status: err.message }));
    if (res.ok || Date.now() > until) break;
  }
  if (!res.ok) throw new Error(`login at ${base}: ${res.status}`);
  const { token } = await res.json();
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'operator.hello', token }));
  let budget = Number(answersArg);
  setInterval(() => (budget = Number(answersArg)), 1000).unref();
  let n = 0;
  ws.on('message', (data) => {
    const t = now();
    const ev = JSON.parse(String(data));
    if (ev.type !== 'message.new' || ev.message.author.kind !== 'visitor') return;
    received++;
    const times = (seen[i].get(ev.message.clientId) ?? 0) + 1;
    seen[i].set(ev.message.clientId, times);
    if (times > 1) duplicates++;
    const m = /^t=([\d.]+) /.exec(ev.message.body);
    if (m) latencies.push(t - Number(m[1]));
    if (budget > 0) {
      budget--;
      answered++;
      ws.send(JSON.stringify({ type: 'message.send', conversation: ev.message.conversation, clientId: `op${process.pid}_${i}_${n++}`, body: 'Thanks, looking into it.' }));
    }
  });
  ws.on('error', () => {});
  sockets.push(ws);
}
process.stdout.write('operators ready\n');

setTimeout(() => {
  for (const ws of sockets) ws.terminate();
  writeFileSync(out, JSON.stringify({ latencies, received, answered, duplicates }));
  process.exit(0);
}, Number(durationArg));
