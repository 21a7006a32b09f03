/**
 * Health changes leave the checker through sinks: one small interface, a webhook sink and a log
 * sink. `deliver` never blocks and never throws: a slow or dead receiver costs its own queue,
 * not the checker (and never the request path).
 *
 * Webhooks: each URL gets its own queue (1,000 events; past that new events are dropped and
 * counted) drained one POST at a time, in order. A POST has 5 s; a network error, a timeout, a
 * 408, 429 or 5xx is re-tried with exponential backoff, 3 attempts in all; any other status is
 * final. The body is the JSON HealthEvent.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { HealthChange, HealthListener, HealthStatus } from './health-state.js';

/** What receivers get: a change, where it was seen (`pop`), and when (ISO 8601). */
export interface HealthEvent {
  pool: string;
  origin: string;
  monitor: string;
  from: HealthStatus;
  to: HealthStatus;
  reason: string;
  rttMs: number;
  pop: string;
  at: string;
}

export function healthEvent(change: HealthChange, pop: string): HealthEvent {
  const { pool, origin, monitor, from, to, reason, rttMs } = change;
  return { pool, origin, monitor, from, to, reason, rttMs: Math.round(rttMs * 10) / 10, pop, at: new Date(change.at).toISOString() };
}

export interface HealthEventSink {
  /** Takes the event and returns at once; never throws. */
  deliver(event: HealthEvent): void;
  /** Stops: pending events are dropped, in-flight deliveries aborted, connections closed. */
  close(): Promise<void>;
}

/** Sends every change of `source` to every sink as seen from PoP `pop`; returns the unsubscribe. */
export function forwardChanges(source: { onChange(listener: HealthListener): () => void }, sinks: readonly HealthEventSink[], pop: string): () => void {
  return source.onChange((change) => {
    const event = healthEvent(change, pop);
    for (const sink of sinks) sink.deliver(event);
  });
}

/** One log line per change (`warn` when an origin goes unhealthy). Fits a pino logger. */
export function logSink(log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void }): HealthEventSink {
  return {
    deliver(event) {
      try {
        (event.to === 'unhealthy' ? log.warn : log.info).call(log, { type: 'health', ...event }, `${event.pool}/${event.origin} ${event.from} -> ${event.to}`);
      } catch {
        // A logger that throws must not reach the checker.
      }
    },
    close: async () => {},
  };
}

export interface WebhookSinkOptions {
  urls: readonly string[];
  /** Per POST; default 5 s. */
  timeoutMs?: number;
  /** Attempts per event, the first included; default 3. */
  attempts?: number;
  /** Wait before the second attempt, doubled for each next; default 500 ms. */
  backoffMs?: number;
  /** Events waiting per URL; default 1,000. */
  queueLimit?: number;
  /** Default: a keep-alive Agent of the sink's own, closed by close(). */
  dispatcher?: Dispatcher;
  /** A delivery given up (after its attempts) or dropped; default ignored. */
  onError?: (err: unknown, url: string) => void;
}

export interface WebhookStats {
  delivered: number;
  /** Given up after the last attempt, or refused with a final status. */
  failed: number;
  /** Not queued because the queue was full (or the sink closed). */
  dropped: number;
  retries: number;
  queued: number;
}

export interface WebhookSink extends HealthEventSink {
  stats(): WebhookStats;
  /** Resolves when every queue is empty and nothing is in flight. */
  flush(): Promise<void>;
}

interface Destination {
  url: string;
  queue: string[];
  loop?: Promise<void>;
}

export function createWebhookSink(options: WebhookSinkOptions): WebhookSink {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const attempts = Math.max(1, options.attempts ?? 3);
  const backoffMs = options.backoffMs ?? 500;
  const queueLimit = options.queueLimit ?? 1_000;
  const onError = options.onError ?? (() => {});
  const ownDispatcher = options.dispatcher ? undefined : new Agent({ keepAliveTimeout: 10_000, connections: 4 });
  const dispatcher = options.dispatcher ?? ownDispatcher!;
  const destinations: Destination[] = options.urls.map((url) => ({ url, queue: [] }));
  const stats = { delivered: 0, failed: 0, dropped: 0, retries: 0 };
  const closing = new AbortController();
  let closed = false;

  /** Waits `ms` unless the sink closes first. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        closing.signal.removeEventListener('abort', done);
        resolve();
      }
      closing.signal.addEventListener('abort', done, { once: true });
    });

  /** One POST: 'ok', 'retry' or a final failure. */
  async function post(url: string, body: string): Promise<'ok' | 'retry' | 'final'> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException('webhook timed out', 'TimeoutError')), timeoutMs);
    const signal = AbortSignal.any([closing.signal, timeout.signal]);
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'outpost-health-events' },
        body,
        dispatcher,
        signal,
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return 'ok';
      const retryable = res.statusCode === 408 || res.statusCode === 429 || res.statusCode >= 500;
      if (!retryable) onError(new Error(`webhook answered ${res.statusCode}`), url);
      return retryable ? 'retry' : 'final';
    } catch (err) {
      if (!closing.signal.aborted) onError(err, url);
      return 'retry';
    } finally {
      clearTimeout(timer);
    }
  }

  async function drain(d: Destination): Promise<void> {
    while (d.queue.length > 0 && !closed) {
      const body = d.queue[0];
      let outcome: 'ok' | 'retry' | 'final' = 'retry';
      for (let attempt = 1; attempt <= attempts && !closed; attempt++) {
        if (attempt > 1) {
          stats.retries++;
          await pause(backoffMs * 2 ** (attempt - 2));
          if (closed) break;
        }
        outcome = await post(d.url, body);
        if (outcome !== 'retry') break;
      }
      d.queue.shift();
      if (closed) break;
      if (outcome === 'ok') stats.delivered++;
      else stats.failed++;
    }
  }

  function kick(d: Destination): void {
    if (d.loop) return;
    d.loop = drain(d)
      .catch((err: unknown) => onError(err, d.url))
      .finally(() => {
        d.loop = undefined;
        if (d.queue.length > 0 && !closed) kick(d);
      });
  }

  return {
    deliver(event) {
      let body: string;
      try {
        body = JSON.stringify(event);
      } catch (err) {
        onError(err, '');
        return;
      }
      for (const d of destinations) {
        if (closed || d.queue.length >= queueLimit) {
          stats.dropped++;
          continue;
        }
        d.queue.push(body);
        kick(d);
      }
    },

    stats() {
      return { ...stats, queued: destinations.reduce((n, d) => n + d.queue.length, 0) };
    },

    async flush() {
      for (;;) {
        const loops = destinations.map((d) => d.loop).filter((l): l is Promise<void> => l !== undefined);
        if (loops.length === 0) return;
        await Promise.all(loops);
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const d of destinations) {
        stats.dropped += d.queue.length;
        d.queue.length = 0;
      }
      closing.abort();
      await Promise.all(destinations.map((d) => d.loop));
      await ownDispatcher?.destroy().catch(() => {});
    },
  };
}
