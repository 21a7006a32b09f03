/**
 * The widget's language: the first of the visitor's languages (navigator.languages, in their
 * order of preference) whose primary subtag we speak, else English. `tag` is that language as
 * the visitor gave it (en-GB, fr-CA…), for dates and times in their own regional style.
 */
import { de } from './de.js';
import { en } from './en.js';
import { fr } from './fr.js';
import type { Strings } from './strings.js';

const catalog = { en, fr, de } satisfies Record<string, Strings>;

export type Lang = keyof typeof catalog;

export interface Locale {
  lang: Lang;
  tag: string;
  t: Strings;
}

export function pickLocale(languages: readonly string[]): Locale {
  for (const tag of languages) {
    const primary = tag.split('-')[0]!.toLowerCase();
    const lang = (Object.keys(catalog) as Lang[]).find((l) => l === primary);
    if (lang) return { lang, tag, t: catalog[lang] };
  }
  return { lang: 'en', tag: 'en', t: en };
}
