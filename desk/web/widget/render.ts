/**
 * The state on screen. One render shows everything from the state (cheap at a chat's size); the
 * thread stays at its end when the visitor was near it, and where they scrolled otherwise.
 */
import type { Widget } from './context.js';
import { threadItems, threadRows } from './thread-items.js';
import { dayLabel } from './time.js';
import { unreadCount } from './unread.js';
import type { View } from './view.js';

export function renderWidget(w: Widget, view: View, forceBottom = false): void {
  const { state, config } = w;
  const { t, tag } = w.locale;
  const nearBottom = forceBottom || view.thread.nearBottom();
  // Who is at the desk is only known while connected: never "online" when this page is not.
  const live = state.shownConn === 'online';
  const available = live && state.availability.available;
  const status = !live ? (state.shownConn === 'offline' ? t.offline : t.connecting) : available ? t.online : state.emailOn ? t.replyByEmail : t.away;
  view.header.update({ title: state.title, status, operators: state.availability.operators });
  view.root.classList.toggle('is-available', available);

  const items = threadItems(state, t);
  const now = new Date();
  view.thread.update({
    rows: threadRows(items, (at) => dayLabel(at, tag, t, now)),
    greeting: available || !state.connected ? (config.greeting ?? t.greeting) : state.emailOn ? (config.awayGreeting ?? t.awayGreeting) : t.awayNoEmail,
    introHidden: items.length > 0 && state.messages.length > 3,
    typing: state.typing && state.typing.until > Date.now() ? t.typing(state.typing.name) : undefined,
    linkOnline: state.conn === 'online',
  });
  view.composer.update(state.attachments);
  view.email.update({ canEmail: state.connected && state.emailOn, available, asked: state.emailAsked, email: state.email });
  renderBadge(w, view);
  view.root.classList.toggle('is-down', view.strip.update(state.shownConn));
  if (nearBottom) view.thread.scrollToEnd();
}

export function renderBadge(w: Widget, view: View): void {
  view.launcher.update(w.state.open, unreadCount(w.state));
}
