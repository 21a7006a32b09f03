/** Times and day lines of the thread, in the visitor's language (its regional style: en-GB, fr-CA…). */

export function timeLabel(t: number, tag: string): string {
  return new Date(t).toLocaleTimeString(tag, { hour: 'numeric', minute: '2-digit' });
}

/** "Today", "Yesterday", else the short date ("Mon, Dec 8"). */
export function dayLabel(t: number, tag: string, words: { today: string; yesterday: string }, now = new Date()): string {
  const d = new Date(t);
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (d.toDateString() === now.toDateString()) return words.today;
  if (d.toDateString() === yesterday.toDateString()) return words.yesterday;
  return d.toLocaleDateString(tag, { weekday: 'short', month: 'short', day: 'numeric' });
}
