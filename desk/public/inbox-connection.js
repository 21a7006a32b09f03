/**
 * The operator's realtime connection (desk/PROTOCOL.md): one WebSocket at /ws, `operator.hello`
 * first, `ping` every 20 s, a new socket when no event came for 45 s or the hello got no welcome
 * in 10 s, reconnects with backoff 0.5 s → 10 s (±25 % jitter) and at once on `online` or when
 * the tab comes back. It only moves events; what to resync after a welcome is the caller's call.
 */

const PING_EVERY = 20_000;
const SILENCE_LIMIT = 45_000;
const HELLO_DEADLINE = 10_000;

/**
 * @param {{ url: string, hello: () => object, onEvent: (ev: any) => void,
 *           onState: (s: 'connecting'|'online'|'reconnecting'|'offline') => void,
 *           onUnauthorized: () => void }} opts
 */
export function openConnection({ url, hello, onEvent, onState, onUnauthorized }) {
  let ws = null;
  let welcomed = false;
  let everWelcomed = false;
  let attempt = 0;
  let stopped = false;
  let retryTimer = 0, pingTimer = 0, helloTimer = 0;
  let lastHeard = 0;

  function connect() {
    clearTimeout(retryTimer); retryTimer = 0;
    if (ws || stopped) return;
    let sock;
    try { sock = new WebSocket(url); } catch { down(); return; }
    ws = sock; welcomed = false;
    sock.onopen = () => {
      sock.send(JSON.stringify(hello()));
      helloTimer = setTimeout(() => { if (ws === sock && !welcomed) down(); }, HELLO_DEADLINE);
    };
    sock.onmessage = (e) => {
      if (ws !== sock) return;
      lastHeard = Date.now();
      let ev;
      try { ev = JSON.parse(e.data); } catch { return; }
      if (!ev || typeof ev.type !== 'string') return;
      if (ev.type === 'operator.welcome') welcome();
      if (ev.type === 'error' && ev.code === 'unauthorized') { stop(); onUnauthorized(); return; }
      if (ev.type !== 'pong') onEvent(ev);
    };
    sock.onclose = (e) => {
      if (ws !== sock) return;
      ws = null;
      if (e.code === 4401) { stop(); onUnauthorized(); return; }
      down();
    };
    sock.onerror = () => { /* close follows */ };
  }

  function welcome() {
    clearTimeout(helloTimer);
    welcomed = true; everWelcomed = true; attempt = 0;
    clearInterval(pingTimer);
    pingTimer = setInterval(() => {
      if (Date.now() - lastHeard > SILENCE_LIMIT) { down(); return; }
      send({ type: 'ping', t: Date.now() });
    }, PING_EVERY);
    onState('online');
  }

  function drop() {
    const sock = ws;
    ws = null; welcomed = false;
    clearTimeout(helloTimer); clearInterval(pingTimer);
    if (sock) {
      sock.onopen = sock.onmessage = sock.onclose = sock.onerror = null;
      try { sock.close(); } catch { /* closing already */ }
    }
  }

  function down() {
    drop();
    if (stopped) return;
    onState(navigator.onLine === false ? 'offline' : everWelcomed ? 'reconnecting' : 'connecting');
    if (retryTimer) return;
    const delay = Math.min(10_000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
    attempt++;
    retryTimer = setTimeout(connect, delay);
  }

  /** Reconnects now: after `online`, or when the tab is shown again and the socket is gone. */
  function reconnectNow() {
    if (stopped) return;
    if (ws && welcomed) {
      // Possibly a zombie after a network change: it must answer a ping within 5 s.
      const asked = Date.now();
      send({ type: 'ping', t: asked });
      setTimeout(() => { if (ws && lastHeard < asked) { drop(); reconnectNow(); } }, 5000);
      return;
    }
    drop();
    attempt = 0;
    connect();
  }

  function send(ev) {
    if (!ws || ws.readyState !== WebSocket.OPEN || !welcomed) return false;
    ws.send(JSON.stringify(ev));
    return true;
  }

  function stop() {
    stopped = true;
    clearTimeout(retryTimer);
    drop();
    window.removeEventListener('online', reconnectNow);
    window.removeEventListener('offline', down);
    document.removeEventListener('visibilitychange', onVisible);
  }

  function onVisible() { if (document.visibilityState === 'visible' && !ws) reconnectNow(); }

  window.addEventListener('online', reconnectNow);
  window.addEventListener('offline', down);
  document.addEventListener('visibilitychange', onVisible);
  onState('connecting');
  connect();

  return { send, stop, reconnectNow, get online() { return welcomed; } };
}
