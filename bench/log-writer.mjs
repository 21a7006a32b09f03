// CPU per access-log line: pino's sonic-boom destination against the edge's LineWriter (built:
// dist/), 1,000,000 lines of ~270 bytes to /dev/null.  node bench/log-writer.mjs
import pino from 'pino';
import { LineWriter } from '../dist/observe/line-writer.js';
import fs from 'node:fs';
const N = 1_000_000;
const line = () =>
  `{"level":30,"time":${Date.now()},"pop":"bench","type":"access","id":"${Math.random().toString(36).slice(2)}aaaaaaaaaaaaaaaaaaaaa","client":"127.0.0.1","proto":"http/1.1","scheme":"http","method":"GET","host":"127.0.0.1","path":"/1k","status":200,"bytes":1024,"ms":0.42,"cache":"hit","msg":"access"}\n`;
async function sonic(min) {
  const fd = fs.openSync('/dev/null', 'w');
  const d = pino.destination({ dest: fd, sync: false, minLength: min });
  const t = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    d.write(line());
    if (i % 1000 === 0) await new Promise(setImmediate);
  }
  d.flushSync?.();
  const u = process.cpuUsage(t);
  console.log(`sonic minLength=${min}: ${((u.user + u.system) / N).toFixed(2)} us cpu/line, wall ${(((performance.now() - t0) * 1000) / N).toFixed(2)}`);
}
async function lineWriter() {
  const fd = fs.openSync('/dev/null', 'w');
  const w = new LineWriter(fd);
  const t = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    w.write(line());
    if (i % 1000 === 0) await new Promise(setImmediate);
  }
  await new Promise((r) => w.flush(r));
  const u = process.cpuUsage(t);
  console.log(`LineWriter: ${((u.user + u.system) / N).toFixed(2)} us cpu/line (dropped ${w.dropped})`);
  w.end();
}
async function none() {
  const t = process.cpuUsage();
  let _x = 0;
  for (let i = 0; i < N; i++) {
    _x += line().length;
    if (i % 1000 === 0) await new Promise(setImmediate);
  }
  const u = process.cpuUsage(t);
  console.log(`line only: ${((u.user + u.system) / N).toFixed(2)} us cpu/line`);
}
await none();
await sonic(4096);
await lineWriter();
await sonic(4096);
await lineWriter();
