/**
 * The widget speaks the visitor's language, in Chromium against a real Desk node (as
 * browser.test.ts): the first of the browser's languages it knows (French, German, English), else
 * English; the page's data-greeting still wins over the locale's; the shadow root's content says
 * its language (`lang`), for screen readers and hyphenation.
 *
 * Page-side checks are strings: the test typecheck has no DOM lib.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import pino from 'pino';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { seedDemo } from '../src/seed.js';
import { openStore } from '../src/store/open.js';
import type { DeskStore } from '../src/store/types.js';
import { login, operator } from './support/desk-client.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PUBLIC = fileURLToPath(new URL('../dist/public', import.meta.url));

let store: DeskStore;
let node: DeskNode;
let browser: Browser;
let base: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  store = await openStore('sqlite::memory:');
  await seedDemo(store);
  node = await startDeskNode({ port: 0, store, nodeId: 'widget-locale', publicDir: PUBLIC, log: pino({ level: 'silent' }) });
  base = `http://127.0.0.1:${node.port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await node?.close();
  await store?.close();
});

const lang = "document.querySelector('[data-desk-widget]').shadowRoot.querySelector('.dk').getAttribute('lang')";

/**
 * The demo shop in a browser set to `locale` (or, with `languages`, a visitor who set several in
 * order: Chromium takes one locale, so the list is given to the page as navigator.languages), welcomed.
 */
async function shopIn(locale: string, languages?: string[]): Promise<Page> {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
  if (languages) await context.addInitScript(`Object.defineProperty(navigator, 'languages', { get: () => ${JSON.stringify(languages)} })`);
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.locator('.launcher').waitFor();
  await page.waitForFunction("localStorage.getItem('desk:w_demo:session') !== null");
  return page;
}

describe('the widget in the visitor’s language', () => {
  for (const { locale, lang: expected, launcher, placeholder, away, greeting, send } of [
    { locale: 'fr-FR', lang: 'fr', launcher: 'Ouvrir la discussion', placeholder: 'Écrivez un message…', away: 'Nous sommes absents', greeting: 'Bonjour', send: 'Envoyer le message' },
    { locale: 'de-DE', lang: 'de', launcher: 'Chat öffnen', placeholder: 'Nachricht schreiben…', away: 'Wir sind gerade nicht da', greeting: 'Hallo!', send: 'Nachricht senden' },
    { locale: 'en-US', lang: 'en', launcher: 'Open chat', placeholder: 'Write a message…', away: "We're away", greeting: 'Hi there!', send: 'Send message' },
  ]) {
    it(`${locale}: the launcher, the composer, the status and the greeting`, async () => {
      const page = await shopIn(locale);
      expect(await page.evaluate(lang)).toBe(expected);
      expect(await page.locator('.launcher').getAttribute('aria-label')).toBe(launcher);
      await page.locator('.launcher').click();
      const textarea = page.locator('.panel textarea');
      await textarea.waitFor();
      expect(await textarea.getAttribute('placeholder')).toBe(placeholder);
      expect(await page.locator('.send').getAttribute('aria-label')).toBe(send);
      await page.locator('.status-text', { hasText: away }).waitFor();
      expect(await page.locator('.greeting').textContent()).toContain(greeting);
      // A message and its receipt, in the same language.
      await textarea.fill('Bonjour / Hallo / Hello');
      await textarea.press('Enter');
      const sent = page.locator('.msg.own[data-state="sent"] .receipt');
      await sent.waitFor();
      expect(await sent.textContent()).toContain({ fr: 'Envoyé', de: 'Gesendet', en: 'Sent' }[expected]);
      await page.context().close();
    }, 60_000);
  }

  it('takes the first language it knows among the browser’s, else English', async () => {
    const spanishThenGerman = await shopIn('es-ES', ['es-ES', 'es', 'de-AT', 'fr']);
    expect(await spanishThenGerman.evaluate(lang)).toBe('de');
    expect(await spanishThenGerman.locator('.launcher').getAttribute('aria-label')).toBe('Chat öffnen');
    await spanishThenGerman.context().close();
    const spanish = await shopIn('es-ES');
    expect(await spanish.evaluate(lang)).toBe('en');
    expect(await spanish.locator('.launcher').getAttribute('aria-label')).toBe('Open chat');
    await spanish.context().close();
  }, 60_000);

  it('keeps the greeting a host site gives, whatever the language', async () => {
    // Another site (its own origin) with the widget's tag and data-greeting, as a customer embeds it.
    const site = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><html lang="fr"><title>Boutique</title><script src="${base}/widget.js" data-workspace="w_demo" data-greeting="Salut, une question ?" async></script>`);
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    const ada = await operator(base, await login(base)); // someone online: the greeting, not the away line
    const context = await browser.newContext({ locale: 'fr-FR' });
    try {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
      await page.locator('.launcher').click();
      await page.locator('.status-text', { hasText: 'Nous sommes en ligne' }).waitFor();
      expect(await page.locator('.greeting').textContent()).toBe('Salut, une question ?');
      expect(await page.locator('.panel textarea').getAttribute('placeholder')).toBe('Écrivez un message…');
    } finally {
      await context.close();
      await ada.client.close();
      site.close();
    }
  }, 60_000);
});
