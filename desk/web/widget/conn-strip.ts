/**
 * The strip under the header while the link is down, from what link-grace.ts lets the page show:
 * "Connecting…", "Reconnecting…", or offline with a promise that messages go out when back.
 */
import { el } from './dom.js';
import type { Strings } from './locales/strings.js';
import type { ShownLink } from './state.js';

export interface ConnStrip {
  strip: HTMLDivElement;
  /** Whether the link shows as down. */
  update(shown: ShownLink): boolean;
}

export function createConnStrip(t: Strings): ConnStrip {
  const text = el('span');
  const strip = el('div', 'conn', undefined, { role: 'status' });
  strip.hidden = true;
  strip.append(el('i', 'spin', undefined, { 'aria-hidden': 'true' }), text);
  return {
    strip,
    update(shown) {
      const down = shown !== 'online' && shown !== 'starting';
      strip.hidden = !down;
      strip.classList.toggle('is-offline', shown === 'offline');
      text.textContent = shown === 'offline' ? t.offlineStrip : shown === 'reconnecting' ? t.reconnecting : t.connecting;
      return down;
    },
  };
}
