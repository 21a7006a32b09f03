/**
 * What the host page's script tag says (desk/README.md):
 *
 *   <script src="https://desk.example/widget.js" data-workspace="w_demo" async></script>
 *
 * with optional data-color (the accent, any CSS colour), data-title (the header's title until the
 * server names the workspace), data-greeting and data-away-greeting (the first line the visitor
 * reads, while someone is online and while nobody is), data-theme (light, dark, or auto: the
 * visitor's system setting, followed live; the default).
 */

export type Theme = 'light' | 'dark' | 'auto';

export interface WidgetConfig {
  workspace: string;
  /** The Desk this script came from: https://desk.example, or …/some/prefix. */
  base: string;
  /** The realtime endpoint. The workspace rides on the upgrade too, so a site outside its allow list is refused there (403). */
  wsUrl: string;
  accent: string;
  theme: Theme;
  /** Overrides of the locale's texts, when the page gives them. */
  title?: string;
  greeting?: string;
  awayGreeting?: string;
}

const DEFAULT_ACCENT = '#4f46e5';

/** The configuration of this script tag, or undefined without a workspace. */
export function readConfig(script: HTMLScriptElement): WidgetConfig | undefined {
  const attr = (name: string) => script.getAttribute(`data-${name}`) || undefined;
  const workspace = attr('workspace');
  if (!workspace) return undefined;
  const base = new URL('.', script.src).href.replace(/\/$/, '');
  return {
    workspace,
    base,
    wsUrl: `${base.replace(/^http/, 'ws')}/ws?workspace=${encodeURIComponent(workspace)}`,
    accent: cssColor(attr('color')) || DEFAULT_ACCENT,
    theme: themeOf(attr('theme')),
    title: attr('title'),
    greeting: attr('greeting'),
    awayGreeting: attr('away-greeting'),
  };
}

/** A value that is not a colour (or an injection attempt) is ignored. */
function cssColor(value: string | undefined): string {
  return value && window.CSS && CSS.supports('color', value) ? value : '';
}

/** Absent means auto; a value we do not know is light, as it always was. */
function themeOf(value: string | undefined): Theme {
  if (value === undefined || value === 'auto') return 'auto';
  return value === 'dark' ? 'dark' : 'light';
}
