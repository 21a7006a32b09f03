/**
 * Entity tags (RFC 9110 §8.8.3): parsing and the two comparison functions of §8.8.3.2.
 */
import { splitList } from './field-list.js';

export interface EntityTag {
  weak: boolean;
  /** The opaque-tag including its quotes. */
  opaque: string;
}

/** One entity-tag (`"xyz"` or `W/"xyz"`); undefined when malformed. */
export function parseEntityTag(value: string | undefined): EntityTag | undefined {
  if (value === undefined) return undefined;
  const m = /^(W\/)?("[\x21\x23-\x7e\x80-\xff]*")$/.exec(value.trim());
  return m ? { weak: m[1] !== undefined, opaque: m[2] } : undefined;
}

/**
 * An If-Match / If-None-Match value: `'*'`, or the well-formed entity-tags of the list (malformed
 * members dropped, so a list of garbage matches nothing).
 */
export function parseEntityTagList(value: string): '*' | EntityTag[] {
  if (value.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  for (const member of splitList(value)) {
    const tag = parseEntityTag(member);
    if (tag) tags.push(tag);
  }
  return tags;
}

/** Strong comparison (§8.8.3.2): both strong and identical. */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}

/** Weak comparison (§8.8.3.2): identical opaque-tags, either or both may be weak. */
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}
