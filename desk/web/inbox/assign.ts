/**
 * Who owns a conversation: "Assign to me" (or "Unassign" when it is mine), and an "Assigned to"
 * menu of every teammate (GET /api/operators) to hand it to anyone, or to nobody.
 */
import type { InboxActions } from './actions.js';
import type { InboxConversation } from './conversations.js';
import { h, icon } from './dom.js';
import type { InboxState } from './state.js';

export function assignButton(state: InboxState, c: InboxConversation, actions: InboxActions): HTMLButtonElement {
  const me = state.me?.id;
  if (c.assignee && c.assignee === me) {
    return h('button', { type: 'button', class: 'btn', dataset: { action: 'unassign' }, onclick: () => actions.assign(c.id, null) }, icon('userX', 16), 'Unassign');
  }
  return h('button', { type: 'button', class: 'btn', dataset: { action: 'assign' }, onclick: () => me && actions.assign(c.id, me) }, icon('user', 16), 'Assign to me');
}

/** The menu, once the teammates are known. */
export function assigneeMenu(state: InboxState, c: InboxConversation, actions: InboxActions): HTMLDivElement | null {
  if (!state.operators.length) return null;
  const select = h(
    'select',
    { id: 'assignee' },
    h('option', { value: '' }, 'Unassigned'),
    ...state.operators.map((o) => h('option', { value: o.id }, o.id === state.me?.id ? `${o.name} (you)` : o.name)),
  );
  select.value = c.assignee || '';
  select.addEventListener('change', () => actions.assign(c.id, select.value || null));
  return h('div', { class: 'assignee' }, h('label', { for: 'assignee' }, 'Assigned to'), select);
}
