/**
 * The Desk chat widget: one script tag on any site (config.ts lists its attributes), built into
 * one self-contained file by scripts/build-web.mjs. Everything lives in a shadow root (view.ts),
 * so the host page's CSS cannot break the widget and ours cannot leak out; it speaks the visitor's
 * language (locales/); the page may call Desk.open(), Desk.close() and Desk.identify()
 * (host-page.ts).
 *
 * Realtime follows desk/PROTOCOL.md through the one client of the front end
 * (shared/connection.ts): visitor.hello with the session and the last seq it has, every send in a
 * localStorage outbox until its message.ack and re-sent after every welcome (outbox.ts), so nothing
 * typed is lost to a drop, a reload or an offline phone.
 *
 * This file wires the parts together: the state, the view and its handlers, the connection.
 */
import { browserEnvironment } from '../shared/browser-env.js';
import { type Connection, openConnection } from '../shared/connection.js';
import { upload } from '../shared/upload.js';
import { readConfig } from './config.js';
import { initialState } from './initial-state.js';
import type { Widget } from './context.js';
import { coversScreen, trapFocus } from './focus-trap.js';
import { exposeToHostPage } from './host-page.js';
import { linkGrace } from './link-grace.js';
import { pickLocale } from './locales/pick.js';
import { queueMessage, retry } from './outbox.js';
import { rate } from './rating.js';
import { sendReadMarks } from './reads.js';
import { onServerEvent, visitorHello } from './realtime.js';
import { renderBadge, renderWidget } from './render.js';
import { createStorage } from './storage.js';
import { typingAnnouncer } from './typing.js';
import { mountView, type View } from './view.js';

declare global {
  interface Window {
    /** Set by the first copy of the script, so a page that includes it twice gets one widget. */
    __deskWidget?: boolean;
  }
}

function start(): void {
  if (window.__deskWidget) return;
  const script = document.currentScript ?? document.querySelector('script[data-workspace][src*="widget.js"]');
  const config = script instanceof HTMLScriptElement ? readConfig(script) : undefined;
  if (!config) {
    console.warn('[desk] widget.js needs a data-workspace attribute');
    return;
  }
  window.__deskWidget = true;

  const locale = pickLocale(navigator.languages?.length ? navigator.languages : [navigator.language]);
  const storage = createStorage(config.workspace);
  const state = initialState(storage, config.title ?? locale.t.title);
  let connection: Connection | undefined;
  // Assigned by mountView below, before anything renders.
  let view!: View;
  const w: Widget = {
    config,
    locale,
    storage,
    state,
    send: (ev) => connection?.send(ev) ?? false,
    online: () => connection?.online ?? false,
    render: (forceBottom) => renderWidget(w, view, forceBottom),
    renderBadge: () => renderBadge(w, view),
    showEmailNote: (text) => view.email.note(text),
  };
  const typing = typingAnnouncer(w);

  function setOpen(open: boolean): void {
    state.open = open;
    storage.setOpen(open);
    view.root.classList.toggle('is-open', open);
    view.panel.setAttribute('aria-hidden', String(!open));
    w.renderBadge();
    if (!open) return;
    w.render(true);
    // Not on a touch screen: the keyboard would cover half the panel the moment it opens.
    if (!window.matchMedia?.('(pointer: coarse)').matches) setTimeout(() => view.composer.focus(), 60);
    sendReadMarks(w);
  }

  function closeToLauncher(): void {
    setOpen(false);
    view.launcher.button.focus();
  }

  view = mountView(config, locale, {
    toggle: () => setOpen(!state.open),
    close: closeToLauncher,
    keydown: (e) => {
      if (e.key === 'Escape' && state.open) {
        e.preventDefault();
        closeToLauncher();
      }
      if (e.key === 'Tab' && state.open && coversScreen()) trapFocus(e, view.panel, view.shadow);
    },
    composer: {
      send: (body, attachments) => {
        typing.stop();
        queueMessage(w, body, attachments);
      },
      input: typing.input,
      blur: typing.stop,
      // Into the conversation the visitor is in, as its session (PROTOCOL.md, Attachments); the
      // paperclip only shows once a welcome said what may be attached.
      upload: (file) =>
        state.attachments && state.conversation && state.session
          ? upload(config.base, { workspace: config.workspace, conversation: state.conversation.id }, file, { 'x-desk-visitor': state.session }, state.attachments)
          : Promise.reject(new Error('not welcomed')),
    },
    email: {
      save: (email) => {
        state.email = email;
        storage.set('email', email);
        w.send({ type: 'visitor.email', email });
        w.render();
        view.composer.focus();
      },
      change: () => {
        state.email = undefined;
        storage.set('email', undefined);
        w.render();
        view.email.focus();
      },
      // desk/EMAIL.md, Transcripts: the server answers transcript.sent (or an error) and emails it.
      transcript: () => w.send({ type: 'transcript.request' }),
      ask: () => {
        state.emailAsked = true;
        w.render();
        view.email.focus();
      },
    },
    thread: {
      rate: (conversation, rating) => rate(w, conversation, rating),
      retry: (clientId) => retry(w, clientId),
    },
  });

  exposeToHostPage(w, setOpen);
  // Back on the tab: what arrived meanwhile is read now (the connection reconnects by itself).
  document.addEventListener('visibilitychange', () => sendReadMarks(w));

  if (state.open) setOpen(true);
  w.render(true);
  connection = openConnection({
    url: config.wsUrl,
    hello: () => visitorHello(w),
    welcome: 'visitor.welcome',
    onEvent: (ev) => onServerEvent(w, ev),
    onState: linkGrace(w),
    env: browserEnvironment(),
  });
}

start();
