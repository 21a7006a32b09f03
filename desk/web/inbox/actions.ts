/** What the views may ask of the inbox; the controller (session.ts) carries each one out. */
import type { Filter } from './conversations.js';

export interface InboxActions {
  setFilter(filter: Filter): void;
  /** Opens a conversation: the thread, its details, the composer focused. */
  select(id: string): void;
  /** To a teammate, or to nobody (null). */
  assign(id: string, operatorId: string | null): void;
  resolve(id: string): void;
  reopen(id: string): void;
  /** The whole new set of labels. */
  label(id: string, labels: string[]): void;
  /** Until then (ms), or awake now (null). */
  snooze(id: string, until: number | null): void;
}
