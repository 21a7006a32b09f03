/**
 * What the host page can do (desk/README.md): Desk.open(), Desk.close(), and Desk.identify({
 * email, name, userHash }) for a logged-in user of the site, signed by the site's server (userHash
 * = HMAC-SHA256 of the lowercase email under the workspace's identity secret, hex), sent now and
 * after every welcome; Desk refuses a forged one (a console warning says so). And any element with
 * `data-desk-open` opens the chat: no inline handler, so a page with a strict
 * Content-Security-Policy (no 'unsafe-inline' scripts) can have one too.
 */
import type { ClientEventOf } from '../../src/protocol.js';
import type { Widget } from './context.js';

export interface DeskApi {
  open(): void;
  close(): void;
  identify(user: { email?: unknown; name?: unknown; userHash?: unknown } | null | undefined): void;
}

declare global {
  interface Window {
    Desk?: DeskApi;
  }
}

export function exposeToHostPage(w: Widget, setOpen: (open: boolean) => void): void {
  window.Desk = {
    open: () => setOpen(true),
    close: () => setOpen(false),
    identify(user) {
      if (!user || typeof user.email !== 'string' || typeof user.userHash !== 'string') return;
      const identity: ClientEventOf<'visitor.identify'> = { type: 'visitor.identify', email: user.email, userHash: user.userHash };
      if (typeof user.name === 'string' && user.name.trim()) identity.name = user.name.trim();
      w.state.identity = identity;
      w.send(identity);
    },
  };
  document.addEventListener('click', (e) => {
    const opener = e.target instanceof Element ? e.target.closest('[data-desk-open]') : null;
    if (!opener) return;
    e.preventDefault();
    setOpen(true);
  });
}
