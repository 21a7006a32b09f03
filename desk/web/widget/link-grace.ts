/**
 * How the link is, as the page shows it: online at once, offline at once, but connecting or
 * reconnecting only after 1.2 s, so a brief blip never flashes the strip. Whatever renders in the
 * grace still shows the last state (`shownConn`), not the new one.
 */
import type { LinkState } from '../shared/connection.js';
import type { Widget } from './context.js';

export const GRACE_MS = 1200;

/** The connection's onState. */
export function linkGrace(w: Widget): (conn: LinkState) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const show = () => {
    w.state.shownConn = w.state.conn;
    w.render();
  };
  let started = false;
  return (conn) => {
    w.state.conn = conn;
    // openConnection says 'connecting' as it starts: that is no drop, and the page shows nothing
    // of the link until a first welcome or a first failure ('starting').
    if (!started) {
      started = true;
      if (conn === 'connecting') return;
    }
    clearTimeout(timer);
    if (conn === 'online') show();
    else timer = setTimeout(show, conn === 'offline' ? 0 : GRACE_MS);
  };
}
