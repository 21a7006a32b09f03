/**
 * Typing, both ways. Out: "start" while the visitor writes (again every 3 s, the server forgets it
 * after 6 s), "stop" after 2.5 s idle, on send or when the composer loses focus. In: "Ada is
 * typing…" for 6 s at most, or until her message or her "stop" comes.
 */
import type { ServerEventOf } from '../../src/protocol.js';
import type { Widget } from './context.js';

const TYPING_EVERY = 3000;
const TYPING_IDLE = 2500;
const TYPING_SHOWN = 6000;

export interface TypingAnnouncer {
  /** The composer's text changed. */
  input(text: string): void;
  stop(): void;
}

export function typingAnnouncer(w: Widget): TypingAnnouncer {
  let sentAt = 0;
  let idle: ReturnType<typeof setTimeout> | undefined;

  function stop(): void {
    clearTimeout(idle);
    if (!sentAt) return;
    sentAt = 0;
    w.send({ type: 'typing', state: 'stop' });
  }

  function input(text: string): void {
    clearTimeout(idle);
    if (!text.trim()) {
      stop();
      return;
    }
    if (Date.now() - sentAt > TYPING_EVERY && w.send({ type: 'typing', state: 'start' })) sentAt = Date.now();
    idle = setTimeout(stop, TYPING_IDLE);
  }

  return { input, stop };
}

/** An operator started or stopped writing (the visitor's own typing, echoed from another tab, is not shown). */
export function onTyping(w: Widget, ev: ServerEventOf<'typing'>): void {
  if (ev.author?.kind === 'visitor') return;
  w.state.typing = ev.state === 'start' ? { name: ev.author?.name || w.locale.t.someone, until: Date.now() + TYPING_SHOWN } : null;
  if (w.state.typing) setTimeout(() => w.render(), TYPING_SHOWN + 50);
  w.render();
}
