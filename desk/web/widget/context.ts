/**
 * The one typed context every part of the widget works on: its configuration and texts, its
 * storage and state, a way to send, and a way to show what changed.
 */
import type { Outgoing } from '../../src/protocol.js';
import type { WidgetConfig } from './config.js';
import type { Locale } from './locales/pick.js';
import type { WidgetState } from './state.js';
import type { WidgetStorage } from './storage.js';

export interface Widget {
  readonly config: WidgetConfig;
  readonly locale: Locale;
  readonly storage: WidgetStorage;
  readonly state: WidgetState;
  /** Sends when welcomed; false when not (the caller keeps what must not be lost). */
  send(ev: Outgoing): boolean;
  /** Welcomed on the current socket. */
  online(): boolean;
  /** Shows the state; `forceBottom` scrolls the thread to its end even when the visitor scrolled up. */
  render(forceBottom?: boolean): void;
  /** Only the launcher's badge and label (after a read mark). */
  renderBadge(): void;
  /** A passing line where the email address is shown (the answer to a transcript request), until the next render. */
  showEmailNote(text: string): void;
}
