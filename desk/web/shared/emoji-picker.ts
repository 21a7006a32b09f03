/**
 * The composers' emoji picker: a small grid of the emoji people use in support chats, written by
 * hand rather than a library (the full Unicode set with search is hundreds of KiB; the widget's
 * whole budget is 20). A button opens it; arrow keys move in the grid, Enter or a click inserts
 * (focus goes to the text, so typing goes on), Escape closes and gives focus back to the button. Labels come from the caller (the widget's
 * locale); styles from the page that shows it (class names `emoji-*`).
 */

export const EMOJI: readonly [string, string][] = [
  ['😀', 'grinning'],
  ['😊', 'smiling'],
  ['😂', 'laughing'],
  ['😉', 'winking'],
  ['😍', 'heart eyes'],
  ['🤔', 'thinking'],
  ['😅', 'relieved'],
  ['😢', 'crying'],
  ['😮', 'surprised'],
  ['😎', 'cool'],
  ['🙂', 'slight smile'],
  ['🙁', 'slight frown'],
  ['👍', 'thumbs up'],
  ['👎', 'thumbs down'],
  ['👏', 'clapping'],
  ['🙏', 'thank you'],
  ['👋', 'waving'],
  ['💪', 'strong'],
  ['❤️', 'heart'],
  ['🎉', 'party'],
  ['✅', 'done'],
  ['❌', 'no'],
  ['⚠️', 'warning'],
  ['❓', 'question'],
  ['🔥', 'fire'],
  ['⭐', 'star'],
  ['💡', 'idea'],
  ['📦', 'parcel'],
  ['🚚', 'delivery'],
  ['💳', 'card'],
  ['📎', 'attachment'],
  ['📷', 'photo'],
  ['⏰', 'alarm'],
  ['🛠️', 'fixing'],
  ['🐛', 'bug'],
  ['🚀', 'launch'],
];
const COLUMNS = 6;

export interface EmojiPicker {
  /** The button that opens and closes the grid. */
  button: HTMLButtonElement;
  /** The grid (hidden until opened): place it where it should float. */
  panel: HTMLElement;
  close(): void;
}

export function emojiPicker(labels: { open: string; grid: string }, insert: (emoji: string) => void): EmojiPicker {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'emoji-button';
  button.setAttribute('aria-label', labels.open);
  button.setAttribute('aria-expanded', 'false');
  button.textContent = '🙂';

  const panel = document.createElement('div');
  panel.className = 'emoji-panel';
  panel.setAttribute('role', 'grid');
  panel.setAttribute('aria-label', labels.grid);
  panel.hidden = true;
  const cells: HTMLButtonElement[] = [];
  for (let r = 0; r < EMOJI.length / COLUMNS; r++) {
    const row = document.createElement('div');
    row.setAttribute('role', 'row');
    row.className = 'emoji-row';
    for (const [emoji, name] of EMOJI.slice(r * COLUMNS, (r + 1) * COLUMNS)) {
      const cell = document.createElement('button');
      cell.type = 'button';
      cell.className = 'emoji-cell';
      cell.setAttribute('role', 'gridcell');
      cell.setAttribute('aria-label', name);
      cell.tabIndex = -1;
      cell.textContent = emoji;
      cell.addEventListener('click', () => {
        // Hidden first: the insert gives focus to the text, where typing goes on.
        hide();
        insert(emoji);
      });
      cells.push(cell);
      row.append(cell);
    }
    panel.append(row);
  }

  let at = 0;
  function focusCell(i: number): void {
    at = Math.max(0, Math.min(cells.length - 1, i));
    for (const [j, c] of cells.entries()) c.tabIndex = j === at ? 0 : -1;
    cells[at]!.focus();
  }
  function open(): void {
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    focusCell(at);
  }
  function hide(): void {
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
  }
  /** Closed without a pick (Escape, the button): focus back on the button. */
  function close(): void {
    if (panel.hidden) return;
    hide();
    button.focus();
  }

  button.addEventListener('click', () => (panel.hidden ? open() : close()));
  panel.addEventListener('keydown', (e) => {
    const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS, Home: -at, End: cells.length - 1 - at };
    if (e.key in moves) {
      e.preventDefault();
      focusCell(at + moves[e.key]!);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  });
  // A click or focus elsewhere closes it.
  panel.addEventListener('focusout', (e) => {
    const next = e.relatedTarget as Node | null;
    if (next !== button && !panel.contains(next)) hide();
  });
  return { button, panel, close };
}

/** Puts `text` at the caret of a textarea (replacing a selection) and tells its listeners. */
export function insertAtCaret(input: HTMLTextAreaElement, text: string): void {
  const start = input.selectionStart ?? input.value.length;
  const end = input.selectionEnd ?? start;
  input.setRangeText(text, start, end, 'end');
  input.dispatchEvent(new Event('input', { bubbles: true }));
  input.focus();
}
