/**
 * The search box above the list: the words typed, asked 200 ms after the last key (GET
 * /api/search); an answer for words no longer in the box is dropped; Escape empties it. While it
 * has words the list shows the conversations found, each with the message that matched.
 */
import type { SearchResult } from './api.js';
import { byId } from './dom.js';

const DEBOUNCE = 200;

/** `find` asks the server; `onResults` gets the words and what they found, or undefined when the box is empty. */
export function setupSearch(find: (q: string) => Promise<SearchResult[]>, onResults: (q: string, results: SearchResult[] | undefined) => void): void {
  const input = byId<HTMLInputElement>('search');
  let timer: ReturnType<typeof setTimeout> | undefined;
  let asked = '';

  byId('search-form').addEventListener('submit', (e) => e.preventDefault());
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !input.value) return;
    e.preventDefault();
    clearTimeout(timer);
    input.value = '';
    run();
  });

  function run(): void {
    const q = input.value.trim();
    asked = q;
    if (!q) {
      onResults(q, undefined);
      return;
    }
    find(q)
      .then((results) => {
        if (asked === q) onResults(q, results);
      })
      .catch(() => {});
  }
}
