/**
 * HTTP-date parsing (RFC 9110 §5.6.7): the preferred IMF-fixdate and the two obsolete formats a
 * recipient must still accept, rfc850-date and asctime-date. Anything else is rejected: `Date.parse`
 * is far too lenient (it takes "0", "2050", "UTC" zones), and an Expires it misreads makes a
 * response fresh that the origin meant as stale (RFC 9111 §5.3).
 */

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const LONG_DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

// Single spaces only, exact digit counts; names compare case-insensitively (a tolerant reading
// the cache test suite calls optimal: `THU`, `AUG`, `gMT`).
const IMF_FIXDATE = /^([a-z]{3}), (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
const RFC850_DATE = /^([a-z]{6,9}), (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
const ASCTIME_DATE = /^([a-z]{3}) ([a-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i;

/**
 * Milliseconds since the epoch for an HTTP-date (RFC 9110 §5.6.7), undefined for anything that is
 * not one. `reference` (ms) resolves the two-digit year of rfc850-date: a year more than 50 years
 * after the reference is read as the most recent past year with those digits, as §5.6.7 requires.
 */
export function parseHttpDate(value: string | undefined, reference: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  let m = IMF_FIXDATE.exec(text);
  if (m) {
    if (!DAYS.includes(m[1].toLowerCase())) return undefined;
    return build(Number(m[4]), m[3], m[2], m[5], m[6], m[7]);
  }
  m = RFC850_DATE.exec(text);
  if (m) {
    if (!LONG_DAYS.includes(m[1].toLowerCase())) return undefined;
    const refYear = new Date(reference).getUTCFullYear();
    let year = Math.floor(refYear / 100) * 100 + Number(m[4]);
    if (year > refYear + 50) year -= 100;
    else if (year <= refYear - 50) year += 100;
    return build(year, m[3], m[2], m[5], m[6], m[7]);
  }
  m = ASCTIME_DATE.exec(text);
  if (m) {
    if (!DAYS.includes(m[1].toLowerCase())) return undefined;
    return build(Number(m[7]), m[2], m[3].trim(), m[4], m[5], m[6]);
  }
  return undefined;
}

function build(year: number, monthName: string, day: string, hour: string, minute: string, second: string): number | undefined {
  const month = MONTHS.indexOf(monthName.toLowerCase());
  const d = Number(day);
  const h = Number(hour);
  const min = Number(minute);
  const s = Number(second);
  if (month === -1 || d < 1 || h > 23 || min > 59 || s > 60) return undefined;
  const time = Date.UTC(year, month, d, h, min, s === 60 ? 59 : s) + (s === 60 ? 1000 : 0);
  // Reject 31 Feb and the like instead of letting Date roll them into March.
  if (new Date(Date.UTC(year, month, d)).getUTCDate() !== d) return undefined;
  return time;
}
