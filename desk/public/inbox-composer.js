/**
 * The composer: Reply / Note tabs, Enter to send (Shift+Enter for a new line), a draft kept per
 * conversation, typing announcements for replies (never for notes), and the canned-response menu
 * that opens on "/" and inserts the chosen body in place of "/shortcut".
 */
import { h } from './inbox-dom.js';

const TYPING_EVERY = 3000;
const TYPING_IDLE = 2500;

/**
 * @param {{ state: import('./inbox-state.js').InboxState,
 *           onSend: (body: string, note: boolean) => void,
 *           onTyping: (conversationId: string, s: 'start'|'stop') => void }} opts
 */
export function setupComposer({ state, onSend, onTyping }) {
  const form = document.getElementById('composer');
  const input = document.getElementById('composer-input');
  const menu = document.getElementById('canned');
  const tabs = [...form.querySelectorAll('[role=tab]')];
  const drafts = new Map(); // conversation id → { text, mode }
  let mode = 'reply';
  let current = null;
  let matches = [], active = 0, tokenStart = -1;
  let typingSentAt = 0, typingIdle = 0, typingConv = null;

  for (const tab of tabs) tab.addEventListener('click', () => { setMode(tab.dataset.mode); input.focus(); });
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  input.addEventListener('keydown', (e) => {
    if (!menu.hidden) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        active = (active + (e.key === 'ArrowDown' ? 1 : -1) + matches.length) % matches.length;
        renderMenu();
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); pick(matches[active]); return; }
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closeMenu(); return; }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); submit(); }
  });
  input.addEventListener('input', () => { updateMenu(); typing(); saveDraft(); });
  input.addEventListener('click', updateMenu);
  input.addEventListener('blur', () => { setTimeout(closeMenu, 150); typingStop(); });

  function setMode(next) {
    if (next === mode) return;
    if (next === 'note') typingStop();
    mode = next;
    for (const tab of tabs) tab.setAttribute('aria-selected', String(tab.dataset.mode === mode));
    form.classList.toggle('is-note', mode === 'note');
    input.placeholder = mode === 'note' ? 'Write an internal note, only your team sees it…' : 'Reply to the visitor…  (/ for canned responses)';
    input.setAttribute('aria-label', mode === 'note' ? 'Internal note' : 'Reply');
    document.getElementById('composer-send').textContent = mode === 'note' ? 'Add note' : 'Send';
    saveDraft();
  }

  function submit() {
    const body = input.value.trim();
    if (!body || !current) return;
    closeMenu();
    typingStop();
    onSend(body, mode === 'note');
    input.value = '';
    drafts.delete(current);
  }

  function saveDraft() {
    if (!current) return;
    if (input.value) drafts.set(current, { text: input.value, mode }); else drafts.delete(current);
  }

  // ------------------------------------------------------------ typing (replies only)

  function typing() {
    if (mode !== 'reply' || !current) return;
    clearTimeout(typingIdle);
    if (!input.value.trim()) { typingStop(); return; }
    if (Date.now() - typingSentAt > TYPING_EVERY || typingConv !== current) {
      typingConv = current; typingSentAt = Date.now();
      onTyping(current, 'start');
    }
    typingIdle = setTimeout(typingStop, TYPING_IDLE);
  }
  function typingStop() {
    clearTimeout(typingIdle);
    if (!typingSentAt || !typingConv) return;
    onTyping(typingConv, 'stop');
    typingSentAt = 0; typingConv = null;
  }

  // ------------------------------------------------------------ canned responses

  /** The "/word" right before the caret, if the caret sits at its end. */
  function slashToken() {
    const upto = input.value.slice(0, input.selectionStart);
    const m = upto.match(/(^|\s)\/([\w-]*)$/);
    return m ? { start: upto.length - m[2].length - 1, query: m[2].toLowerCase() } : null;
  }

  function updateMenu() {
    const token = slashToken();
    if (!token || !state.canned.length) { closeMenu(); return; }
    tokenStart = token.start;
    matches = state.canned
      .filter((c) => c.shortcut.toLowerCase().includes(token.query) || c.body.toLowerCase().includes(token.query))
      .sort((a, b) => Number(!a.shortcut.toLowerCase().startsWith(token.query)) - Number(!b.shortcut.toLowerCase().startsWith(token.query)))
      .slice(0, 8);
    if (!matches.length) { closeMenu(); return; }
    active = Math.min(active, matches.length - 1);
    menu.hidden = false;
    // A textarea (role textbox) takes no aria-expanded: the open menu is named by aria-controls, its choice by aria-activedescendant.
    input.setAttribute('aria-controls', 'canned');
    renderMenu();
  }

  function renderMenu() {
    menu.replaceChildren(
      h('div', { class: 'canned-head' }, 'Canned responses', h('span', {}, '↑↓ to choose · Enter to insert · Esc to close')),
      ...matches.map((c, i) => h('div', {
        role: 'option', class: 'canned-item', id: `canned-${i}`, 'aria-selected': String(i === active),
        onmousedown: (e) => { e.preventDefault(); pick(c); },
        onmousemove: () => { if (active !== i) { active = i; renderMenu(); } },
      }, h('span', { class: 'canned-shortcut' }, `/${c.shortcut}`), h('span', { class: 'canned-body' }, c.body))));
    input.setAttribute('aria-activedescendant', `canned-${active}`);
  }

  function pick(c) {
    if (!c) return;
    const end = input.selectionStart;
    const body = fill(c.body);
    input.value = input.value.slice(0, tokenStart) + body + input.value.slice(end);
    const caret = tokenStart + body.length;
    input.setSelectionRange(caret, caret);
    closeMenu();
    saveDraft();
    input.focus();
  }

  /** Fills {{name}} / {{email}} / {{agent}} placeholders when a canned body uses them. */
  function fill(body) {
    const c = state.conversations.get(current);
    const name = c?.visitor.name ? c.visitor.name.split(/\s+/)[0] : 'there';
    return body
      .replace(/\{\{\s*(visitor\.)?(first_?name|name)\s*\}\}/gi, name)
      .replace(/\{\{\s*(visitor\.)?email\s*\}\}/gi, c?.visitor.email || '')
      .replace(/\{\{\s*(agent|operator)(\.name)?\s*\}\}/gi, state.me?.name?.split(/\s+/)[0] || '');
  }

  function closeMenu() {
    menu.hidden = true; matches = []; active = 0;
    input.removeAttribute('aria-activedescendant');
    input.removeAttribute('aria-controls');
  }

  return {
    /** Switches to another conversation, keeping each one's draft. */
    show(conversationId) {
      if (current === conversationId) return;
      typingStop();
      saveDraft();
      current = conversationId;
      const draft = drafts.get(conversationId);
      input.value = draft?.text || '';
      setMode(draft?.mode || 'reply');
      closeMenu();
    },
    focus() { input.focus(); },
  };
}
