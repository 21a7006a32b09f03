/**
 * Snoozing from the details panel: a "Snooze" menu button (1 hour, tomorrow at 9:00, next week's
 * Monday at 9:00, local time) sends conversation.snooze; a snoozed conversation says until when,
 * with "Wake" (until: null). The menu: Enter, Space or ↓ open it on its first item, ↑ ↓ Home End
 * move, Escape or Tab close it, focus back on the button after Escape or a choice.
 */
import type { InboxActions } from './actions.js';
import { type InboxConversation, isSnoozed, snoozeChoices } from './conversations.js';
import { h } from './dom.js';
import { fullTime } from './format.js';

/** The conversation whose menu is open (the panel is drawn again on every update). */
let openFor: string | null = null;

/** A click elsewhere closes the menu. */
document.addEventListener('click', (e) => {
  if (!openFor || (e.target instanceof Element && e.target.closest('.snooze'))) return;
  openFor = null;
  document.getElementById('snooze-menu')?.setAttribute('hidden', '');
  document.getElementById('snooze-button')?.setAttribute('aria-expanded', 'false');
});

export function snoozeControl(c: InboxConversation, actions: InboxActions): HTMLElement | null {
  if (isSnoozed(c) && c.snoozedUntil) {
    return h(
      'div',
      { class: 'snooze snoozed' },
      h('p', { class: 'snooze-until' }, `Snoozed until ${fullTime(c.snoozedUntil)}`),
      h('button', { type: 'button', class: 'btn small', dataset: { action: 'wake' }, onclick: () => actions.snooze(c.id, null) }, 'Wake'),
    );
  }
  if (c.state !== 'open') return null;
  const expanded = openFor === c.id;
  const items = () => [...wrap.querySelectorAll<HTMLButtonElement>('[role="menuitem"]')];
  const close = (focusButton: boolean) => {
    openFor = null;
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    if (focusButton) button.focus();
  };
  const open = () => {
    openFor = c.id;
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    items()[0]?.focus();
  };
  const button = h(
    'button',
    {
      type: 'button',
      class: 'btn',
      id: 'snooze-button',
      'aria-haspopup': 'menu',
      'aria-expanded': String(expanded),
      'aria-controls': 'snooze-menu',
      onclick: () => (openFor === c.id ? close(false) : open()),
      onkeydown: (e) => {
        if (e.key === 'ArrowDown') {
          e.preventDefault();
          open();
        }
      },
    },
    'Snooze',
  );
  const menu = h(
    'div',
    {
      id: 'snooze-menu',
      class: 'snooze-menu',
      role: 'menu',
      'aria-labelledby': 'snooze-button',
      hidden: !expanded,
      onkeydown: (e) => {
        const list = items();
        const at = list.indexOf(document.activeElement as HTMLButtonElement);
        const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: list.length - 1 }[e.key];
        if (to !== undefined) {
          e.preventDefault();
          list[(to + list.length) % list.length]?.focus();
        } else if (e.key === 'Escape') {
          e.preventDefault();
          close(true);
        } else if (e.key === 'Tab') close(false);
      },
    },
    ...snoozeChoices().map((choice) =>
      h(
        'button',
        {
          type: 'button',
          role: 'menuitem',
          tabindex: '-1',
          class: 'snooze-item',
          dataset: { snooze: choice.id },
          onclick: () => {
            close(true);
            actions.snooze(c.id, snoozeChoices().find((x) => x.id === choice.id)?.until ?? choice.until);
          },
        },
        h('span', {}, choice.label),
        h('span', { class: 'muted' }, fullTime(choice.until)),
      ),
    ),
  );
  const wrap = h('div', { class: 'snooze' }, button, menu);
  return wrap;
}
