/**
 * Rendering, batched per frame: whatever changes the state names the parts to redraw
 * (`schedule('list', 'thread')`), and one animation frame draws each named part once from the
 * state. 'scroll' redraws the thread and keeps it at the bottom; 'all' is every part.
 */
import type { InboxActions } from './actions.js';
import { renderDetails } from './details.js';
import { byId } from './dom.js';
import { renderFilters, renderList } from './list.js';
import type { InboxState } from './state.js';
import { renderMessages, renderThreadHead } from './thread.js';
import { renderConn, renderTeam } from './topbar.js';

export type Part = 'filters' | 'list' | 'threadhead' | 'thread' | 'scroll' | 'details' | 'team' | 'conn' | 'all';

export type Schedule = (...parts: (Part | null)[]) => void;

export function createRenderer(state: InboxState, actions: InboxActions): Schedule {
  let pending = new Set<Part>();
  let frame = 0;

  function flush(): void {
    frame = 0;
    const parts = pending;
    pending = new Set();
    const has = (p: Part) => parts.has('all') || parts.has(p);
    const selected = state.selected ? state.conversations.get(state.selected) : undefined;
    if (has('filters') || has('list')) renderFilters(state, actions);
    if (has('list')) renderList(state, actions);
    byId('thread-empty').hidden = !!selected;
    byId('thread-view').hidden = !selected;
    document.body.classList.toggle('has-selection', !!selected);
    if (selected) {
      if (has('threadhead') || has('details') || has('thread')) renderThreadHead(state);
      if (has('thread') || has('scroll')) renderMessages(state, parts.has('scroll'));
      if (has('details') || has('team')) renderDetails(state, actions);
    }
    if (has('team')) renderTeam(state);
    renderConn(state);
    const unread = state.unreadElsewhere();
    document.title = `${unread ? `(${unread}) ` : ''}Inbox — Desk`;
  }

  return (...parts) => {
    for (const p of parts) if (p) pending.add(p);
    if (!frame) frame = requestAnimationFrame(flush);
  };
}
