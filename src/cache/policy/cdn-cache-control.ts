/**
 * CDN-Cache-Control (RFC 9213): the same directives as Cache-Control, aimed at CDNs only, written as
 * a Structured Field Dictionary (RFC 8941). When present and valid it replaces Cache-Control for the
 * cache's own decisions (RFC 9213 §2.1); the fill decision (storable.ts) makes that choice.
 */
import { applyDirective, emptyDirectives, type DirectiveArgument, type Directives } from './directives.js';
import { parseDictionary, type DictionaryValue } from './structured-dictionary.js';

const NUMERIC = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error', 'max-stale', 'min-fresh']);

/**
 * Parses CDN-Cache-Control (RFC 9213 §2). Undefined, meaning "ignore the field" (§2.1), when the
 * value is not a valid Dictionary (RFC 8941 §4.2.2: keys are lowercase, so `Max-Age=60` fails) or
 * when a directive that takes seconds carries another type (`max-age="60"`, `max-age=1.5`,
 * `max-age=-1`): a field whose meaning we cannot read must not steer caching. Integers past 2^31
 * clamp to 2147483648 as in RFC 9111 §1.2.2. A boolean `?0` value means the directive is absent.
 * An empty field is treated as absent.
 */
export function parseCdnCacheControl(value: string | string[] | undefined): Directives | undefined {
  const text = Array.isArray(value) ? value.filter((v) => v.trim() !== '').join(', ') : value;
  // An empty Dictionary is the field left out (RFC 8941 §3.2): it must not silence Cache-Control.
  if (text === undefined || text.trim() === '') return undefined;
  const dict = parseDictionary(text);
  if (dict === undefined) return undefined;
  const d = emptyDirectives();
  const seen = new Map<string, DirectiveArgument>();
  for (const [name, member] of dict) {
    if (NUMERIC.has(name)) {
      if (member.type === 'boolean' && member.value && name === 'max-stale') {
        applyDirective(d, name, undefined, seen);
        continue;
      }
      if (member.type !== 'integer' || member.value < 0) return undefined;
      applyDirective(d, name, String(member.value), seen);
      continue;
    }
    if (member.type === 'boolean' && !member.value) continue;
    applyDirective(d, name, fieldNames(member), seen);
  }
  return d;
}

/** The argument of `private` / `no-cache`: a String of field names, or an Inner List of them. */
function fieldNames(member: DictionaryValue): DirectiveArgument {
  if (member.type === 'string' || member.type === 'token') return member.value;
  if (member.type === 'inner-list') return member.items.map((item) => String(item.value)).join(',');
  return undefined;
}
