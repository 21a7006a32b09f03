/**
 * The top bar: the teammates with their presence, my own availability (Online / Away), who I am,
 * and how the link to the server is (a pill, hidden while online).
 */
import type { LinkState } from '../shared/connection.js';
import type { OperatorView } from './api.js';
import type { Availability } from './presence.js';
import { avatar, byId, h } from './dom.js';
import type { InboxState } from './state.js';

function presenceButtons(): HTMLButtonElement[] {
  return [...document.querySelectorAll<HTMLButtonElement>('.presence-toggle button')];
}

/** The Online / Away toggle calls `onChange` with the status its button stands for. */
export function setupPresenceToggle(onChange: (status: Availability) => void): void {
  for (const b of presenceButtons()) b.addEventListener('click', () => onChange(b.dataset.status === 'away' ? 'away' : 'online'));
}

export function renderMe(operator: OperatorView | null): void {
  byId('me').replaceChildren(avatar(operator?.name || '?'), h('span', { class: 'me-name' }, operator?.name || ''));
}

export function renderTeam(state: InboxState): void {
  const others = state.presence.filter((o) => o.id !== state.me?.id);
  byId('team').replaceChildren(
    ...others.map((o) =>
      h('span', { class: 'teammate', title: `${o.name}: ${o.status}` }, avatar(o.name), h('span', { class: `dot ${o.status}` }), h('span', { class: 'sr-only' }, `${o.name} is ${o.status}`)),
    ),
  );
  const mine = state.presence.find((o) => o.id === state.me?.id)?.status || 'online';
  for (const b of presenceButtons()) b.setAttribute('aria-pressed', String(b.dataset.status === mine));
}

const LINK_TEXT: Record<LinkState, string> = { connecting: 'Connecting…', reconnecting: 'Reconnecting…', offline: 'Offline — waiting for the network', online: '' };

export function renderConn(state: InboxState): void {
  const pill = byId('conn');
  pill.hidden = state.conn === 'online';
  pill.className = `conn-pill ${state.conn}`;
  pill.textContent = LINK_TEXT[state.conn];
}
