/**
 * A latency link: a TCP relay that joins a listening port to a target with a one-way delay in
 * each direction — our netem, which these machines do not have. What it models, per connection:
 *
 * - The TCP handshake: the target is dialled when the SYN would arrive (after `delayMs`), and the
 *   client's bytes leave as if it could only send once the SYN-ACK came back (an RTT after it
 *   connected). So a new connection costs one RTT before the first byte lands, as on a real path.
 * - Propagation: each chunk leaves at arrival + delay (± jitter); order is kept (a chunk never
 *   leaves before the one ahead of it).
 * - Bandwidth (optional, bytes per second): a chunk also waits for the ones ahead of it to be
 *   serialised, and takes length / rate itself.
 * - Half-close and close travel with the same delay; an error on either side ends both.
 *
 * Node's timers fire up to a millisecond early or late (their clock counts whole milliseconds):
 * the link sets its timer 1.5 ms short and waits out the rest on the event loop's turns, so a
 * chunk leaves within a few tens of microseconds of its time; departures are computed from the
 * link's own clock (performance.now), so lateness never accumulates.
 *
 *   import { startLink } from './link.mjs';
 *   const link = await startLink({ target: { host, port }, delayMs: 80 });   // RTT 160 ms
 *   link.port; await link.close();
 *
 * As a command: node bench/world/link.mjs <listen-port> <target-host:port> <one-way-ms> [jitter-ms] [bytes/s]
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** A chunk due this close is sent now. */
const EARLY_MS = 0.05;
/** The last this many milliseconds before a departure are waited out with setImmediate. */
const SPIN_MS = 1.5;

/**
 * @param {{ target: { host: string, port: number }, delayMs: number, jitterMs?: number,
 *           bandwidth?: number, host?: string, port?: number, random?: () => number }} opts
 * @returns {Promise<{ port: number, host: string, connections: () => number, close: () => Promise<void> }>}
 */
export async function startLink(opts) {
  const delay = opts.delayMs;
  if (!(delay >= 0)) throw new TypeError(`delayMs must be a number >= 0, got ${delay}`);
  const jitter = opts.jitterMs ?? 0;
  if (!(jitter >= 0)) throw new TypeError(`jitterMs must be >= 0, got ${jitter}`);
  if (opts.bandwidth !== undefined && !(opts.bandwidth > 0)) throw new TypeError(`bandwidth must be > 0 bytes/s, got ${opts.bandwidth}`);
  const random = opts.random ?? Math.random;
  const sockets = new Set();

  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    const accepted = performance.now();
    const target = new net.Socket({ allowHalfOpen: true });
    target.setNoDelay(true);
    sockets.add(client);
    sockets.add(target);
    const ends = () => {
      sockets.delete(client);
      sockets.delete(target);
    };
    client.once('close', ends);
    // Client → target: nothing before the virtual handshake completes (accepted + RTT).
    const up = pipe(client, target, accepted + 2 * delay);
    const down = pipe(target, client, 0);
    const fail = () => {
      up.abort();
      down.abort();
    };
    client.on('error', fail);
    target.on('error', fail);
    // The SYN reaches the target after one delay.
    const dial = setTimeout(() => {
      if (client.destroyed) return target.destroy();
      target.connect(opts.target.port, opts.target.host);
    }, delay);
    client.once('close', () => clearTimeout(dial));
  });

  /**
   * One direction. Chunks wait in a queue with their departure time; one timer serves the head.
   * `notBefore`: the earliest virtual send time (the handshake), on the link's clock.
   */
  function pipe(from, to, notBefore) {
    /** @type {{ at: number, chunk: Buffer | null }[]} */
    const queue = [];
    let lastDeparture = 0;
    let timer;
    let aborted = false;
    let waiting = false;
    const connected = () => !to.connecting && to.readyState !== 'closed';

    const schedule = () => {
      clearTimeout(timer);
      clearImmediate(timer);
      if (queue.length === 0 || aborted) return;
      const wait = queue[0].at - performance.now();
      // Timers count whole milliseconds, so they fire up to one early or late: the last
      // stretch is waited out on the event loop's turns instead.
      if (wait < SPIN_MS) timer = setImmediate(flush);
      else timer = setTimeout(flush, wait - SPIN_MS);
    };
    const flush = () => {
      const now = performance.now();
      while (queue.length > 0 && queue[0].at <= now + EARLY_MS) {
        if (!connected()) {
          // The far side is still dialling: go as soon as it is up.
          if (!waiting) {
            waiting = true;
            to.once('connect', () => {
              waiting = false;
              flush();
            });
          }
          return;
        }
        const { chunk } = queue.shift();
        if (chunk === null) to.end();
        else if (!to.write(chunk)) from.pause();
      }
      schedule();
    };
    to.on('drain', () => from.resume());

    const enqueue = (chunk) => {
      const arrival = Math.max(performance.now(), notBefore);
      let at = arrival + delay + (jitter > 0 ? (random() * 2 - 1) * jitter : 0);
      if (opts.bandwidth && chunk) at = Math.max(at, lastDeparture) + (chunk.length / opts.bandwidth) * 1000;
      at = Math.max(at, lastDeparture); // order is kept
      lastDeparture = at;
      queue.push({ at, chunk });
      if (queue.length === 1) schedule();
    };
    from.on('data', (chunk) => enqueue(chunk));
    from.on('end', () => enqueue(null));
    from.on('close', () => {
      // A reset (or close without FIN) reaches the far side after the data ahead of it.
      if (!from.readableEnded) enqueue(null);
    });
    return {
      abort() {
        aborted = true;
        clearTimeout(timer);
        clearImmediate(timer);
        from.destroy();
        to.destroy();
      },
    };
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = /** @type {net.AddressInfo} */ (server.address());
  return {
    port,
    host: address,
    connections: () => sockets.size / 2,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [listen, target, oneWay, jitter, rate] = process.argv.slice(2);
  if (!listen || !target || oneWay === undefined) {
    process.stderr.write('usage: node bench/world/link.mjs <listen-port> <target-host:port> <one-way-ms> [jitter-ms] [bytes/s]\n');
    process.exit(2);
  }
  const [host, port] = target.split(':');
  const link = await startLink({
    port: Number(listen),
    target: { host, port: Number(port) },
    delayMs: Number(oneWay),
    jitterMs: jitter ? Number(jitter) : 0,
    bandwidth: rate ? Number(rate) : undefined,
  });
  process.stdout.write(`link 127.0.0.1:${link.port} -> ${target}, ${oneWay} ms each way\n`);
  const stop = () => void link.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
