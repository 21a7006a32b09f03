/**
 * A message body as DOM, safely: never HTML from the text. (First version: plain text; links and
 * markdown-lite follow.)
 */
export function richText(body: string): DocumentFragment {
  const out = document.createDocumentFragment();
  out.append(document.createTextNode(body));
  return out;
}
