#!/usr/bin/env node
// The flood of the attack bench (forked by run.mjs, driven over IPC): GET requests at a fixed
// total --rate, open loop, over raw keep-alive HTTP/1.1 sockets from many source addresses,
// pipelined up to --depth requests per socket. Cheap on purpose (the edge and the origin share
// the cores): requests are preformatted, each socket gets one write per tick, and responses are
// parsed only as far as the status line, Content-Length or chunk sizes.
//
// A request due while its socket is not connected, or already has --depth requests in flight,
// is not sent and counts as `skipped` (offered, never answered: the edge could not keep up or
// refused the connection). A socket the edge closes is reconnected after --reconnect-ms; the
// requests it had in flight count as `lost`.
//
// Messages: in {cmd: 'start', startAt} (epoch ms), {cmd: 'stop'}; out {type: 'ready'},
// {type: 'done', result}. result.seconds: {"<epoch s>": {offered, sent, skipped, status: {code: n},
// lost, passed: {address: 2xx answers}}}, counted at the second a request was due (offered,
// sent, skipped) or answered (status, passed, lost).
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    rate: { type: 'string' },
    // Source addresses, comma separated (the coordinator splits the flood's range between processes).
    addrs: { type: 'string' },
    'conns-per-addr': { type: 'string', default: '4' },
    depth: { type: 'string', default: '256' },
    'reconnect-ms': { type: 'string', default: '50' },
    path: { type: 'string', default: '/api/flood' },
    'user-agent': { type: 'string', default: 'flood/1.0' },
  },
});

const now = () => performance.timeOrigin + performance.now();
const rate = Number(opt.rate);
const depth = Number(opt.depth);
const reconnectMs = Number(opt['reconnect-ms']);
const addrs = opt.addrs.split(',').filter(Boolean);
const port = Number(opt.port);
const TICK_MS = 5;

/** epoch second → counters */
const seconds = new Map();
function row(ms) {
  const s = Math.floor(ms / 1000);
  let r = seconds.get(s);
  if (!r) seconds.set(s, (r = { offered: 0, sent: 0, skipped: 0, status: {}, lost: 0, passed: {} }));
  return r;
}
const totals = { connects: 0, closes: 0, connectErrors: 0 };

let seq = 0;
function request() {
  seq++;
  return `GET ${opt.path}/${seq} HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: ${opt['user-agent']}\r\nAccept: */*\r\n\r\n`;
}

let running = false;

/** One keep-alive connection from one source address. */
class Conn {
  constructor(localAddress) {
    this.localAddress = localAddress;
    this.socket = null;
    this.connected = false;
    this.inflight = 0;
    this.out = '';
    this.connect();
  }

  connect() {
    if (!running && this.socket) return;
    this.resetParser();
    this.connected = false;
    const s = net.connect({ host: opt.host, port, localAddress: this.localAddress, noDelay: true });
    this.socket = s;
    s.setEncoding('latin1');
    s.on('connect', () => {
      this.connected = true;
      totals.connects++;
    });
    s.on('data', (chunk) => this.onData(chunk));
    s.on('error', (err) => {
      if (!this.connected) totals.connectErrors++;
      this.lastError = err.code;
    });
    s.on('close', () => {
      if (this.connected) totals.closes++;
      if (this.inflight > 0) row(now()).lost += this.inflight;
      this.inflight = 0;
      this.connected = false;
      if (this.socket === s && running) setTimeout(() => this.connect(), reconnectMs);
    });
  }

  resetParser() {
    this.buf = '';
    this.state = 'head'; // head | body | chunk-size | chunk-data | trailer
    this.remaining = 0;
    this.status = 0;
  }

  /** Queue one request for this tick's write; false when it cannot be sent now. */
  offer() {
    if (!this.connected || this.inflight >= depth) return false;
    this.inflight++;
    this.out += request();
    return true;
  }

  flush() {
    if (this.out) {
      this.socket.write(this.out, 'latin1');
      this.out = '';
    }
  }

  onData(chunk) {
    this.buf += chunk;
    for (;;) {
      if (this.state === 'head') {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = this.buf.slice(0, end);
        this.buf = this.buf.slice(end + 4);
        this.status = Number(head.slice(9, 12)) || 0;
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (m) {
          this.remaining = Number(m[1]);
          this.state = 'body';
        } else if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
          this.state = 'chunk-size';
        } else {
          this.remaining = 0;
          this.state = 'body';
        }
        this.closeAfter = /\r\nconnection:\s*close/i.test(head);
      } else if (this.state === 'body') {
        if (this.buf.length < this.remaining) {
          this.remaining -= this.buf.length;
          this.buf = '';
          return;
        }
        this.buf = this.buf.slice(this.remaining);
        this.done();
      } else if (this.state === 'chunk-size') {
        const eol = this.buf.indexOf('\r\n');
        if (eol < 0) return;
        const size = parseInt(this.buf.slice(0, eol), 16);
        this.buf = this.buf.slice(eol + 2);
        if (size === 0) this.state = 'trailer';
        else {
          this.remaining = size + 2; // data + CRLF
          this.state = 'chunk-data';
        }
      } else if (this.state === 'chunk-data') {
        if (this.buf.length < this.remaining) {
          this.remaining -= this.buf.length;
          this.buf = '';
          return;
        }
        this.buf = this.buf.slice(this.remaining);
        this.state = 'chunk-size';
      } else {
        // trailer: lines until an empty one
        const eol = this.buf.indexOf('\r\n');
        if (eol < 0) return;
        const empty = eol === 0;
        this.buf = this.buf.slice(eol + 2);
        if (empty) this.done();
      }
    }
  }

  done() {
    this.state = 'head';
    this.inflight = Math.max(0, this.inflight - 1);
    const r = row(now());
    r.status[this.status] = (r.status[this.status] ?? 0) + 1;
    // Which addresses get through (2xx: the request reached the origin).
    if (this.status >= 200 && this.status < 300) r.passed[this.localAddress] = (r.passed[this.localAddress] ?? 0) + 1;
    if (this.closeAfter) this.socket.end();
  }
}

let conns = [];
let timer = null;
let startAt = 0;
let due = 0; // requests due so far

let rr = 0; // round-robin position

function tick() {
  const t = now();
  const target = Math.floor(((t - startAt) * rate) / 1000);
  if (due >= target) return;
  // The connections that can take a request now, in round-robin order from where the last tick stopped.
  const open = [];
  for (let k = 0; k < conns.length; k++) {
    const c = conns[(rr + k) % conns.length];
    if (c.connected && c.inflight < depth) open.push(c);
  }
  rr = (rr + 1) % Math.max(1, conns.length);
  let i = 0;
  while (due < target) {
    const r = row(startAt + (due * 1000) / rate);
    r.offered++;
    while (open.length && !open[i % open.length].offer()) {
      open.splice(i % open.length, 1);
    }
    if (open.length) {
      r.sent++;
      i++;
    } else r.skipped++;
    due++;
  }
  for (const c of conns) c.flush();
}

process.on('message', (m) => {
  if (m?.cmd === 'start') {
    startAt = m.startAt;
    running = true;
    conns = [];
    for (const a of addrs) for (let i = 0; i < Number(opt['conns-per-addr']); i++) conns.push(new Conn(a));
    const begin = () => {
      timer = setInterval(tick, TICK_MS);
    };
    setTimeout(begin, Math.max(0, startAt - now()));
  } else if (m?.cmd === 'stop') {
    running = false;
    clearInterval(timer);
    for (const c of conns) c.socket?.destroy();
    // Let the close handlers run, then report.
    setTimeout(() => {
      process.send({ type: 'done', result: { seconds: Object.fromEntries(seconds), totals, conns: conns.length, addrs: addrs.length } }, () => process.exit(0));
    }, 50);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
