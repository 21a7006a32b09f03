/**
 * Field-value plumbing shared by the policy files: one value per field name, and list splitting
 * that respects quoted strings (RFC 9110 §5.6.1 lists, §5.6.4 quoted-string).
 */

/** Request headers as Node gives them (lowercase names), or response headers already joined. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

/**
 * The value of one field: repeated field lines are combined with ", " as RFC 9110 §5.3 allows
 * for list-based fields. Undefined when the field is absent.
 */
export function fieldValue(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The members of a comma-separated list (RFC 9110 §5.6.1): commas inside quoted strings do not
 * split, members are trimmed of OWS, and empty members are dropped as recipients must.
 */
export function splitList(value: string): string[] {
  const members: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      members.push(value.slice(start, i));
      start = i + 1;
    }
  }
  members.push(value.slice(start));
  return members.map((m) => m.trim()).filter((m) => m !== '');
}
