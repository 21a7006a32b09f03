/**
 * My availability (Online / Away), kept in sessionStorage so a reload or a reconnect keeps it: the
 * server forgets it with the socket, so it is said again after every welcome.
 */
import type { Outgoing } from '../../src/protocol.js';
import type { InboxState } from './state.js';

const KEY = 'desk:presence';

export type Availability = 'online' | 'away';

export function savedAvailability(): Availability {
  return sessionStorage.getItem(KEY) === 'away' ? 'away' : 'online';
}

/** Mine at once in the state (the team row redraws), then to the server. */
export function setAvailability(state: InboxState, status: Availability, send: (ev: Outgoing) => boolean): void {
  sessionStorage.setItem(KEY, status);
  const me = state.me;
  const mine = state.presence.find((o) => o.id === me?.id);
  if (mine) mine.status = status;
  else if (me) state.presence.push({ id: me.id, name: me.name, status });
  send({ type: 'presence.set', status });
}
