/**
 * The details panel's labels: each a chip with × to remove it, and a small form ("Add a label")
 * that sends the whole new set (conversation.label); the server's update shows it, its refusal
 * comes as a toast. What is typed in the form survives the panel being drawn again.
 */
import type { InboxActions } from './actions.js';
import { type InboxConversation, withLabel } from './conversations.js';
import { h, icon } from './dom.js';
import { toast } from './toast.js';

/** The most labels a conversation has (PROTOCOL.md, conversation.label), each at most this long. */
const MOST_LABELS = 10;
const LONGEST = 40;

export function labelsSection(c: InboxConversation, actions: InboxActions, typed: { value: string; focused: boolean }): HTMLElement {
  const input = h('input', { id: 'label-input', type: 'text', class: 'label-input', 'aria-label': 'Add a label', placeholder: 'Add a label', maxlength: String(LONGEST), autocomplete: 'off' });
  input.value = typed.value;
  const add = (e: Event) => {
    e.preventDefault();
    const next = withLabel(c.labels, input.value);
    if (!next) return;
    if (next.length > MOST_LABELS) {
      toast(`At most ${MOST_LABELS} labels.`);
      return;
    }
    actions.label(c.id, next);
    input.value = '';
  };
  const section = h(
    'section',
    { class: 'detail-section labels' },
    h('h4', { id: 'labels-title' }, 'Labels'),
    c.labels.length
      ? h(
          'ul',
          { class: 'label-list', 'aria-labelledby': 'labels-title' },
          ...c.labels.map((l) =>
            h(
              'li',
              { class: 'label-chip' },
              h('span', {}, l),
              h(
                'button',
                {
                  type: 'button',
                  class: 'chip-remove',
                  'aria-label': `Remove label ${l}`,
                  title: `Remove ${l}`,
                  onclick: () =>
                    actions.label(
                      c.id,
                      c.labels.filter((x) => x !== l),
                    ),
                },
                icon('close', 12),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted no-labels' }, 'No labels yet'),
    h('form', { class: 'label-form', onsubmit: add }, input, h('button', { type: 'submit', class: 'btn small' }, 'Add')),
  );
  if (typed.focused) queueMicrotask(() => input.focus());
  return section;
}
