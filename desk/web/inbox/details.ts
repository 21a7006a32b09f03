/**
 * The right column: the visitor (name, email, the page they wrote from, country, browser, first
 * seen), the conversation (state, owner, rating, start) and what can be done to it: resolve or
 * reopen, assign. On smaller screens it slides over the thread (body.show-details).
 */
import type { InboxActions } from './actions.js';
import { assignButton, assigneeMenu } from './assign.js';
import { visitorLabel } from './conversations.js';
import { byId, type Child, h, icon, personAvatar } from './dom.js';
import { browserSummary, countryName, fullTime, pageLabel, safeUrl } from './format.js';
import { labelsSection } from './labels.js';
import { snoozeControl } from './snooze.js';
import type { InboxState } from './state.js';

export function renderDetails(state: InboxState, actions: InboxActions): void {
  const box = byId('details');
  const c = state.selected ? state.conversations.get(state.selected) : undefined;
  if (!c) {
    box.replaceChildren();
    return;
  }
  const v = c.visitor;
  const meta = v.meta;
  const row = (label: string, value: Child, title?: string) => (value ? h('div', { class: 'detail' }, h('dt', {}, label), h('dd', { title }, value)) : null);
  // The visitor's first-seen time when the server gives it, else the start of their first conversation we know.
  const firstSeen = Number(meta.firstSeen) || Math.min(...[...state.conversations.values()].filter((x) => x.visitor.id === v.id && x.createdAt).map((x) => x.createdAt));
  const page = meta.page ? h('a', { href: safeUrl(meta.page), target: '_blank', rel: 'noopener noreferrer', title: meta.page }, pageLabel(meta.page)) : null;
  const menu = assigneeMenu(state, c, actions);
  // What is typed in the label form stays when the panel is drawn again (for this conversation).
  const input = box.querySelector<HTMLInputElement>('#label-input');
  const typed = input && box.dataset.conversation === c.id ? { value: input.value, focused: document.activeElement === input } : { value: '', focused: false };
  box.dataset.conversation = c.id;
  const snooze = snoozeControl(c, actions);
  box.replaceChildren(
    h('button', { type: 'button', class: 'icon-btn details-close', 'aria-label': 'Close details', onclick: () => document.body.classList.remove('show-details') }, icon('close')),
    h(
      'div',
      { class: 'visitor-card' },
      personAvatar(v.name || v.email, 'large'),
      h('h3', {}, visitorLabel(c)),
      v.email ? h('a', { class: 'muted', href: `mailto:${v.email}` }, v.email) : h('p', { class: 'muted' }, 'No email yet'),
    ),
    h(
      'div',
      { class: 'actions' },
      c.state === 'open'
        ? h('button', { type: 'button', class: 'btn primary', dataset: { action: 'resolve' }, onclick: () => actions.resolve(c.id) }, icon('check', 16), 'Resolve')
        : h('button', { type: 'button', class: 'btn', dataset: { action: 'reopen' }, onclick: () => actions.reopen(c.id) }, icon('reopen', 16), 'Reopen'),
      assignButton(state, c, actions),
    ),
    ...(menu ? [menu] : []),
    ...(snooze ? [snooze] : []),
    labelsSection(c, actions, typed),
    h(
      'section',
      { class: 'detail-section' },
      h('h4', {}, 'Conversation'),
      h(
        'dl',
        {},
        row('Status', c.state === 'open' ? 'Open' : 'Resolved'),
        row('Assignee', c.assignee ? state.operatorName(c.assignee) : 'Unassigned'),
        row('Rating', c.rating === 'good' ? '👍 Good' : c.rating === 'bad' ? '👎 Bad' : ''),
        row('Started', c.createdAt ? fullTime(c.createdAt) : ''),
      ),
    ),
    h(
      'section',
      { class: 'detail-section' },
      h('h4', {}, 'Visitor'),
      h(
        'dl',
        {},
        row('Email', v.email),
        row('Name', v.name),
        row('Page', page),
        row('Country', meta.country ? `${countryName(meta.country)} (${meta.country.toUpperCase()})` : ''),
        row('Browser', browserSummary(meta.userAgent), meta.userAgent || ''),
        row('First seen', Number.isFinite(firstSeen) ? fullTime(firstSeen) : ''),
      ),
    ),
  );
}
