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
/** The paper plane of the send button. */
export const sendIcon = () => icon('', 'M4.4 11.2 18.9 4.3c.8-.4 1.6.4 1.2 1.2l-6.9 14.5c-.4.8-1.5.7-1.8-.1l-1.7-5.2a1 1 0 0 0-.6-.6l-5.2-1.7c-.8-.3-.9-1.4-.1-1.8z');
