/** Building the widget's DOM: an element with its class, text and attributes, and an SVG icon. */

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = '', text?: string, attrs?: Record<string, string>): HTMLElementTagNameMap[K] {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined) n.textContent = text;
  if (attrs) for (const [name, value] of Object.entries(attrs)) n.setAttribute(name, value);
  return n;
}

const SVG = 'http://www.w3.org/2000/svg';

/** A 24×24 icon of one path, hidden from screen readers (the button around it has the label). */
export function icon(cls: string, d: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  if (cls) svg.setAttribute('class', cls);
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

/** The chat bubble of the closed launcher. */
export const chatIcon = () => icon('i-chat', 'M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 3.6c-.5.4-1.3.1-1.3-.6V16A2.5 2.5 0 0 1 4 13.5z');
/** The chevron that closes: on the open launcher and in the header. */
export const downIcon = () => icon('i-down', 'M6 9l6 6 6-6');
/** Line icons (class i-line: stroked, not filled): the paperclip, a file, the × that removes. */
export const clipIcon = () => icon('i-line', 'm21 11-9 9a6 6 0 0 1-8.5-8.5L12 3a4 4 0 1 1 5.7 5.7L9.2 17.2a2 2 0 0 1-2.8-2.8L14.5 6.3');
export const fileIcon = () => icon('i-line', 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zm0 0v6h6');
export const removeIcon = () => icon('i-line', 'M18 6 6 18M6 6l12 12');
/** The paper plane of the send button. */
export const sendIcon = () => icon('', 'M4.4 11.2 18.9 4.3c.8-.4 1.6.4 1.2 1.2l-6.9 14.5c-.4.8-1.5.7-1.8-.1l-1.7-5.2a1 1 0 0 0-.6-.6l-5.2-1.7c-.8-.3-.9-1.4-.1-1.8z');
