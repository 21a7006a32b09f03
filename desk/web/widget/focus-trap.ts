/**
 * While the open panel covers a phone's screen (max-width: 480px, widget.css), Tab and Shift+Tab
 * stay inside it, as in a dialog.
 */

const FOCUSABLE = 'button, [href], input, textarea, select, [tabindex]:not([tabindex="-1"])';

export function coversScreen(): boolean {
  return !!window.matchMedia && window.matchMedia('(max-width: 480px)').matches;
}

/** On a Tab keydown: wraps focus from the last focusable element to the first, and back. */
export function trapFocus(e: KeyboardEvent, panel: HTMLElement, shadow: ShadowRoot): void {
  const focusable = [...panel.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((n) => !(n as HTMLButtonElement).disabled && n.getClientRects().length > 0);
  if (!focusable.length) return;
  const first = focusable[0]!;
  const last = focusable[focusable.length - 1]!;
  const active = shadow.activeElement;
  const inside = !!active && panel.contains(active);
  if (e.shiftKey && (active === first || !inside)) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (active === last || !inside)) {
    e.preventDefault();
    first.focus();
  }
}
