/**
 * YAML aliases checked before a document becomes data. An alias (`*name`) repeats the node its
 * anchor (`&name`) marks, and aliases of aliases multiply: nine lines of a "billion laughs" file
 * expand to 9^9 values. The yaml library refuses such a file by throwing from `toJS()`, with no
 * position; here the same cases become ordinary config errors with the line of the alias, so a
 * bad save is refused like any other and a reload keeps the running config.
 */
import { isAlias, isMap, isPair, isSeq, type Document, type Node } from 'yaml';

/**
 * Values aliases may add to a file beyond what is written in it. A config that shares a monitor
 * or an origin list through anchors adds hundreds; an expansion bomb adds billions.
 */
export const MAX_ALIAS_EXPANSION = 100_000;

export interface AliasProblem {
  /** Offset of the alias in the text. */
  offset: number;
  message: string;
}

/** The first alias problem of the document (unknown anchor, an alias inside its own anchor, or too large an expansion), if any. */
export function checkAliases(doc: Document): AliasProblem | undefined {
  // Anchors as seen so far in document order: an alias refers to the last one before it.
  const anchors = new Map<string, Node>();
  const sizes = new Map<Node, number>();
  const open = new Set<Node>();
  let expanded = 0;
  let problem: AliasProblem | undefined;

  /** Values `node` stands for once every alias in it is expanded (each node of the text is walked once). */
  const size = (node: unknown): number => {
    if (problem || node === null || node === undefined) return 0;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      const offset = node.range?.[0] ?? 0;
      if (!target) {
        problem = { offset, message: `YAML: alias *${node.source} has no anchor &${node.source} before it` };
        return 0;
      }
      if (open.has(target)) {
        problem = { offset, message: `YAML: alias *${node.source} is inside its own anchor (a loop)` };
        return 0;
      }
      const n = sizes.get(target) ?? 0;
      expanded += n;
      if (expanded > MAX_ALIAS_EXPANSION) {
        problem = { offset, message: `YAML: aliases expand this file by more than ${MAX_ALIAS_EXPANSION} values (an alias bomb?); write the values out or use fewer aliases` };
      }
      return n;
    }
    const n = node as Node;
    if (n.anchor) anchors.set(n.anchor, n);
    open.add(n);
    let total = 1;
    if (isMap(n) || isSeq(n)) {
      for (const item of n.items) {
        if (isPair(item)) total += size(item.key) + size(item.value);
        else total += size(item);
        if (problem) break;
      }
    }
    open.delete(n);
    sizes.set(n, total);
    return total;
  };

  size(doc.contents);
  return problem;
}
