/**
 * A message body as DOM, safely: the text is never parsed as HTML. inlines.ts reads markdown-lite
 * and links into a tree; this builds it with text nodes and a few elements (links open in a new tab,
 * `rel="noopener noreferrer nofollow"`).
 */
import { type Inline, inlines } from './inlines.js';

export function richText(body: string): DocumentFragment {
  const out = document.createDocumentFragment();
  for (const node of inlines(body)) out.append(build(node));
  return out;
}

function build(node: Inline): Node {
  switch (node.kind) {
    case 'text':
      return document.createTextNode(node.text);
    case 'code': {
      const code = document.createElement('code');
      code.textContent = node.text;
      return code;
    }
    case 'link': {
      const a = document.createElement('a');
      a.href = node.href;
      a.textContent = node.text;
      a.target = '_blank';
      a.rel = 'noopener noreferrer nofollow';
      return a;
    }
    default: {
      const el = document.createElement(node.kind === 'bold' ? 'strong' : 'em');
      for (const child of node.children) el.append(build(child));
      return el;
    }
  }
}
