/**
 * What the widget keeps across pages, per workspace: localStorage under `desk:<workspace>:`,
 * falling back to memory when the browser refuses it (private mode, full, blocked), so the page
 * still works; and whether the panel is open, per tab (sessionStorage).
 */

/** Every key the widget stores; the names are what earlier versions stored, so a visitor keeps them. */
export type StoredKey = 'session' | 'email' | 'messages' | 'lastSeq' | 'outbox' | 'operatorReadSeq' | 'visitorReadSeq';

export interface WidgetStorage {
  get(key: StoredKey): string | undefined;
  /** Undefined removes the key. */
  set(key: StoredKey, value: string | undefined): void;
  /** The parsed value, or undefined when absent or not JSON: the caller checks its shape. */
  getJSON(key: StoredKey): unknown;
  setJSON(key: StoredKey, value: unknown): void;
  /** Whether the panel was open in this tab. */
  wasOpen(): boolean;
  setOpen(open: boolean): void;
}

export function createStorage(workspace: string): WidgetStorage {
  const prefix = `desk:${workspace}:`;
  const memory = new Map<StoredKey, string | undefined>();

  function get(key: StoredKey): string | undefined {
    try {
      return window.localStorage.getItem(prefix + key) ?? undefined;
    } catch {
      return memory.get(key);
    }
  }

  function set(key: StoredKey, value: string | undefined): void {
    memory.set(key, value);
    try {
      if (value === undefined) window.localStorage.removeItem(prefix + key);
      else window.localStorage.setItem(prefix + key, value);
    } catch {
      /* private mode or full: the in-memory copy still works for this page */
    }
  }

  return {
    get,
    set,
    getJSON(key) {
      try {
        return JSON.parse(get(key) || 'null') ?? undefined;
      } catch {
        return undefined;
      }
    },
    setJSON(key, value) {
      set(key, value === undefined ? undefined : JSON.stringify(value));
    },
    wasOpen() {
      try {
        return window.sessionStorage.getItem(`${prefix}open`) === '1';
      } catch {
        return false;
      }
    },
    setOpen(open) {
      try {
        window.sessionStorage.setItem(`${prefix}open`, open ? '1' : '0');
      } catch {
        /* the panel just opens closed on the next page */
      }
    },
  };
}
