/**
 * The one realtime client of the widget and the inbox (desk/PROTOCOL.md, Liveness): one WebSocket,
 * the caller's hello first, `ping` every 20 s, a new socket when nothing was heard for 45 s or the
 * hello got no welcome in 10 s, reconnects with backoff 0.5 s → 10 s (±25 % jitter) and at once
 * on `online` or when the tab comes back. It moves events and says how the link is; what to send
 * after a welcome (an outbox, a resync) is the caller's.
 */
import type { Outgoing, ServerEvent } from '../../src/protocol.js';

export const PING_EVERY = 20_000;
export const SILENCE_LIMIT = 45_000;
export const HELLO_DEADLINE = 10_000;
/** A socket that looks open after a network change must answer a ping within this. */
export const ZOMBIE_CHECK = 5_000;

export type LinkState = 'connecting' | 'online' | 'reconnecting' | 'offline';

/** What the client needs of a WebSocket: the browser's, or `ws` in tests. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((e: unknown) => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
  onclose: ((e: { code: number }) => void) | null;
  onerror: ((e: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** The page around the client: the browser's by default. */
export interface Environment {
  open(url: string): SocketLike;
  /** `online` and `offline` events. */
  network: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  /** `visibilitychange` events. */
  page: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  isOffline(): boolean;
  isVisible(): boolean;
}

export interface ConnectionOptions {
  url: string;
  /** The hello, made at each connect (it says what the caller already has). */
  hello: () => Outgoing;
  /** `visitor.welcome` or `operator.welcome`: the event that makes the link online. */
  welcome: 'visitor.welcome' | 'operator.welcome';
  onEvent: (ev: ServerEvent) => void;
  onState: (s: LinkState) => void;
  /** The server refused who we are (close 4401 or `error unauthorized`): the client stops. Without it, it retries. */
  onUnauthorized?: () => void;
  /** The browser's (browser-env.ts), or stand-ins in tests. */
  env: Environment;
}

export interface Connection {
  /** Sends when welcomed; false when not (the caller keeps what must not be lost). */
  send(ev: Outgoing): boolean;
  stop(): void;
  reconnectNow(): void;
  readonly online: boolean;
}

const OPEN = 1;

export function openConnection(opts: ConnectionOptions): Connection {
  const { env } = opts;
  let ws: SocketLike | null = null;
  let welcomed = false;
  let everWelcomed = false;
  let attempt = 0;
  let stopped = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let helloTimer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let lastHeard = 0;

  function connect(): void {
    clearTimeout(retryTimer);
    retryTimer = undefined;
    if (ws || stopped) return;
    let sock: SocketLike;
    try {
      sock = env.open(opts.url);
    } catch {
      down();
      return;
    }
    ws = sock;
    welcomed = false;
    sock.onopen = () => {
      sock.send(JSON.stringify(opts.hello()));
      helloTimer = setTimeout(() => {
        if (ws === sock && !welcomed) down();
      }, HELLO_DEADLINE);
    };
    sock.onmessage = (e) => {
      if (ws !== sock) return;
      lastHeard = Date.now();
      const ev = parse(e.data);
      if (!ev) return;
      if (ev.type === 'error' && ev.code === 'unauthorized' && opts.onUnauthorized) {
        unauthorized();
        return;
      }
      if (ev.type === opts.welcome) welcome();
      if (ev.type !== 'pong') opts.onEvent(ev);
    };
    sock.onclose = (e) => {
      if (ws !== sock) return;
      ws = null;
      if (e.code === 4401 && opts.onUnauthorized) unauthorized();
      else down();
    };
    sock.onerror = () => {
      /* a close event follows */
    };
  }

  function welcome(): void {
    clearTimeout(helloTimer);
    welcomed = true;
    everWelcomed = true;
    attempt = 0;
    clearInterval(pingTimer);
    pingTimer = setInterval(() => {
      if (Date.now() - lastHeard > SILENCE_LIMIT) down();
      else send({ type: 'ping', t: Date.now() });
    }, PING_EVERY);
    opts.onState('online');
  }

  /** Forgets the socket without waiting for its close (which may never come when offline). */
  function drop(): void {
    const sock = ws;
    ws = null;
    welcomed = false;
    clearTimeout(helloTimer);
    clearInterval(pingTimer);
    if (!sock) return;
    sock.onopen = sock.onmessage = sock.onclose = sock.onerror = null;
    try {
      sock.close();
    } catch {
      /* closing already */
    }
  }

  function down(): void {
    drop();
    if (stopped) return;
    opts.onState(env.isOffline() ? 'offline' : everWelcomed ? 'reconnecting' : 'connecting');
    if (retryTimer) return;
    const delay = Math.min(10_000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
    attempt++;
    retryTimer = setTimeout(connect, delay);
  }

  function reconnectNow(): void {
    if (stopped) return;
    if (ws && welcomed) {
      // Alive, or a zombie after a network change: it must answer a ping in time.
      const asked = Date.now();
      send({ type: 'ping', t: asked });
      setTimeout(() => {
        if (ws && lastHeard < asked) {
          drop();
          reconnectNow();
        }
      }, ZOMBIE_CHECK);
      return;
    }
    drop();
    attempt = 0;
    connect();
  }

  function send(ev: Outgoing): boolean {
    if (!ws || ws.readyState !== OPEN || !welcomed) return false;
    ws.send(JSON.stringify(ev));
    return true;
  }

  function unauthorized(): void {
    stop();
    opts.onUnauthorized?.();
  }

  function stop(): void {
    stopped = true;
    clearTimeout(retryTimer);
    drop();
    env.network.removeEventListener('online', reconnectNow);
    env.network.removeEventListener('offline', down);
    env.page.removeEventListener('visibilitychange', onVisible);
  }

  function onVisible(): void {
    if (env.isVisible() && !ws) reconnectNow();
  }

  env.network.addEventListener('online', reconnectNow);
  env.network.addEventListener('offline', down);
  env.page.addEventListener('visibilitychange', onVisible);
  opts.onState('connecting');
  connect();

  return {
    send,
    stop,
    reconnectNow,
    get online() {
      return welcomed;
    },
  };
}

function parse(data: unknown): ServerEvent | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const ev = JSON.parse(data) as { type?: unknown } | null;
    return ev && typeof ev.type === 'string' ? (ev as ServerEvent) : undefined;
  } catch {
    return undefined;
  }
}
