/**
 * The scrolling middle of the panel: the greeting, the thread inside a polite live region (the
 * list keeps its own semantics: a role on the <ol> would replace them), and who is typing. Only
 * bubbles new to the screen animate in. Every body goes through richText, never innerHTML. A
 * message's files follow its text (attachment-link.ts); a message of files alone has no bubble.
 */
import { richText } from '../shared/rich-text.js';
import { attachmentLink } from './attachment-link.js';
import { el } from './dom.js';
import type { Strings } from './locales/strings.js';
import { rateRow } from './rating.js';
import type { Receipt, Row } from './thread-items.js';
import { timeLabel } from './time.js';

export interface ThreadShown {
  rows: Row[];
  greeting: string;
  introHidden: boolean;
  /** "Ada is typing…", or nothing. */
  typing: string | undefined;
  /** The link is up now (a pending message says "Sending…", else "Waiting for connection…"). */
  linkOnline: boolean;
}

export interface ThreadView {
  log: HTMLDivElement;
  /** Within 80 px of the end: a new message scrolls it into view. */
  nearBottom(): boolean;
  scrollToEnd(): void;
  update(shown: ThreadShown): void;
}

export interface ThreadHandlers {
  rate(conversation: string, rating: string): void;
  retry(clientId: string): void;
}

/** `base`: the Desk this script came from, where files are served. */
export function createThreadView(t: Strings, tag: string, base: string, on: ThreadHandlers): ThreadView {
  const greeting = el('p', 'greeting');
  const intro = el('div', 'intro');
  intro.append(greeting);
  const list = el('ol', 'list', undefined, { role: 'list' });
  const live = el('div', '', undefined, { role: 'log', 'aria-live': 'polite', 'aria-label': t.messages });
  live.append(list);
  const dots = el('span', 'dots', undefined, { 'aria-hidden': 'true' });
  dots.append(el('i'), el('i'), el('i'));
  const typingText = el('span', 'typing-text', undefined, { role: 'status' });
  const typingRow = el('div', 'typing');
  typingRow.hidden = true;
  typingRow.append(dots, typingText);
  const log = el('div', 'log');
  log.append(intro, live, typingRow);

  list.addEventListener('click', (e) => {
    const target = e.target instanceof Element ? e.target : null;
    const rate = target?.closest('[data-rate]');
    if (rate) {
      on.rate(rate.getAttribute('data-conversation') ?? '', rate.getAttribute('data-rate') ?? '');
      return;
    }
    const retry = target?.closest('[data-retry]');
    if (retry) on.retry(retry.getAttribute('data-retry') ?? '');
  });

  let rendered = new Set<string>();
  // Each file's link, kept across renders (every render rebuilds the list): a preview already
  // loaded is moved, not fetched and decoded again.
  let fileLinks = new Map<string, HTMLAnchorElement>();
  let shownLinks = new Map<string, HTMLAnchorElement>();

  function receiptLabel(receipt: Receipt | undefined, linkOnline: boolean): string {
    if (receipt === 'read') return t.read;
    if (receipt === 'sent') return t.sent;
    if (receipt === 'failed') return t.notDelivered;
    return linkOnline ? t.sending : t.waitingForConnection;
  }

  function message(row: Extract<Row, { type: 'message' }>, linkOnline: boolean): HTMLLIElement {
    const { item } = row;
    const cls = `msg ${item.own ? 'own' : 'them'}${row.first ? ' first' : ''}${row.last ? ' last' : ''}${rendered.has(item.key) ? '' : ' enter'}`;
    const li = el('li', cls, undefined, { 'data-key': item.key });
    if (item.receipt) li.setAttribute('data-state', item.receipt);
    if (!item.own && row.first) li.append(el('span', 'author', item.name || t.team));
    if (item.body.trim() || !item.files?.length) {
      const bubble = el('div', 'bubble');
      bubble.append(richText(item.body));
      li.append(bubble);
    }
    for (const a of item.files ?? []) {
      const link = fileLinks.get(a.id) ?? attachmentLink(a, base);
      shownLinks.set(a.id, link);
      li.append(link);
    }
    if (!row.meta) return li;
    const meta = el('span', 'meta', timeLabel(item.at, tag));
    if (row.receipt) {
      meta.append(el('span', 'receipt', ` · ${receiptLabel(item.receipt, linkOnline)}`));
      if (item.receipt === 'failed') meta.append(el('button', 'retry', t.retry, { type: 'button', 'data-retry': item.key }));
    }
    li.append(meta);
    return li;
  }

  return {
    log,
    nearBottom: () => log.scrollHeight - log.scrollTop - log.clientHeight < 80,
    scrollToEnd: () => {
      log.scrollTop = log.scrollHeight;
    },
    update(shown) {
      greeting.textContent = shown.greeting;
      const frag = document.createDocumentFragment();
      const seen = new Set<string>();
      for (const row of shown.rows) {
        if (row.type === 'day') frag.append(el('li', 'day', row.label));
        else if (row.type === 'system') frag.append(el('li', 'system', row.item.body));
        else if (row.type === 'rate') frag.append(rateRow(row.conversation, t));
        else {
          frag.append(message(row, shown.linkOnline));
          seen.add(row.item.key);
        }
      }
      rendered = seen;
      fileLinks = shownLinks;
      shownLinks = new Map();
      list.replaceChildren(frag);
      intro.hidden = shown.introHidden;
      typingRow.hidden = shown.typing === undefined;
      if (shown.typing !== undefined) typingText.textContent = shown.typing;
    },
  };
}
