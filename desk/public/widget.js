/**
 * Desk chat widget. One tag on any site:
 *
 *   <script src="https://desk.example/widget.js" data-workspace="w_demo" async></script>
 *
 * Optional attributes: data-color (accent, any CSS colour), data-title (header title until the
 * server names the workspace), data-greeting (the first line the visitor reads), data-theme
 * (light, dark, or auto: the visitor's system setting, followed live; the default). The page may
 * call Desk.open(), Desk.close() and Desk.identify({ email, name, userHash }) (desk/README.md).
 *
 * Everything lives in a Shadow DOM under one host element whose inline style resets what the
 * page could cascade into it, so the host page's CSS cannot break the widget and ours cannot
 * leak out. It is one file on purpose: one request, no build step, nothing to load in order.
 *
 * Realtime follows desk/PROTOCOL.md: visitor.hello with the session and the last seq it has,
 * every send carries a random clientId and stays in a localStorage outbox until its
 * message.ack, and every reconnect re-sends the outbox (the server stores a clientId once), so
 * nothing typed is lost to a drop, a reload or an offline phone.
 */
(function () {
  'use strict';

  if (window.__deskWidget) return;
  var script = document.currentScript || document.querySelector('script[data-workspace][src*="widget.js"]');
  var WORKSPACE = script && script.getAttribute('data-workspace');
  if (!WORKSPACE) { console.warn('[desk] widget.js needs a data-workspace attribute'); return; }
  window.__deskWidget = true;

  var identity = null;              // the visitor.identify event of Desk.identify, sent after every welcome

  // The Desk base URL is wherever this script came from (https://desk.example or …/some/prefix).
  var BASE = new URL('.', script.src).href.replace(/\/$/, '');
  // The workspace rides on the upgrade too, so a site outside its allow list is refused there (403).
  var WS_URL = BASE.replace(/^http/, 'ws') + '/ws?workspace=' + encodeURIComponent(WORKSPACE);
  var ACCENT = cssColor(script.getAttribute('data-color')) || '#4f46e5';
  // data-theme: light, dark, or auto (the default: the visitor's system setting, followed live).
  var THEME = script.getAttribute('data-theme') || 'auto';
  var GREETING = script.getAttribute('data-greeting') || 'Hi there! Ask us anything, we usually answer within a few minutes.';
  var AWAY_GREETING = script.getAttribute('data-away-greeting') || "Hi there! We're not around right now, but leave us a message and we'll get back to you by email.";
  var AWAY_NO_EMAIL = "Hi there! We're not around right now. Leave us a message and we'll answer here when we're back.";
  var MAX_BODY = 5000;
  var CACHE_LIMIT = 200;            // messages kept in localStorage for an instant render on the next page
  var PING_EVERY = 20000;           // PROTOCOL.md "Liveness"
  var PONG_DEADLINE = 45000;
  var HELLO_DEADLINE = 10000;       // a hello that gets no welcome is retried, not waited on forever
  var TYPING_EVERY = 3000;          // re-announce "start" while typing; the server expires it after 6 s
  var TYPING_IDLE = 2500;
  var TYPING_SHOWN = 6000;

  // ---------------------------------------------------------------- storage (localStorage, else memory)

  var storage = (function () {
    var prefix = 'desk:' + WORKSPACE + ':';
    var memory = {};
    function get(key) {
      try { var v = window.localStorage.getItem(prefix + key); return v === null ? undefined : v; } catch (e) { return memory[key]; }
    }
    function set(key, value) {
      memory[key] = value;
      try {
        if (value === undefined) window.localStorage.removeItem(prefix + key);
        else window.localStorage.setItem(prefix + key, value);
      } catch (e) { /* private mode or full: the in-memory copy still works for this page */ }
    }
    function getJSON(key) { try { return JSON.parse(get(key) || 'null'); } catch (e) { return null; } }
    function setJSON(key, value) { set(key, value === undefined ? undefined : JSON.stringify(value)); }
    return { get: get, set: set, getJSON: getJSON, setJSON: setJSON };
  })();

  // ---------------------------------------------------------------- state

  var cached = storage.getJSON('messages');   // { conversation, messages } as of lastSeq
  var state = {
    open: sessionGet('open') === '1',
    session: storage.get('session'),
    conversation: cached && cached.conversation ? { id: cached.conversation, state: 'open', visitorReadSeq: 0, operatorReadSeq: 0, lastSeq: 0 } : null,
    messages: cached && Array.isArray(cached.messages) ? cached.messages : [],
    earlier: [],                              // [{ conversation, messages }] before this one, oldest first (welcome)
    emailOn: false,                           // this Desk sends email (welcome): only then is email offered
    emailAsked: false,                        // the visitor asked to leave an address while someone is online
    outbox: storage.getJSON('outbox') || [],  // [{ clientId, body, createdAt, failed? }], oldest first
    lastSeq: cached ? Number(storage.get('lastSeq')) || 0 : 0,
    readSent: 0,
    availability: { available: false, operators: [] },
    title: script.getAttribute('data-title') || 'Support',
    email: storage.get('email'),
    typing: null,                             // { name, until }
    conn: 'connecting',                       // connecting | online | reconnecting | offline
    shownConn: 'starting',                    // what the page shows: conn once its grace is over ('starting': not yet)
    connected: false,
  };
  if (state.conversation) {
    state.conversation.operatorReadSeq = Number(storage.get('operatorReadSeq')) || 0;
    state.conversation.visitorReadSeq = Number(storage.get('visitorReadSeq')) || 0;
    state.readSent = state.conversation.visitorReadSeq;
  }

  // ---------------------------------------------------------------- DOM

  var host = document.createElement('div');
  host.setAttribute('data-desk-widget', WORKSPACE);
  // Inline !important beats any page rule aimed at the host; `all: initial` stops inherited fonts,
  // colours and line heights at the shadow boundary.
  host.setAttribute('style', 'all: initial !important; position: fixed !important; z-index: 2147483000 !important; ' +
    'inset: auto 0 0 auto !important; width: 0 !important; height: 0 !important; display: block !important;');
  var shadow = host.attachShadow({ mode: 'open' });
  shadow.innerHTML = '<style>' + css() + '</style>' + template();
  // On <html>, not <body>: a page that transforms its body would otherwise become the containing
  // block of our position: fixed elements and drag the launcher off the corner.
  document.documentElement.appendChild(host);

  var $ = function (sel) { return shadow.querySelector(sel); };
  var root = $('.dk'), panel = $('.panel'), launcher = $('.launcher'), badge = $('.badge');
  var list = $('.list'), log = $('.log'), typingRow = $('.typing'), typingText = $('.typing-text');
  var connBar = $('.conn'), statusText = $('.status-text'), titleEl = $('.title'), avatars = $('.avatars');
  var emailForm = $('.email'), emailInput = $('.email input'), emailDone = $('.email-done'), emailAsk = $('.email-ask');
  // Email capture at any time: while someone is online the address is offered, not asked for.
  emailAsk.addEventListener('click', function () { state.emailAsked = true; render(); emailInput.focus(); });
  var composer = $('.composer'), input = $('.composer textarea'), sendBtn = $('.send');
  root.style.setProperty('--dk-accent', ACCENT);
  var darkQuery = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  function applyTheme() {
    root.classList.toggle('theme-dark', THEME === 'dark' || (THEME === 'auto' && !!darkQuery && darkQuery.matches));
  }
  applyTheme();
  if (darkQuery && darkQuery.addEventListener) darkQuery.addEventListener('change', applyTheme);

  launcher.addEventListener('click', function () { setOpen(!state.open); });
  $('.close').addEventListener('click', function () { setOpen(false); launcher.focus(); });
  root.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && state.open) { e.preventDefault(); setOpen(false); launcher.focus(); }
    if (e.key === 'Tab' && state.open && coversScreen()) trapFocus(e);
  });

  /** On a phone the open panel covers the page (max-width: 480px below): Tab stays inside it, as in a dialog. */
  function coversScreen() {
    return !!window.matchMedia && window.matchMedia('(max-width: 480px)').matches;
  }
  function trapFocus(e) {
    var all = panel.querySelectorAll('button, [href], input, textarea, select, [tabindex]:not([tabindex="-1"])');
    var focusable = [];
    for (var i = 0; i < all.length; i++) if (!all[i].disabled && all[i].getClientRects().length) focusable.push(all[i]);
    if (!focusable.length) return;
    var first = focusable[0], last = focusable[focusable.length - 1], active = shadow.activeElement;
    var inside = active && panel.contains(active);
    if (e.shiftKey && (active === first || !inside)) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && (active === last || !inside)) { e.preventDefault(); first.focus(); }
  }
  composer.addEventListener('submit', function (e) { e.preventDefault(); submit(); });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); submit(); }
  });
  input.addEventListener('input', function () { autosize(); sendBtn.disabled = !input.value.trim(); typingInput(); });
  input.addEventListener('blur', function () { typingStop(); });
  emailForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var email = emailInput.value.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) { emailInput.setAttribute('aria-invalid', 'true'); emailInput.focus(); return; }
    emailInput.removeAttribute('aria-invalid');
    state.email = email;
    storage.set('email', email);
    send({ type: 'visitor.email', email: email });
    render();
    input.focus();
  });
  // desk/EMAIL.md, Transcripts: the server answers transcript.sent (or an error) and emails it.
  $('.email-transcript').addEventListener('click', function () { send({ type: 'transcript.request' }); });
  $('.email-change').addEventListener('click', function () {
    state.email = undefined; storage.set('email', undefined); render(); emailInput.focus();
  });
  list.addEventListener('click', function (e) {
    var rate = e.target.closest && e.target.closest('[data-rate]');
    if (rate) { rateConversation(rate.getAttribute('data-conversation'), rate.getAttribute('data-rate')); return; }
    var retry = e.target.closest && e.target.closest('[data-retry]');
    if (!retry) return;
    var item = findOutbox(retry.getAttribute('data-retry'));
    if (item) { item.failed = false; saveOutbox(); render(); flushOutbox(); }
  });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState !== 'visible') return;
    if (!ws) reconnectNow();
    maybeSendRead();
  });
  window.addEventListener('online', function () { reconnectNow(); });
  window.addEventListener('offline', function () {
    // The socket may look open for a long time after the network is gone; start over when it returns.
    onDown();
  });

  // Desk.identify({ email, name, userHash }): a logged-in user of the site, signed by the site's
  // server (userHash = HMAC-SHA256 of the lowercase email under the workspace's identity secret,
  // hex); sent now and after every welcome; Desk refuses a forged one (a console warning says so).
  window.Desk = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    identify: function (user) {
      if (!user || typeof user.email !== 'string' || typeof user.userHash !== 'string') return;
      identity = { type: 'visitor.identify', email: user.email, userHash: user.userHash };
      if (typeof user.name === 'string' && user.name.trim()) identity.name = user.name.trim();
      send(identity);
    },
  };
  // Host pages open the chat from their own links with `data-desk-open`: no inline handler, so a
  // page with a strict Content-Security-Policy (no 'unsafe-inline' scripts) can have one too.
  document.addEventListener('click', function (e) {
    var target = e.target && e.target.closest && e.target.closest('[data-desk-open]');
    if (!target) return;
    e.preventDefault();
    setOpen(true);
  });

  // ---------------------------------------------------------------- connection

  var ws = null, welcomed = false, attempt = 0;
  var retryTimer = 0, pingTimer = 0, helloTimer = 0, lastHeard = 0, connTimer = 0;

  function connect() {
    clearTimeout(retryTimer); retryTimer = 0;
    if (ws) return;
    var sock;
    try { sock = new WebSocket(WS_URL); } catch (e) { onDown(); return; }
    ws = sock; welcomed = false;
    sock.onopen = function () {
      var hello = { type: 'visitor.hello', workspace: WORKSPACE, page: location.href };
      if (state.session) hello.session = state.session;
      // lastSeq belongs to a conversation: say which, so a new one is sent whole.
      if (state.conversation) { hello.conversation = state.conversation.id; hello.lastSeq = state.lastSeq; }
      sock.send(JSON.stringify(hello));
      helloTimer = setTimeout(function () { if (ws === sock && !welcomed) onDown(); }, HELLO_DEADLINE);
    };
    sock.onmessage = function (e) {
      if (ws !== sock) return;
      lastHeard = Date.now();
      var ev;
      try { ev = JSON.parse(e.data); } catch (err) { return; }
      if (ev && typeof ev.type === 'string') handle(ev);
    };
    sock.onclose = function () { if (ws !== sock) return; ws = null; onDown(); };
    sock.onerror = function () { /* a close event follows */ };
  }

  /** Forgets the current socket without waiting for its close (which may never come when offline). */
  function dropSocket() {
    var sock = ws;
    ws = null; welcomed = false;
    stopTimers();
    if (sock) {
      sock.onopen = sock.onmessage = sock.onclose = sock.onerror = null;
      try { sock.close(); } catch (e) { /* already closing */ }
    }
  }

  function onDown() {
    dropSocket();
    setConn(navigator.onLine === false ? 'offline' : state.connected ? 'reconnecting' : 'connecting');
    if (retryTimer) return;
    // Backoff 0.5 s → 10 s, randomized ±25 % so a restarted server is not hit by everyone at once.
    var delay = Math.min(10000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() * 0.5);
    attempt++;
    retryTimer = setTimeout(connect, delay);
  }

  function reconnectNow() {
    if (ws && welcomed) { // maybe alive, maybe a zombie after a network change: ask, and drop it if silent
      var asked = Date.now();
      send({ type: 'ping', t: asked });
      setTimeout(function () { if (ws && lastHeard < asked) { dropSocket(); reconnectNow(); } }, 5000);
      return;
    }
    dropSocket();
    attempt = 0;
    connect();
  }

  function stopTimers() {
    clearTimeout(helloTimer); clearInterval(pingTimer);
    helloTimer = pingTimer = 0;
  }

  function send(ev) {
    if (!ws || ws.readyState !== 1 || !welcomed) return false;
    ws.send(JSON.stringify(ev));
    return true;
  }

  function setConn(conn) {
    state.conn = conn;
    // Brief blips do not flash a banner: show it only when we are still down after a moment.
    clearTimeout(connTimer);
    if (conn === 'online') showConn();
    else connTimer = setTimeout(showConn, conn === 'offline' ? 0 : 1200);
  }

  function showConn() {
    state.shownConn = state.conn;
    render();
  }

  // ---------------------------------------------------------------- events from the server

  function handle(ev) {
    switch (ev.type) {
      case 'visitor.welcome': onWelcome(ev); break;
      case 'visitor.identified': if (ev.email) { state.email = ev.email; storage.set('email', ev.email); render(); } break;
      case 'message.ack': onAck(ev); break;
      // A regional node has the message on its disk: "Sent"; it stays in the outbox until the ack.
      case 'message.accepted': var acc = findOutbox(ev.clientId); if (acc) { acc.accepted = true; render(); } break;
      case 'message.new': if (ev.message) addMessages([ev.message]); break;
      case 'sync':
        if (!state.conversation || ev.conversation !== state.conversation.id) break;
        addMessages(ev.messages || []);
        if ((ev.messages || []).length >= 500) send({ type: 'sync', conversation: state.conversation.id, afterSeq: state.lastSeq });
        break;
      case 'typing':
        if (ev.author && ev.author.kind === 'visitor') break;
        state.typing = ev.state === 'start' ? { name: (ev.author && ev.author.name) || 'Someone', until: Date.now() + TYPING_SHOWN } : null;
        if (state.typing) setTimeout(render, TYPING_SHOWN + 50);
        render();
        break;
      case 'read':
        if (ev.by === 'operator' && state.conversation && ev.conversation === state.conversation.id) {
          state.conversation.operatorReadSeq = Math.max(state.conversation.operatorReadSeq || 0, ev.upToSeq || 0);
          storage.set('operatorReadSeq', String(state.conversation.operatorReadSeq));
          render();
        }
        break;
      case 'conversation.update': onConversation(ev.conversation); break;
      case 'transcript.sent':
        $('.email-done-text').textContent = ev.confirmation
          ? 'We emailed a link to ' + ev.to + ': open it to confirm the address, and this chat follows'
          : 'We emailed this chat to ' + ev.to;
        break;
      case 'presence':
        state.availability = { available: !!ev.available, operators: ev.operators || [] };
        render();
        break;
      case 'error': onError(ev); break;
      // pong: lastHeard already moved
    }
  }

  function onWelcome(ev) {
    clearTimeout(helloTimer);
    welcomed = true; attempt = 0; state.connected = true;
    if (ev.session && ev.session !== state.session) { state.session = ev.session; storage.set('session', ev.session); }
    var conv = ev.conversation || {};
    var workspace = ev.workspace && ev.workspace.name;
    if (workspace) state.title = workspace;
    // A new conversation (first visit, or the previous one was resolved) starts its seqs over:
    // what we cached says nothing about it.
    if (!state.conversation || state.conversation.id !== conv.id) resetConversation(conv);
    else onConversation(conv);
    // The conversations before this one (resolved since, say), shown above it: an answer that came
    // after the visitor left stays in sight, unread and counted on the badge.
    state.emailOn = ev.email === true;
    state.earlier = (ev.earlier || []).filter(function (e) { return e && e.conversation && e.conversation.id !== conv.id && (e.messages || []).length; });
    addMessages(ev.messages || []);
    // A welcome carries at most one page; the rest comes by sync (a trailing note costs one empty answer).
    if ((conv.lastSeq || 0) > state.lastSeq) send({ type: 'sync', conversation: conv.id, afterSeq: state.lastSeq });
    if (ev.availability) state.availability = { available: !!ev.availability.available, operators: ev.availability.operators || [] };
    lastHeard = Date.now();
    pingTimer = setInterval(function () {
      if (Date.now() - lastHeard > PONG_DEADLINE) { onDown(); return; }
      send({ type: 'ping', t: Date.now() });
    }, PING_EVERY);
    setConn('online');
    if (identity) send(identity);
    flushOutbox();
    render();
    maybeSendRead();
  }

  function resetConversation(conv) {
    state.conversation = { id: conv.id, state: conv.state || 'open', lastSeq: conv.lastSeq || 0,
      visitorReadSeq: conv.visitorReadSeq || 0, operatorReadSeq: conv.operatorReadSeq || 0 };
    state.messages = [];
    state.lastSeq = 0;
    state.readSent = state.conversation.visitorReadSeq;
    saveMessages();
  }

  function onConversation(conv) {
    if (!conv || !state.conversation || conv.id !== state.conversation.id) return;
    var c = state.conversation;
    if (conv.state) c.state = conv.state;
    if (conv.rating) c.rating = conv.rating;
    c.lastSeq = Math.max(c.lastSeq || 0, conv.lastSeq || 0);
    c.operatorReadSeq = Math.max(c.operatorReadSeq || 0, conv.operatorReadSeq || 0);
    c.visitorReadSeq = Math.max(c.visitorReadSeq || 0, conv.visitorReadSeq || 0);
    state.readSent = Math.max(state.readSent, c.visitorReadSeq);
    storage.set('operatorReadSeq', String(c.operatorReadSeq));
    storage.set('visitorReadSeq', String(c.visitorReadSeq));
    render();
  }

  function onAck(ev) {
    var item = findOutbox(ev.clientId);
    if (ev.conversation && state.conversation && ev.conversation !== state.conversation.id) {
      resetConversation({ id: ev.conversation });
      send({ type: 'sync', conversation: ev.conversation, afterSeq: 0 });
    }
    if (!item) return;
    // The ack may beat message.new: show the message as sent right away; message.new replaces it.
    addMessages([{ id: ev.id, seq: ev.seq, clientId: item.clientId, body: item.body, note: false,
      author: { kind: 'visitor', id: '', name: 'You' }, createdAt: item.createdAt }], true);
  }

  function onError(ev) {
    var item = ev.ref && findOutbox(ev.ref);
    if (!item) { if (ev.code !== 'rate_limited') console.warn('[desk]', ev.code, ev.message); return; }
    if (ev.code === 'rate_limited') { setTimeout(flushOutbox, 2000); return; }
    item.failed = ev.code || true;
    saveOutbox();
    render();
  }

  // ---------------------------------------------------------------- messages and outbox

  /** Merges stored messages by seq (the server's order, never the clocks'), settling the outbox. */
  function addMessages(messages, provisional) {
    var changed = false;
    for (var i = 0; i < messages.length; i++) {
      var m = messages[i];
      if (!m || typeof m.seq !== 'number' || m.note) continue;
      if (m.conversation && state.conversation && m.conversation !== state.conversation.id) continue;
      var at = indexBySeq(m.seq);
      if (at.found) {
        if (!provisional) state.messages[at.index] = slim(m);
      } else {
        state.messages.splice(at.index, 0, slim(m));
      }
      if (m.clientId) removeOutbox(m.clientId);
      if (m.author && m.author.kind === 'operator') state.typing = null;
      if (m.seq > state.lastSeq) state.lastSeq = m.seq;
      changed = true;
    }
    if (!changed) return;
    if (state.conversation) state.conversation.lastSeq = Math.max(state.conversation.lastSeq || 0, state.lastSeq);
    saveMessages();
    render();
    maybeSendRead();
  }

  function slim(m) {
    return { id: m.id, seq: m.seq, clientId: m.clientId, body: String(m.body || ''), via: m.via,
      author: { kind: (m.author && m.author.kind) || 'system', name: (m.author && m.author.name) || '' }, createdAt: m.createdAt || Date.now() };
  }

  function indexBySeq(seq) {
    var lo = 0, hi = state.messages.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1, s = state.messages[mid].seq;
      if (s === seq) return { found: true, index: mid };
      if (s < seq) lo = mid + 1; else hi = mid;
    }
    return { found: false, index: lo };
  }

  function saveMessages() {
    if (!state.conversation) return;
    storage.setJSON('messages', { conversation: state.conversation.id, messages: state.messages.slice(-CACHE_LIMIT) });
    storage.set('lastSeq', String(state.lastSeq));
  }

  function submit() {
    var body = input.value.replace(/^\s*\n|\s+$/g, '');
    if (!body.trim()) return;
    if (body.length > MAX_BODY) body = body.slice(0, MAX_BODY);
    var item = { clientId: 'k_' + randomId(), body: body, createdAt: Date.now() };
    state.outbox.push(item);
    saveOutbox();
    input.value = ''; autosize(); sendBtn.disabled = true;
    typingStop();
    render(true);
    send({ type: 'message.send', clientId: item.clientId, body: item.body });
  }

  function flushOutbox() {
    for (var i = 0; i < state.outbox.length; i++) {
      var item = state.outbox[i];
      if (item.failed) continue;
      if (!send({ type: 'message.send', clientId: item.clientId, body: item.body })) return;
    }
  }

  function findOutbox(clientId) {
    for (var i = 0; i < state.outbox.length; i++) if (state.outbox[i].clientId === clientId) return state.outbox[i];
    return undefined;
  }
  function removeOutbox(clientId) {
    var before = state.outbox.length;
    state.outbox = state.outbox.filter(function (o) { return o.clientId !== clientId; });
    if (state.outbox.length !== before) saveOutbox();
  }
  function saveOutbox() { storage.setJSON('outbox', state.outbox.length ? state.outbox : undefined); }

  // ---------------------------------------------------------------- typing and read receipts

  var typingSentAt = 0, typingIdle = 0;
  function typingInput() {
    clearTimeout(typingIdle);
    if (!input.value.trim()) { typingStop(); return; }
    if (Date.now() - typingSentAt > TYPING_EVERY && send({ type: 'typing', state: 'start' })) typingSentAt = Date.now();
    typingIdle = setTimeout(typingStop, TYPING_IDLE);
  }
  function typingStop() {
    clearTimeout(typingIdle);
    if (!typingSentAt) return;
    typingSentAt = 0;
    send({ type: 'typing', state: 'stop' });
  }

  function rateConversation(id, rating) {
    if (!send({ type: 'conversation.rate', conversation: id, rating: rating })) return;
    var conv = state.conversation && state.conversation.id === id ? state.conversation : null;
    state.earlier.forEach(function (e) { if (e.conversation.id === id) conv = e.conversation; });
    if (conv) conv.rating = rating;
    render();
  }

  function maybeSendRead() {
    if (!state.open || document.visibilityState !== 'visible' || !state.conversation || !welcomed) return;
    state.earlier.forEach(function (e) {
      var upTo = e.messages[e.messages.length - 1].seq;
      if (upTo > (e.conversation.visitorReadSeq || 0) && send({ type: 'read', conversation: e.conversation.id, upToSeq: upTo })) e.conversation.visitorReadSeq = upTo;
    });
    var upTo = state.lastSeq;
    if (upTo <= state.readSent) return;
    if (send({ type: 'read', conversation: state.conversation.id, upToSeq: upTo })) {
      state.readSent = upTo;
      state.conversation.visitorReadSeq = Math.max(state.conversation.visitorReadSeq || 0, upTo);
      storage.set('visitorReadSeq', String(state.conversation.visitorReadSeq));
      renderBadge();
    }
  }

  // ---------------------------------------------------------------- rendering

  function setOpen(open) {
    state.open = open;
    sessionSet('open', open ? '1' : '0');
    root.classList.toggle('is-open', open);
    launcher.setAttribute('aria-expanded', String(open));
    launcher.setAttribute('aria-label', open ? 'Close chat' : unreadLabel());
    panel.setAttribute('aria-hidden', String(!open));
    if (open) {
      render(true);
      if (!window.matchMedia || !window.matchMedia('(pointer: coarse)').matches) setTimeout(function () { input.focus(); }, 60);
      maybeSendRead();
    }
  }

  var rendered = {};   // keys already on screen, so only new bubbles animate in
  function render(forceBottom) {
    var nearBottom = forceBottom || log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    titleEl.textContent = state.title;
    // Who is at the desk is only known while connected: never "online" when this page is not.
    var live = state.shownConn === 'online';
    var available = live && state.availability.available;
    statusText.textContent = !live ? (state.shownConn === 'offline' ? "You're offline" : 'Connecting…') : available ? "We're online" : state.emailOn ? "We'll reply by email" : "We're away";
    root.classList.toggle('is-available', available);
    $('.greeting').textContent = available || !state.connected ? GREETING : state.emailOn ? AWAY_GREETING : AWAY_NO_EMAIL;
    renderAvatars();

    var items = [];
    state.earlier.forEach(function (e) {
      e.messages.forEach(function (m) { items.push(itemOf(m, e.conversation)); });
      endOf(items, e.conversation, e.messages[e.messages.length - 1].createdAt);
    });
    state.messages.forEach(function (m) { items.push(itemOf(m, state.conversation)); });
    var current = state.conversation;
    if (current && current.state === 'resolved' && state.messages.length) endOf(items, current, state.messages[state.messages.length - 1].createdAt);
    state.outbox.forEach(function (o) {
      items.push({ key: o.clientId, own: true, kind: 'visitor', body: o.body, at: o.createdAt, status: o.failed ? 'failed' : o.accepted ? 'sent' : 'sending' });
    });

    var frag = document.createDocumentFragment();
    var seen = {}, lastDay = '';
    // The receipt line sits under the last own message; pending and failed ones always show theirs.
    var lastOwn = -1;
    for (var j = items.length - 1; j >= 0; j--) if (items[j].own) { lastOwn = j; break; }
    items.forEach(function (it, i) {
      var day = dayLabel(it.at);
      if (day !== lastDay) { frag.appendChild(el('li', 'day', day)); lastDay = day; }
      var prev = items[i - 1], next = items[i + 1];
      var first = !prev || prev.kind !== it.kind || prev.name !== it.name || it.at - prev.at > 300000 || dayLabel(prev.at) !== day;
      var last = !next || next.kind !== it.kind || next.name !== it.name || next.at - it.at > 300000 || dayLabel(next.at) !== day;
      if (it.kind === 'system') { frag.appendChild(el('li', 'system', it.body)); return; }
      if (it.kind === 'rate') { frag.appendChild(rateRow(it.conversation)); return; }
      var li = el('li', 'msg ' + (it.own ? 'own' : 'them') + (first ? ' first' : '') + (last ? ' last' : '') + (rendered[it.key] ? '' : ' enter'));
      li.setAttribute('data-key', it.key);
      if (it.status) li.setAttribute('data-state', it.status);
      if (!it.own && first) li.appendChild(el('span', 'author', it.name || 'Support'));
      li.appendChild(el('div', 'bubble', it.body));
      var showMeta = last || it.status === 'sending' || it.status === 'failed' || i === lastOwn;
      if (showMeta) {
        var meta = el('span', 'meta', timeLabel(it.at));
        if (it.own && (i === lastOwn || it.status === 'sending' || it.status === 'failed')) {
          meta.appendChild(el('span', 'receipt', ' · ' + statusLabel(it.status)));
          if (it.status === 'failed') {
            var retry = el('button', 'retry', 'Retry');
            retry.type = 'button'; retry.setAttribute('data-retry', it.key);
            meta.appendChild(retry);
          }
        }
        li.appendChild(meta);
      }
      seen[it.key] = true;
      frag.appendChild(li);
    });
    rendered = seen;
    list.replaceChildren(frag);
    $('.intro').hidden = items.length > 0 && state.messages.length > 3;

    var typing = state.typing && state.typing.until > Date.now();
    typingRow.hidden = !typing;
    if (typing) typingText.textContent = state.typing.name + ' is typing…';

    var canEmail = state.connected && state.emailOn;
    emailForm.hidden = !canEmail || !!state.email || (available && !state.emailAsked);
    emailDone.hidden = !canEmail || !state.email;
    emailAsk.hidden = !canEmail || !!state.email || !available || state.emailAsked;
    $('.email label').textContent = available ? "Leave your email and we'll send the replies there too." : "We're away right now. Leave your email and we'll reply there.";
    if (state.email) $('.email-done-text').textContent = "We'll email you at " + state.email;

    renderBadge();
    renderConn();
    if (nearBottom) log.scrollTop = log.scrollHeight;
  }

  /** The line that closes a conversation's thread, and under a resolved one the rating row. */
  function endOf(items, conv, at) {
    var resolved = conv.state === 'resolved';
    items.push({ key: 'end-' + conv.id, kind: 'system', body: resolved ? 'Conversation resolved' : 'Earlier conversation', at: at });
    if (resolved) items.push({ key: 'rate-' + conv.id, kind: 'rate', conversation: conv, at: at });
  }

  /** Under a resolved conversation: how did it go (👍 / 👎), then a thank-you once rated. */
  function rateRow(conv) {
    var li = el('li', 'rate');
    if (conv.rating) { li.textContent = 'Thanks for your rating.'; return li; }
    li.appendChild(el('span', 'rate-q', 'How did we do?'));
    [['good', '👍', 'Good'], ['bad', '👎', 'Bad']].forEach(function (r) {
      var b = el('button', 'rate-btn', r[1]);
      b.type = 'button';
      b.setAttribute('aria-label', r[2]);
      b.setAttribute('data-rate', r[0]);
      b.setAttribute('data-conversation', conv.id);
      li.appendChild(b);
    });
    return li;
  }

  function itemOf(m, conv) {
    var own = m.author.kind === 'visitor';
    var status = own ? (conv && m.seq <= (conv.operatorReadSeq || 0) ? 'read' : 'sent') : '';
    return { key: m.clientId || m.id, own: own, kind: m.author.kind, name: m.author.name, body: m.body, at: m.createdAt, status: status, via: m.via };
  }

  function renderAvatars() {
    var online = state.availability.operators.filter(function (o) { return o.status === 'online'; }).slice(0, 3);
    avatars.replaceChildren.apply(avatars, online.length ? online.map(function (o) {
      var a = el('span', 'avatar', initials(o.name)); a.title = o.name; return a;
    }) : [el('span', 'avatar brand-mark', initials(state.title))]);
  }

  function renderBadge() {
    var readUpTo = Math.max(state.readSent, state.conversation ? state.conversation.visitorReadSeq || 0 : 0);
    var unread = state.messages.filter(function (m) { return m.author.kind === 'operator' && m.seq > readUpTo; }).length;
    state.earlier.forEach(function (e) {
      unread += e.messages.filter(function (m) { return m.author.kind === 'operator' && m.seq > (e.conversation.visitorReadSeq || 0); }).length;
    });
    var show = !state.open && unread > 0;
    badge.hidden = !show;
    badge.textContent = unread > 9 ? '9+' : String(unread);
    if (!state.open) launcher.setAttribute('aria-label', unreadLabel(unread));
  }

  /** The strip under the header, from what is shown: a render in the grace after a drop leaves it hidden. */
  function renderConn() {
    var shown = state.shownConn;
    var down = shown !== 'online' && shown !== 'starting';
    var text = shown === 'offline' ? "You're offline. Messages will be sent when you're back." :
      shown === 'reconnecting' ? 'Reconnecting…' : 'Connecting…';
    connBar.hidden = !down;
    connBar.classList.toggle('is-offline', shown === 'offline');
    connBar.querySelector('span').textContent = text;
    root.classList.toggle('is-down', down);
  }

  function unreadLabel(n) {
    if (n === undefined) return 'Open chat';
    return n ? 'Open chat, ' + n + ' unread message' + (n === 1 ? '' : 's') : 'Open chat';
  }

  function statusLabel(s) {
    return s === 'read' ? 'Read' : s === 'sent' ? 'Sent' : s === 'failed' ? 'Not delivered' : state.conn === 'online' ? 'Sending…' : 'Waiting for connection…';
  }

  function autosize() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight, 132) + 'px';
  }

  // ---------------------------------------------------------------- small helpers

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function initials(name) {
    var parts = String(name || '?').trim().split(/\s+/);
    return ((parts[0] || '?')[0] + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
  }
  function timeLabel(t) { return new Date(t).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' }); }
  function dayLabel(t) {
    var d = new Date(t), today = new Date();
    var yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
    if (d.toDateString() === today.toDateString()) return 'Today';
    if (d.toDateString() === yesterday.toDateString()) return 'Yesterday';
    return d.toLocaleDateString([], { weekday: 'short', month: 'short', day: 'numeric' });
  }
  function randomId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
  }
  function cssColor(value) { return value && window.CSS && CSS.supports('color', value) ? value : ''; }
  function sessionGet(key) { try { return window.sessionStorage.getItem('desk:' + WORKSPACE + ':' + key); } catch (e) { return null; } }
  function sessionSet(key, value) { try { window.sessionStorage.setItem('desk:' + WORKSPACE + ':' + key, value); } catch (e) { /* ignore */ } }

  // ---------------------------------------------------------------- markup and styles

  function template() {
    var chat = '<svg class="i-chat" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 3.6c-.5.4-1.3.1-1.3-.6V16A2.5 2.5 0 0 1 4 13.5z"/></svg>';
    var down = '<svg class="i-down" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 9l6 6 6-6"/></svg>';
    var sendIcon = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4.4 11.2 18.9 4.3c.8-.4 1.6.4 1.2 1.2l-6.9 14.5c-.4.8-1.5.7-1.8-.1l-1.7-5.2a1 1 0 0 0-.6-.6l-5.2-1.7c-.8-.3-.9-1.4-.1-1.8z"/></svg>';
    return '' +
      '<div class="dk">' +
        '<section class="panel" id="dk-panel" role="dialog" aria-labelledby="dk-title" aria-hidden="true">' +
          '<header class="head">' +
            '<div class="avatars"></div>' +
            '<div class="titles"><h2 class="title" id="dk-title"></h2>' +
              '<p class="status"><span class="dot" aria-hidden="true"></span><span class="status-text"></span></p></div>' +
            '<button type="button" class="close" aria-label="Close chat">' + down + '</button>' +
          '</header>' +
          '<div class="conn" role="status" hidden><i class="spin" aria-hidden="true"></i><span></span></div>' +
          '<div class="log">' +
            '<div class="intro"><p class="greeting"></p></div>' +
            // The live region wraps the list, so the list keeps its own semantics (a role on the <ol> would replace them).
            '<div role="log" aria-live="polite" aria-label="Messages"><ol class="list" role="list"></ol></div>' +
            '<div class="typing" hidden><span class="dots" aria-hidden="true"><i></i><i></i><i></i></span><span class="typing-text" role="status"></span></div>' +
          '</div>' +
          '<form class="email" hidden novalidate>' +
            '<label for="dk-email">We\'re away right now. Leave your email and we\'ll reply there.</label>' +
            '<div class="row"><input id="dk-email" type="email" autocomplete="email" placeholder="you@example.com" required>' +
            '<button type="submit">Save</button></div>' +
          '</form>' +
          '<p class="email-done" hidden><span class="email-done-text"></span> <button type="button" class="email-change">Change</button> <button type="button" class="email-transcript">Email me this chat</button></p>' +
          '<form class="composer">' +
            '<textarea rows="1" maxlength="' + MAX_BODY + '" placeholder="Write a message…" aria-label="Message"></textarea>' +
            '<button type="submit" class="send" aria-label="Send message" disabled>' + sendIcon + '</button>' +
          '</form>' +
          '<p class="brand"><button type="button" class="email-ask" hidden>Get the replies by email</button> Powered by <b>Desk</b></p>' +
        '</section>' +
        '<button type="button" class="launcher" aria-label="Open chat" aria-expanded="false" aria-controls="dk-panel">' +
          chat + down + '<span class="badge" hidden></span></button>' +
      '</div>';
  }

  function css() {
    return [
      ':host{all:initial}',
      '.dk{--dk-accent:#4f46e5;--dk-text:#1f2328;--dk-muted:#6b7280;--dk-line:#e6e8eb;--dk-soft:#f3f4f6;--dk-bg:#fff;--dk-link:var(--dk-accent);--dk-faint:#646b78;',
      '  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif;',
      '  color:var(--dk-text);-webkit-font-smoothing:antialiased;text-align:left;direction:ltr}',
      '.dk *,.dk *::before,.dk *::after{box-sizing:border-box}',
      '[hidden]{display:none!important}',
      'button{font:inherit;color:inherit;cursor:pointer;border:0;background:none;padding:0;margin:0}',
      'button:focus-visible,textarea:focus-visible,input:focus-visible{outline:2px solid var(--dk-accent);outline-offset:2px}',
      'h2,p,ol{margin:0;padding:0}',
      // launcher
      '.launcher{position:fixed;right:24px;bottom:24px;width:56px;height:56px;border-radius:50%;background:var(--dk-accent);color:#fff;',
      '  box-shadow:0 6px 20px rgba(17,24,39,.22),0 2px 4px rgba(17,24,39,.12);display:grid;place-items:center;transition:transform .15s ease,box-shadow .15s ease}',
      '.launcher:hover{transform:translateY(-1px) scale(1.03);box-shadow:0 10px 28px rgba(17,24,39,.26),0 2px 6px rgba(17,24,39,.12)}',
      '.launcher svg{grid-area:1/1;width:26px;height:26px;transition:transform .2s ease,opacity .2s ease}',
      '.i-chat{fill:currentColor}',
      '.i-down{fill:none;stroke:currentColor;stroke-width:2.2;stroke-linecap:round;stroke-linejoin:round}',
      '.launcher .i-down{opacity:0;transform:rotate(-90deg)}',
      '.is-open .launcher .i-chat{opacity:0;transform:rotate(90deg) scale(.6)}',
      '.is-open .launcher .i-down{opacity:1;transform:none}',
      '.badge{position:absolute;top:-3px;right:-3px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#e5484d;color:#fff;',
      '  font-size:11px;font-weight:700;line-height:20px;text-align:center;box-shadow:0 0 0 2px var(--dk-bg)}',
      // panel
      '.panel{position:fixed;right:24px;bottom:92px;width:376px;height:min(620px,calc(100vh - 120px));display:flex;flex-direction:column;',
      '  background:var(--dk-bg);border-radius:16px;overflow:hidden;box-shadow:0 16px 48px rgba(17,24,39,.18),0 2px 8px rgba(17,24,39,.08);',
      '  border:1px solid rgba(17,24,39,.06);visibility:hidden;opacity:0;transform:translateY(12px) scale(.98);transform-origin:bottom right;',
      '  transition:opacity .18s ease,transform .18s ease,visibility 0s linear .18s}',
      '.is-open .panel{visibility:visible;opacity:1;transform:none;transition-delay:0s}',
      '.head{display:flex;align-items:center;gap:12px;padding:16px 12px 16px 18px;background:var(--dk-accent);color:#fff}',
      '.avatars{display:flex;flex:none}',
      '.avatar{width:36px;height:36px;border-radius:50%;display:grid;place-items:center;font-size:13px;font-weight:600;letter-spacing:.02em;',
      '  background:rgba(255,255,255,.2);color:#fff;box-shadow:0 0 0 2px var(--dk-accent)}',
      '.avatar+.avatar{margin-left:-10px}',
      '.titles{flex:1;min-width:0}',
      '.title{font-size:16px;font-weight:650;line-height:1.25;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}',
      '.status{display:flex;align-items:center;gap:6px;font-size:12.5px;opacity:.9;margin-top:2px}',
      '.dot{width:8px;height:8px;border-radius:50%;background:rgba(255,255,255,.55)}',
      '.is-available .dot{background:#3ddc84;box-shadow:0 0 0 2px rgba(61,220,132,.3)}',
      '.close{width:36px;height:36px;border-radius:10px;display:grid;place-items:center;color:#fff;flex:none}',
      '.close:hover{background:rgba(255,255,255,.14)}',
      '.close svg{width:22px;height:22px}',
      '.conn{display:flex;align-items:center;gap:8px;padding:7px 16px;font-size:12.5px;color:#7a5b00;background:#fff8e1;border-bottom:1px solid #f3e3a6}',
      '.is-offline .spin{animation:none;border-right-color:currentColor;border-width:0;background:currentColor;width:8px;height:8px;margin:0 2px}',
      '.spin{width:12px;height:12px;border-radius:50%;border:2px solid currentColor;border-right-color:transparent;animation:dk-spin .8s linear infinite;flex:none}',
      // messages
      '.log{flex:1;overflow-y:auto;padding:16px 16px 8px;overscroll-behavior:contain;scroll-behavior:auto}',
      '.intro{background:var(--dk-soft);border-radius:12px;padding:12px 14px;margin-bottom:14px;color:var(--dk-text)}',
      '.list{list-style:none;display:flex;flex-direction:column}',
      '.day{align-self:center;font-size:11.5px;font-weight:600;color:var(--dk-muted);margin:10px 0 8px;text-transform:uppercase;letter-spacing:.04em}',
      '.system{align-self:center;font-size:12.5px;color:var(--dk-muted);margin:8px 0;text-align:center}',
      '.rate{align-self:center;display:flex;align-items:center;gap:6px;font-size:12.5px;color:var(--dk-muted);margin:0 0 10px}',
      '.rate-btn{width:32px;height:32px;border-radius:8px;border:1px solid var(--dk-line);background:var(--dk-bg);font-size:15px;line-height:1}',
      '.msg{display:flex;flex-direction:column;max-width:82%;margin-top:2px}',
      '.msg.first{margin-top:10px}',
      '.own{align-self:flex-end;align-items:flex-end}',
      '.them{align-self:flex-start;align-items:flex-start}',
      '.author{font-size:12px;font-weight:600;color:var(--dk-muted);margin:0 0 3px 4px}',
      '.bubble{padding:9px 13px;border-radius:18px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}',
      '.own .bubble{background:var(--dk-accent);color:#fff}',
      '.them .bubble{background:var(--dk-soft);color:var(--dk-text)}',
      '.own.first:not(.last) .bubble{border-bottom-right-radius:6px}',
      '.own:not(.first):not(.last) .bubble{border-top-right-radius:6px;border-bottom-right-radius:6px}',
      '.own.last:not(.first) .bubble{border-top-right-radius:6px}',
      '.them.first:not(.last) .bubble{border-bottom-left-radius:6px}',
      '.them:not(.first):not(.last) .bubble{border-top-left-radius:6px;border-bottom-left-radius:6px}',
      '.them.last:not(.first) .bubble{border-top-left-radius:6px}',
      '.msg[data-state=sending] .bubble{opacity:.72}',
      '.msg[data-state=failed] .bubble{background:var(--dk-bg);color:var(--dk-text);box-shadow:inset 0 0 0 1px #e5484d}',
      '.meta{font-size:11.5px;color:var(--dk-muted);margin:4px 6px 2px}',
      '.msg[data-state=read] .receipt{color:var(--dk-link);font-weight:500}',
      '.msg[data-state=failed] .receipt{color:#c62a2f}',
      '.retry{margin-left:8px;color:var(--dk-link);font-weight:600;font-size:11.5px;text-decoration:underline}',
      '.enter{animation:dk-in .18s ease-out}',
      '.typing{display:flex;align-items:center;gap:8px;margin:10px 0 4px;color:var(--dk-muted);font-size:12.5px}',
      '.dots{display:inline-flex;gap:3px;padding:10px 12px;border-radius:16px;background:var(--dk-soft)}',
      '.dots i{width:6px;height:6px;border-radius:50%;background:#9ca3af;animation:dk-blink 1.2s infinite ease-in-out}',
      '.dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}',
      // email capture
      '.email{margin:0 12px 8px;padding:12px;border-radius:12px;background:var(--dk-bg);border:1px solid var(--dk-line);box-shadow:0 2px 8px rgba(17,24,39,.05)}',
      '.email label{display:block;font-size:13px;margin-bottom:8px}',
      '.row{display:flex;gap:8px}',
      '.email input{flex:1;min-width:0;height:36px;padding:0 10px;border:1px solid var(--dk-line);border-radius:8px;font:inherit;color:inherit;background:var(--dk-bg)}',
      '.email input[aria-invalid=true]{border-color:#e5484d}',
      '.email button{height:36px;padding:0 14px;border-radius:8px;background:var(--dk-accent);color:#fff;font-weight:600}',
      '.email-done{margin:0 16px 6px;font-size:12.5px;color:var(--dk-muted)}',
      '.email-change,.email-transcript,.email-ask{color:var(--dk-link);font-size:12.5px;text-decoration:underline}',
      '.email-ask{font-size:11px;margin-right:6px}',
      // composer
      '.composer{display:flex;align-items:flex-end;gap:8px;margin:4px 12px 0;padding:6px 6px 6px 14px;border:1px solid var(--dk-line);border-radius:14px;background:var(--dk-bg);transition:border-color .15s,box-shadow .15s}',
      '.composer:focus-within{border-color:var(--dk-accent);box-shadow:0 0 0 3px color-mix(in srgb,var(--dk-accent) 18%,transparent)}',
      '.composer textarea{flex:1;min-width:0;resize:none;border:0;outline:0;background:none;font:inherit;color:inherit;padding:7px 0;max-height:132px;line-height:1.45}',
      '.composer textarea:focus-visible{outline:0}',
      '.send{width:36px;height:36px;flex:none;border-radius:10px;display:grid;place-items:center;background:var(--dk-accent);color:#fff;transition:opacity .15s}',
      '.send:disabled{opacity:.35;cursor:default}',
      '.send svg{width:18px;height:18px;fill:currentColor}',
      '.brand{text-align:center;font-size:11px;color:var(--dk-faint);padding:8px 0 10px}',
      '.brand b{font-weight:600;color:var(--dk-muted)}',
      '@keyframes dk-in{from{opacity:0;transform:translateY(6px)}to{opacity:1;transform:none}}',
      '@keyframes dk-blink{0%,80%,100%{opacity:.35;transform:translateY(0)}40%{opacity:1;transform:translateY(-2px)}}',
      '@keyframes dk-spin{to{transform:rotate(360deg)}}',
      // phones: the panel takes the screen, its own header closes it
      '@media (max-width:480px){',
      '  .panel{inset:0;width:100%;height:100%;border-radius:0;border:0;transform:translateY(24px)}',
      '  @supports (height:100dvh){.panel{height:100dvh}}',
      '  .is-open .launcher{display:none}',
      '  .launcher{right:16px;bottom:16px}',
      '  .composer textarea,.email input{font-size:16px}',
      '}',
      // Dark: every text colour at 4.5:1 at least on the surfaces it sits on.
      '.dk.theme-dark{--dk-text:#e6e8eb;--dk-muted:#aab1bd;--dk-line:#30343b;--dk-soft:#262a30;--dk-bg:#17191d;--dk-link:#c7d2fe;--dk-faint:#9aa1ad;color-scheme:dark}',
      '.theme-dark .panel{box-shadow:0 16px 48px rgba(0,0,0,.5),0 2px 8px rgba(0,0,0,.4)}',
      '.theme-dark .conn{color:#f3dd8b;background:#2f2710;border-bottom-color:#4d3f12}',
      '.theme-dark .msg[data-state=failed] .receipt{color:#ff8a8a}',
      '@media (prefers-reduced-motion:reduce){.dk *{animation:none!important;transition:none!important}}',
    ].join('\n');
  }

  // ---------------------------------------------------------------- start

  if (state.open) setOpen(true);
  render(true);
  connect();
})();
