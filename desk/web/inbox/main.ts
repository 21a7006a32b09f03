/**
 * The operator inbox (inbox.html): sign-in, then three columns (filters and conversations, the
 * selected thread with its composer, visitor details) kept live over the realtime socket
 * (desk/PROTOCOL.md). This file only wires the page's fixed controls to the inbox (session.ts);
 * every region is drawn from the state (state.ts) by render.ts.
 */
import { byId, icon } from './dom.js';
import { setupSearch } from './search.js';
import { createInbox } from './session.js';
import { savedSession, setupSignin, showSignin } from './signin.js';
import { InboxState } from './state.js';
import { keepThreadBottom } from './thread.js';
import { setupPresenceToggle } from './topbar.js';

/** Relative times in the list ("5m") are redrawn this often. */
const CLOCK_TICK = 60_000;

const inbox = createInbox(new InboxState());

setupSignin((answer) => inbox.start(answer.token, answer.operator));
setupSearch(inbox.search, inbox.showSearch);
setupPresenceToggle(inbox.setPresence);
keepThreadBottom();
byId('notify').append(icon('bell'));
const signout = byId('signout');
signout.append(icon('logout'));
signout.addEventListener('click', () => inbox.signOut());
document.addEventListener('visibilitychange', inbox.visibilityChanged);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && document.body.classList.contains('show-details')) document.body.classList.remove('show-details');
});
setInterval(() => inbox.schedule('list'), CLOCK_TICK);

const saved = savedSession();
if (saved) inbox.start(saved.token, saved.operator);
else showSignin();
