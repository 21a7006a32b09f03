/**
 * The widget's DOM, built once: a host element on <html> whose inline style resets what the page
 * could cascade into it, an open shadow root with widget.css, and in it the panel (header,
 * connection strip, thread, email, composer, brand line) and the launcher. The parts are
 * created by their own modules; this one assembles them in the order they show.
 */
import type { WidgetConfig } from './config.js';
import { createComposer, type ComposerHandlers, type ComposerView } from './composer.js';
import { type ConnStrip, createConnStrip } from './conn-strip.js';
import { el } from './dom.js';
import { createEmail, type EmailHandlers, type EmailView } from './email.js';
import { createHeader, type HeaderView } from './header.js';
import { createLauncher, type LauncherView } from './launcher.js';
import type { Locale } from './locales/pick.js';
import { applyTheme } from './theme.js';
import { createThreadView, type ThreadHandlers, type ThreadView } from './thread-view.js';
import css from './widget.css';

export interface View {
  shadow: ShadowRoot;
  /** `.dk`: carries the state classes (is-open, is-available, is-down, theme-dark) and `lang`. */
  root: HTMLDivElement;
  panel: HTMLElement;
  header: HeaderView;
  strip: ConnStrip;
  thread: ThreadView;
  email: EmailView;
  composer: ComposerView;
  launcher: LauncherView;
}

export interface ViewHandlers {
  toggle(): void;
  close(): void;
  keydown(e: KeyboardEvent): void;
  composer: ComposerHandlers;
  email: EmailHandlers;
  thread: ThreadHandlers;
}

// Inline !important beats any page rule aimed at the host; `all: initial` stops inherited fonts,
// colours and line heights at the shadow boundary.
const HOST_STYLE =
  'all: initial !important; position: fixed !important; z-index: 2147483000 !important; inset: auto 0 0 auto !important; width: 0 !important; height: 0 !important; display: block !important;';

export function mountView(config: WidgetConfig, locale: Locale, on: ViewHandlers): View {
  const { t } = locale;
  const header = createHeader(t, on.close);
  const strip = createConnStrip(t);
  const thread = createThreadView(t, locale.tag, config.base, on.thread);
  const email = createEmail(t, on.email);
  const composer = createComposer(t, config.base, on.composer);
  const brand = el('p', 'brand');
  brand.append(email.ask, ` ${t.poweredBy} `, el('b', '', 'Desk'));
  const panel = el('section', 'panel', undefined, { id: 'dk-panel', role: 'dialog', 'aria-labelledby': 'dk-title', 'aria-hidden': 'true' });
  panel.append(header.head, strip.strip, thread.log, email.form, email.done, composer.form, brand);
  const launcher = createLauncher(t, on.toggle);

  const root = el('div', 'dk', undefined, { lang: locale.lang });
  root.style.setProperty('--dk-accent', config.accent);
  root.append(panel, launcher.button);
  root.addEventListener('keydown', on.keydown);
  applyTheme(root, config.theme);

  const host = el('div', '', undefined, { 'data-desk-widget': config.workspace, style: HOST_STYLE });
  const shadow = host.attachShadow({ mode: 'open' });
  shadow.append(el('style', '', css), root);
  // On <html>, not <body>: a page that transforms its body would otherwise become the containing
  // block of our position: fixed elements and drag the launcher off the corner.
  document.documentElement.appendChild(host);

  return { shadow, root, panel, header, strip, thread, email, composer, launcher };
}
