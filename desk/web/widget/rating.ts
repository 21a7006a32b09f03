/**
 * The rating under a resolved conversation (the open one or an earlier one): "How did we do?"
 * with 👍 / 👎, then a thank-you once rated (conversation.rate, PROTOCOL.md).
 */
import type { VisitorConversationView } from '../../src/protocol.js';
import type { Widget } from './context.js';
import { el } from './dom.js';
import type { Strings } from './locales/strings.js';

type Rating = 'good' | 'bad';

export function rateRow(conv: VisitorConversationView, t: Strings): HTMLLIElement {
  const li = el('li', 'rate');
  if (conv.rating) {
    li.textContent = t.rated;
    return li;
  }
  li.append(el('span', 'rate-q', t.rateQuestion));
  for (const [rating, emoji, label] of [
    ['good', '👍', t.rateGood],
    ['bad', '👎', t.rateBad],
  ] as const) {
    li.append(el('button', 'rate-btn', emoji, { type: 'button', 'aria-label': label, 'data-rate': rating, 'data-conversation': conv.id }));
  }
  return li;
}

/** The visitor's click on a rating button (the thread's list delegates it here). */
export function rate(w: Widget, id: string, rating: string): void {
  if (!isRating(rating) || !w.send({ type: 'conversation.rate', conversation: id, rating })) return;
  const { state } = w;
  let conv = state.conversation?.id === id ? state.conversation : null;
  for (const e of state.earlier) if (e.conversation.id === id) conv = e.conversation;
  if (conv) conv.rating = rating;
  w.render();
}

function isRating(value: string): value is Rating {
  return value === 'good' || value === 'bad';
}
