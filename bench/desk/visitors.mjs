/**
 * Desk benchmark: `count` visitors in this process, each with its own WebSocket to `url`, each
 * sending a message every `periodMs` (random phase) whose body carries the send time
 * (performance.timeOrigin + performance.now(): one clock for every process on the machine).
 * Visitors behave like the widget: a dropped socket reconnects with backoff (0.5–2 s), says
 * hello with its session and last seq, and re-sends what was not acked under the same clientId.
 *
 *   node bench/desk/visitors.mjs <ws-url> <count> <periodMs> <durationMs> <rampMs> <out.json> [source-address] [t0]
 *
 * t0 (epoch ms, default now): every process of a run counts its ramp, sends and end from the same
 * instant, and closes its sockets only 2 s after the common end, so one process tearing down its
 * sockets never lands on another's last messages.
 *
 * Writes {sent, acked, unacked, reconnects, reconnectMs: [...], failedAttempts: {why: count},
 * clientIds: [...acked], ackMs: [...], cpuMs} to out.json at the end (reconnectMs: from a socket's
 * close to the welcome on its successor; failedAttempts: sockets that closed before a welcome, by
 * HTTP status of a refused upgrade, close code, or error code; ackMs: send → its message.ack, first
 * sends on an open socket only, openMs the same for each visitor's first message, which opens its
 * conversation; cpuMs: this process's CPU time from its first send to the end).
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const [url, countArg, periodArg, durationArg, rampArg, out, localAddress, t0Arg] = process.argv.slice(2);
const count = Number(countArg);
const periodMs = Number(periodArg);
const durationMs = Number(durationArg);
const rampMs = Number(rampArg);
const now = () => performance.timeOrigin + performance.now();
const t0 = t0Arg ? Number(t0Arg) : Date.now();
const at = (ms) => Math.max(0, t0 + ms - Date.now());

let sent = 0;
let reconnects = 0;
const reconnectMs = [];
const failedAttempts = {};
const failed = (why) => (failedAttempts[why] = (failedAttempts[why] ?? 0) + 1);
const acked = new Set();
const ackMs = [];
const openMs = [];
let cpuAtStart;
const visitors = [];
let stopping = false;

class Visitor {
  constructor(i) {
    this.i = i;
    this.session = undefined;
    this.conversation = undefined;
    this.lastSeq = 0;
    this.pending = new Map(); // clientId → body, until acked
    this.sentAt = new Map(); // clientId → when first sent on an open socket (ack latency)
    this.n = 0;
    this.ws = undefined;
    this.ready = false;
    this.backoff = 500;
    this.closedAt = undefined;
  }
  connect() {
    if (stopping) return;
    const ws = new WebSocket(url, { localAddress, perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'visitor.hello', workspace: 'w_demo', session: this.session, conversation: this.conversation, lastSeq: this.lastSeq }));
    });
    ws.on('message', (data) => {
      const ev = JSON.parse(String(data));
      if (ev.type === 'visitor.welcome') {
        this.session = ev.session;
        this.conversation = ev.conversation.id;
        for (const m of ev.messages) this.lastSeq = Math.max(this.lastSeq, m.seq);
        this.ready = true;
        if (this.closedAt !== undefined) reconnectMs.push(now() - this.closedAt);
        this.closedAt = undefined;
        this.backoff = 500;
        // What was sent but not acked goes again, under the same clientId: stored once.
        for (const [clientId, body] of this.pending) ws.send(JSON.stringify({ type: 'message.send', clientId, body }));
      } else if (ev.type === 'message.ack') {
        const sentAt = this.sentAt.get(ev.clientId);
        if (sentAt !== undefined) (ev.seq === 1 ? openMs : ackMs).push(now() - sentAt);
        this.sentAt.delete(ev.clientId);
        this.pending.delete(ev.clientId);
        acked.add(ev.clientId);
        this.lastSeq = Math.max(this.lastSeq, ev.seq);
      } else if (ev.type === 'message.new') {
        this.lastSeq = Math.max(this.lastSeq, ev.message.seq);
      }
    });
    let why;
    ws.on('unexpected-response', (_req, res) => {
      why = `http ${res.statusCode}`;
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => (why ??= `error ${err.code ?? err.message}`));
    ws.on('close', (code) => {
      if (!this.ready && !stopping) failed(why ?? `close ${code}`);
      this.ready = false;
      if (stopping) return;
      reconnects++;
      this.closedAt ??= now();
      const wait = this.backoff * (0.75 + Math.random() * 0.5);
      this.backoff = Math.min(this.backoff * 2, 2000);
      setTimeout(() => this.connect(), wait);
    });
  }
  send() {
    const clientId = `b${process.pid}_${this.i}_${this.n++}`;
    const body = `t=${now().toFixed(3)} from visitor ${this.i}`;
    this.pending.set(clientId, body);
    sent++;
    if (!this.ready) return;
    this.sentAt.set(clientId, now());
    this.ws.send(JSON.stringify({ type: 'message.send', clientId, body }));
  }
}

for (let i = 0; i < count; i++) {
  const v = new Visitor(i);
  visitors.push(v);
  setTimeout(() => v.connect(), at((rampMs * i) / count));
}
// Sending starts once every visitor had time to connect; each at its own phase.
const start = rampMs + 1000;
for (const v of visitors) {
  setTimeout(
    () => {
      cpuAtStart ??= process.cpuUsage();
      v.timer = setInterval(() => v.send(), periodMs);
      v.send();
    },
    at(start + Math.random() * periodMs),
  );
}

setTimeout(
  () => {
    for (const v of visitors) clearInterval(v.timer);
    // Let the last sends be acked (a node may just have died: give reconnects time).
    const settle = Date.now() + 10_000;
    const finish = () => {
      const unacked = visitors.reduce((n, v) => n + v.pending.size, 0);
      if (unacked > 0 && Date.now() < settle) return setTimeout(finish, 200);
      if (Date.now() < t0 + start + durationMs + 2000) return setTimeout(finish, at(start + durationMs + 2000));
      stopping = true;
      for (const v of visitors) v.ws?.terminate();
      const cpu = process.cpuUsage(cpuAtStart);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      writeFileSync(out, JSON.stringify({ sent, acked: acked.size, unacked, reconnects, reconnectMs, failedAttempts, clientIds: [...acked], ackMs, openMs, cpuMs }));
      process.exit(0);
    };
    finish();
  },
  at(start + durationMs),
);
