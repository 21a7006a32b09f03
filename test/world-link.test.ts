/**
 * The latency link of the world simulation (bench/world/link.mjs) over real sockets: measured
 * round trips within 5% of the configured ones, a new connection costs its handshake RTT, order
 * is kept under jitter, the bandwidth cap holds, half-close and errors travel.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs bench module without types
import { startLink } from '../bench/world/link.mjs';

interface Link {
  port: number;
  close(): Promise<void>;
}
const closers: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

/** An echo server (what it reads it writes back; ends when the client ends). */
async function echo(): Promise<number> {
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

/**
 * A link in its own process, as the world harness runs them (a link sharing its event loop with
 * the clients it measures would measure them too).
 */
async function linkProcess(targetPort: number, oneWayMs: number): Promise<{ port: number }> {
  const proc = spawn(process.execPath, [fileURLToPath(new URL('../bench/world/link.mjs', import.meta.url)), '0', `127.0.0.1:${targetPort}`, String(oneWayMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  closers.push(() => void proc.kill());
  const line = await new Promise<string>((resolve, reject) => {
    proc.stdout!.once('data', (d) => resolve(String(d)));
    proc.once('exit', (code) => reject(new Error(`link exited ${code}`)));
  });
  return { port: Number(/127\.0\.0\.1:(\d+)/.exec(line)![1]) };
}

async function link(opts: Record<string, unknown>): Promise<Link> {
  const l = (await startLink(opts)) as Link;
  closers.push(() => l.close());
  return l;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `n` bytes and resolves when `n` bytes came back; the elapsed ms. */
function roundTrip(s: net.Socket, payload: Buffer): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let got = 0;
    const on = (d: Buffer) => {
      got += d.length;
      if (got >= payload.length) {
        s.off('data', on);
        resolve(performance.now() - t0);
      }
    };
    s.on('data', on);
    s.write(payload);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('the latency link', () => {
  for (const rtt of [20, 160, 280]) {
    it(`an RTT of ${rtt} ms measures within 5% (the least of several), and a new connection costs one RTT of handshake more`, async () => {
      const target = await echo();
      const l = await linkProcess(target, rtt / 2);
      // One connection first: the link process's code paths are cold at its very first.
      const warm = await connect(l.port);
      await roundTrip(warm, Buffer.from('w'));
      warm.destroy();
      // A new connection's cost, the least of several for the same reason as the RTT below: load
      // only adds (one sample alone once read 81 ms for 40 beside a busy suite).
      let connectAndFirst = Number.POSITIVE_INFINITY;
      let first = 0;
      let s: Awaited<ReturnType<typeof connect>> | undefined;
      for (let i = 0; i < 5; i++) {
        s?.destroy();
        const t0 = performance.now();
        s = await connect(l.port);
        const f = await roundTrip(s, Buffer.from('x'));
        const took = performance.now() - t0;
        if (took < connectAndFirst) [connectAndFirst, first] = [took, f];
      }
      const rtts: number[] = [];
      for (let i = 0; i < (rtt > 100 ? 5 : 15); i++) rtts.push(await roundTrip(s!, Buffer.from(`ping ${i}`)));
      s!.destroy();
      // The link's own RTT is the least one measured: what a loaded machine adds (a test file
      // beside this one, the event loop of this client and echo) only ever comes on top.
      const shown = `RTTs ${rtts.map((x) => x.toFixed(1)).join(' ')}`;
      expect(Math.abs(Math.min(...rtts) - rtt) / rtt, shown).toBeLessThan(0.05);
      expect(median(rtts), shown).toBeLessThan(rtt * 1.5);
      // Handshake (one RTT) + the first exchange (one RTT): never less than two RTTs, and not a
      // third (a doubled handshake).
      expect(connectAndFirst, `connect + first exchange: ${connectAndFirst.toFixed(1)} ms`).toBeGreaterThan(2 * rtt * 0.97);
      expect(connectAndFirst, `connect + first exchange: ${connectAndFirst.toFixed(1)} ms`).toBeLessThan(2.5 * rtt + 5);
      expect(first).toBeGreaterThan(rtt * 1.9);
    });
  }

  it('keeps the order of chunks under jitter', async () => {
    const target = await echo();
    const l = await link({ target: { host: '127.0.0.1', port: target }, delayMs: 5, jitterMs: 4 });
    const s = await connect(l.port);
    let text = '';
    s.on('data', (d) => (text += d));
    const expected = Array.from({ length: 200 }, (_, i) => `<${i}>`).join('');
    for (let i = 0; i < 200; i++) {
      s.write(`<${i}>`);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise<void>((r) => {
      const check = () => (text.length >= expected.length ? r() : setTimeout(check, 5));
      check();
    });
    expect(text).toBe(expected);
    s.destroy();
  });

  it('caps the bandwidth', async () => {
    const target = await echo();
    // 1 MB/s each way: 200 KB take >= 0.2 s to pass (the echo streams them back meanwhile).
    const l = await link({ target: { host: '127.0.0.1', port: target }, delayMs: 1, bandwidth: 1_000_000 });
    const s = await connect(l.port);
    const ms = await roundTrip(s, Buffer.alloc(200_000, 7));
    expect(ms).toBeGreaterThan(195);
    expect(ms).toBeLessThan(1000);
    s.destroy();
  });

  it('carries a half-close both ways, after the data ahead of it', async () => {
    const target = await echo();
    const l = await link({ target: { host: '127.0.0.1', port: target }, delayMs: 10 });
    const s = await connect(l.port);
    let text = '';
    s.on('data', (d) => (text += d));
    const ended = new Promise<number>((r) => s.once('end', () => r(performance.now())));
    const t0 = performance.now();
    s.end('last words');
    expect((await ended) - t0).toBeGreaterThan(19);
    expect(text).toBe('last words');
  });

  it('closes the client when the target refuses', async () => {
    const refused = await new Promise<number>((r) => {
      const srv = net.createServer();
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => r(p));
      });
    });
    const l = await link({ target: { host: '127.0.0.1', port: refused }, delayMs: 5 });
    const s = await connect(l.port);
    s.on('error', () => {});
    await new Promise((r) => s.once('close', r));
    expect(s.destroyed).toBe(true);
  });

  it('refuses impossible settings', async () => {
    await expect(startLink({ target: { host: '127.0.0.1', port: 1 }, delayMs: -1 })).rejects.toThrow(/delayMs/);
    await expect(startLink({ target: { host: '127.0.0.1', port: 1 }, delayMs: 1, bandwidth: 0 })).rejects.toThrow(/bandwidth/);
  });
});
