import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNK, LineWriter } from './line-writer.js';

const dir = fs.mkdtempSync(join(tmpdir(), 'outpost-lines-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const line = (i: number) => `{"seq":${i},"path":"/é/${'x'.repeat(i % 300)}"}\n`;
const flushed = (w: LineWriter) => new Promise<void>((r) => w.flush(() => r()));

describe('LineWriter', () => {
  it('writes every line, in order, whole, across many 64 KiB buffers; flush calls back once all is written', async () => {
    const file = join(dir, 'all.log');
    const fd = fs.openSync(file, 'w');
    const w = new LineWriter(fd);
    let expected = '';
    for (let i = 0; i < 50_000; i++) {
      const l = line(i);
      w.write(l);
      expected += l;
      // Requests come one event-loop turn at a time; so do the writes' completions.
      if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
    await flushed(w);
    expect(w.pending).toBe(0);
    expect(w.dropped).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(expected);
    expect(Buffer.byteLength(expected)).toBeGreaterThan(20 * CHUNK);
    w.end();
    fs.closeSync(fd);
  });

  it('a line longer than a buffer goes out whole and in its place', async () => {
    const file = join(dir, 'long.log');
    const fd = fs.openSync(file, 'w');
    const w = new LineWriter(fd);
    const long = `${'y'.repeat(CHUNK * 2)}\n`;
    w.write('a\n');
    w.write(long);
    w.write('b\n');
    await flushed(w);
    expect(fs.readFileSync(file, 'utf8')).toBe(`a\n${long}b\n`);
    w.end();
    fs.closeSync(fd);
  });

  it('a partly filled buffer is written within a second without a flush', async () => {
    const file = join(dir, 'quiet.log');
    const fd = fs.openSync(file, 'w');
    const w = new LineWriter(fd);
    w.write('one line\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('');
    const until = Date.now() + 3000;
    while (fs.readFileSync(file, 'utf8') === '' && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(fs.readFileSync(file, 'utf8')).toBe('one line\n');
    w.end();
    fs.closeSync(fd);
  });

  it('a reader that stalls (a full non-blocking pipe) neither blocks the event loop nor grows memory: the oldest buffers are dropped and counted; what arrives is whole lines in order', async () => {
    const fifo = join(dir, 'stalled.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    const w = new LineWriter(fd);
    let bytes = 0;
    const started = Date.now();
    for (let i = 0; i < 200_000; i++) {
      const l = line(i);
      w.write(l);
      bytes += Buffer.byteLength(l);
      if (i % 10_000 === 0) await new Promise((r) => setImmediate(r));
    }
    // The loop stayed free: a timer fires on time while the pipe is full.
    const t = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    expect(Date.now() - t).toBeLessThan(500);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(bytes).toBeGreaterThan(8 * 64 * CHUNK); // eight times what may wait
    expect(w.dropped).toBeGreaterThan(0);
    expect(w.pending).toBeLessThanOrEqual(65 * CHUNK);
    // The reader wakes up: everything it gets is whole lines with increasing numbers.
    const got: Buffer[] = [];
    const buf = Buffer.alloc(1 << 20);
    const deadline = Date.now() + 5000;
    let idleReads = 0;
    while (Date.now() < deadline && idleReads < 20) {
      try {
        const n = fs.readSync(reader, buf, 0, buf.length, null);
        if (n > 0) {
          got.push(Buffer.from(buf.subarray(0, n)));
          idleReads = 0;
        } else idleReads++;
      } catch {
        idleReads++; // EAGAIN: nothing yet
      }
      await new Promise((r) => setTimeout(r, 15));
    }
    const text = Buffer.concat(got).toString('utf8');
    const lines = text.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(100);
    expect(text.endsWith('\n')).toBe(true);
    let last = -1;
    for (const l of lines) {
      const seq = (JSON.parse(l) as { seq: number }).seq;
      expect(seq).toBeGreaterThan(last);
      last = seq;
    }
    // Once the reader has caught up, a flush completes.
    await flushed(w);
    w.end();
    fs.closeSync(fd);
    fs.closeSync(reader);
  }, 30_000);
});
