/**
 * Desk in a real browser: headless Chromium (Debian's, driven by playwright-core) against a real
 * Desk node on port 0 (in-memory SQLite, the demo seed). A visitor on the demo shop page talks to
 * an operator in the inbox: messages both ways, typing indicators, read receipts, a note the
 * visitor never sees; then the visitor's network drops, they type while offline, and when it
 * comes back the message arrives exactly once and the reply sent meanwhile reaches them.
 *
 * Page-side checks are strings: the test typecheck has no DOM lib. Set SCREENSHOT_DIR to keep
 * screenshots of the widget and the inbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import pino from 'pino';
import { startDeskNode, type DeskNode } from '../src/server/node.js';
import { DEMO_IDENTITY_SECRET, seedDemo } from '../src/seed.js';
import { openStore } from '../src/store/open.js';
import type { DeskStore } from '../src/store/types.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PUBLIC = fileURLToPath(new URL('../dist/public', import.meta.url));
const SHOTS = process.env.SCREENSHOT_DIR;

let store: DeskStore;
let node: DeskNode;
let browser: Browser;
let base: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  store = await openStore('sqlite::memory:');
  await seedDemo(store);
  node = await startDeskNode({ port: 0, store, nodeId: 'browser-test', publicDir: PUBLIC, log: pino({ level: 'silent' }) });
  base = `http://127.0.0.1:${node.port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await node?.close();
  await store?.close();
});

interface Side {
  context: BrowserContext;
  page: Page;
}

/** Console lines where Chromium reports a Content-Security-Policy violation, of every page opened. */
const cspViolations: string[] = [];
function watchCsp(page: Page): void {
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(`${page.url()}: ${m.text()}`);
  });
}

/** The demo shop with the widget, panel open. */
async function openVisitor(): Promise<Side> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  watchCsp(page);
  await page.goto(`${base}/`);
  // Playwright's CSS locators pierce the widget's (open) shadow root.
  await page.locator('.launcher').waitFor();
  await page.waitForFunction("localStorage.getItem('desk:w_demo:session') !== null"); // welcomed
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'widget-closed.png') });
  await page.locator('.launcher').click();
  await page.locator('.panel textarea').waitFor();
  return { context, page };
}

/** The inbox, signed in. */
async function openOperator(email: string): Promise<Side> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 860 } });
  const page = await context.newPage();
  watchCsp(page);
  await page.goto(`${base}/inbox.html`);
  await page.locator('#signin-email').fill(email);
  await page.locator('#signin-password').fill('demo-password');
  await page.locator('#signin-submit').click();
  await page.locator('.filter[data-filter="open"]').waitFor();
  return { context, page };
}

async function visitorSays(v: Side, text: string): Promise<void> {
  await v.page.locator('.panel textarea').fill(text);
  await v.page.locator('.panel textarea').press('Enter');
}

async function operatorSays(o: Side, text: string): Promise<void> {
  await o.page.locator('#composer-input').fill(text);
  await o.page.locator('#composer-input').press('Enter');
}

const outbox = (v: Side) => v.page.evaluate("localStorage.getItem('desk:w_demo:outbox')") as Promise<string | null>;

describe('the widget and the inbox, in Chromium', () => {
  let visitor: Side;
  let operator: Side;
  let conversationId: string;

  it('a visitor and an operator exchange messages both ways, with typing and read receipts', async () => {
    visitor = await openVisitor();
    await visitorSays(visitor, 'Hi! Is the Daypack 18L waterproof?');
    // Stored and acknowledged: "sending" became "sent".
    await visitor.page.locator('.msg.own[data-state="sent"]', { hasText: 'Daypack 18L' }).waitFor();

    operator = await openOperator('ada@acme.test');
    await operator.page.locator('.conv', { hasText: 'Daypack 18L' }).click();
    await operator.page.locator('.msg.in', { hasText: 'Daypack 18L' }).waitFor();
    conversationId = decodeURIComponent(new URL(operator.page.url()).hash.slice(1));
    expect(conversationId).toMatch(/\S/);

    // The operator opened it: the visitor's message turns "Read".
    const read = visitor.page.locator('.msg.own[data-state="read"]', { hasText: 'Daypack 18L' });
    await read.waitFor();
    expect(await read.locator('.receipt').textContent()).toContain('Read');

    // The visitor types: the operator sees it, in the thread and in the list.
    await visitor.page.locator('.panel textarea').fill('And does it fit a 15" laptop');
    await operator.page.locator('.typing-row', { hasText: 'is typing' }).waitFor();
    await operator.page.locator('.conv .typing').waitFor();
    await visitor.page.locator('.panel textarea').press('Enter');
    await operator.page.locator('.msg.in', { hasText: '15" laptop' }).waitFor();
    await operator.page.locator('.typing-row').waitFor({ state: 'detached' });

    // The operator types: the visitor sees "Ada is typing…"; then the reply arrives.
    await operator.page.locator('#composer-input').fill('Yes to both: taped seams and a padded sleeve for laptops up to 16".');
    const typing = visitor.page.locator('.typing:not([hidden])');
    await typing.waitFor();
    expect(await typing.textContent()).toContain('Ada is typing…');
    await operator.page.locator('#composer-input').press('Enter');
    await visitor.page.locator('.msg.them', { hasText: 'padded sleeve' }).waitFor();
    await typing.waitFor({ state: 'hidden' });

    // The visitor's panel is open and visible: the operator's reply shows "Seen".
    await operator.page.locator('.msg.out', { hasText: 'padded sleeve' }).locator('.receipt.seen').waitFor();

    // A note stays with the team: the reply sent after it reaches the visitor, the note does not.
    await operator.page.locator('[role="tab"][data-mode="note"]').click();
    await operatorSays(operator, 'Internal: suggest the rain cover if they ask again.');
    await operator.page.locator('.msg.note', { hasText: 'rain cover' }).waitFor();
    await operator.page.locator('[role="tab"][data-mode="reply"]').click();
    await operatorSays(operator, 'Anything else I can help with?');
    await visitor.page.locator('.msg.them', { hasText: 'Anything else' }).waitFor();
    expect(await visitor.page.locator('.msg', { hasText: 'rain cover' }).count()).toBe(0);

    if (SHOTS) {
      await visitor.page.screenshot({ path: join(SHOTS, 'widget-open.png') });
      await operator.page.screenshot({ path: join(SHOTS, 'inbox.png') });
    }
  }, 90_000);

  it('the visitor goes offline, types, comes back: the message arrives once and the reply sent meanwhile reaches them', async () => {
    expect(conversationId, 'needs the first test').toBeTruthy();
    await visitor.context.setOffline(true);
    await visitor.page.locator('.conn:not([hidden])', { hasText: 'offline' }).waitFor();

    const typedOffline = 'Typed offline: do you ship to Austria?';
    await visitorSays(visitor, typedOffline);
    await visitor.page.locator('.msg.own[data-state="sending"]', { hasText: 'Austria' }).waitFor();
    expect(await outbox(visitor)).toContain(typedOffline);

    // Meanwhile the operator writes; the visitor cannot get it yet.
    await operatorSays(operator, 'By the way, your order ships today.');
    await operator.page.locator('.msg.out[data-state="stored"]', { hasText: 'ships today' }).waitFor();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await operator.page.locator('.msg.in', { hasText: 'Austria' }).count()).toBe(0);
    expect(await visitor.page.locator('.msg.them', { hasText: 'ships today' }).count()).toBe(0);

    await visitor.context.setOffline(false);
    // Back: the outbox is re-sent (same clientId), the missed reply comes with the welcome.
    await visitor.page.locator('.msg.them', { hasText: 'ships today' }).waitFor({ timeout: 20_000 });
    await visitor.page.locator('.msg.own:not([data-state="sending"])', { hasText: 'Austria' }).waitFor({ timeout: 20_000 });
    await operator.page.locator('.msg.in', { hasText: 'Austria' }).waitFor();
    await visitor.page.locator('.conn').waitFor({ state: 'hidden' });
    expect(await outbox(visitor)).toBeNull();

    // Exactly once, on screen and in the database.
    expect(await operator.page.locator('.msg.in', { hasText: 'Austria' }).count()).toBe(1);
    expect(await visitor.page.locator('.msg.own', { hasText: 'Austria' }).count()).toBe(1);
    const stored = await store.messagesAfter(conversationId, 0);
    expect(stored.filter((m) => m.body === typedOffline)).toHaveLength(1);
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));

    await visitor.context.close();
    await operator.context.close();
  }, 90_000);

  it('both pages carry a Content-Security-Policy, work under it, and the host page opens the chat from a data-desk-open link', async () => {
    const inbox = await fetch(`${base}/inbox.html`);
    expect(inbox.headers.get('content-security-policy')).toMatch(/script-src 'self';.*frame-ancestors 'none'/);
    expect((await fetch(`${base}/`)).headers.get('content-security-policy')).toContain("script-src 'self';");
    const v = await openVisitor();
    await v.page.locator('.launcher').click(); // closed again
    await v.page.locator('.panel textarea').waitFor({ state: 'hidden' });
    await v.page.locator('a[data-desk-open]').click();
    await v.page.locator('.panel textarea').waitFor();
    const o = await openOperator('grace@acme.test');
    // Nothing either page does itself is refused (both tests so far, every page opened).
    expect(cspViolations).toEqual([]);
    // An inline handler injected into the inbox does not run, and Chromium says why.
    await o.page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=\"window.__injected = 1\">')");
    await new Promise((r) => setTimeout(r, 300));
    expect(await o.page.evaluate('window.__injected === undefined')).toBe(true);
    expect(cspViolations.some((l) => l.includes('/inbox.html'))).toBe(true);
    await v.context.close();
    await o.context.close();
  }, 60_000);
});

describe('an answer is never lost from the visitor’s view', () => {
  it('the visitor writes and closes the tab; the operator answers and resolves; back, the answer is there with a badge, in its resolved thread', async () => {
    const visitor = await openVisitor();
    const question = 'Do the Trail Runners come in size 47?';
    await visitorSays(visitor, question);
    await visitor.page.locator('.msg.own[data-state="sent"]', { hasText: 'size 47' }).waitFor();
    await visitor.page.close(); // the tab; the browser keeps its storage

    const operator = await openOperator('ada@acme.test');
    await operator.page.locator('.conv', { hasText: 'size 47' }).click();
    await operator.page.locator('.msg.in', { hasText: 'size 47' }).waitFor();
    const conversation = decodeURIComponent(new URL(operator.page.url()).hash.slice(1));
    await operatorSays(operator, 'Yes, size 47 is in stock in both colours.');
    await operator.page.locator('.msg.out[data-state="stored"]', { hasText: 'in stock' }).waitFor();
    await operator.page.locator('[data-action="resolve"]').click();
    await expect.poll(async () => (await store.getConversation(conversation))?.state).toBe('resolved');

    // Back on the shop in a new tab: the panel is closed, the launcher says one unread answer.
    const page = await visitor.context.newPage();
    await page.goto(`${base}/`);
    const badge = page.locator('.badge:not([hidden])');
    await badge.waitFor();
    expect(await badge.textContent()).toBe('1');
    expect(await page.locator('.launcher').getAttribute('aria-label')).toBe('Open chat, 1 unread message');
    await page.locator('.launcher').click();
    // The earlier thread, question and answer, above the new conversation, marked resolved.
    await page.locator('.msg.them', { hasText: 'in stock' }).waitFor();
    await page.locator('.msg.own', { hasText: 'size 47' }).waitFor();
    await page.locator('.system', { hasText: 'Conversation resolved' }).waitFor();
    await badge.waitFor({ state: 'detached', timeout: 1000 }).catch(() => {});
    expect(await page.locator('.badge').isHidden()).toBe(true);
    // Read on the server: the next visit has no badge, the thread is still there.
    await expect.poll(async () => (await store.getConversation(conversation))?.visitorReadSeq).toBe(2);
    // Another new tab (its panel closed, as the last one's is only in that tab's session).
    await page.close();
    const again = await visitor.context.newPage();
    await again.goto(`${base}/`);
    await again.locator('.launcher[aria-label="Open chat"]').waitFor();
    await again.waitForFunction("localStorage.getItem('desk:w_demo:session') !== null");
    await new Promise((r) => setTimeout(r, 500)); // welcomed and rendered
    expect(await again.locator('.badge').isHidden()).toBe(true);
    await again.locator('.launcher').click();
    await again.locator('.msg.them', { hasText: 'in stock' }).waitFor();
    // A new question goes into the new conversation, below the resolved one.
    await visitorSays({ context: visitor.context, page: again }, 'And in red?');
    await again.locator('.msg.own[data-state="sent"]', { hasText: 'in red' }).waitFor();
    const convs = (await store.listConversations('w_demo', { filter: 'open' })).filter((c) => c.lastMessage?.body === 'And in red?');
    expect(convs).toHaveLength(1);
    expect(convs[0]!.id).not.toBe(conversation);
    if (SHOTS) await again.screenshot({ path: join(SHOTS, 'widget-resolved-thread.png') });
    await visitor.context.close();
    await operator.context.close();
  }, 90_000);
});

describe('the widget says what it knows of its connection', () => {
  it('never "online" while offline, never a promise of email when it sends none: the header and the strip say so', async () => {
    const v = await openVisitor();
    const status = v.page.locator('.status-text');
    await expect.poll(() => status.textContent()).not.toBe('Connecting…');
    await v.context.setOffline(true);
    await v.page.locator('.conn:not([hidden])', { hasText: 'offline' }).waitFor();
    expect(await status.textContent()).toBe("You're offline");
    await v.context.setOffline(false);
    await v.page.locator('.conn').waitFor({ state: 'hidden', timeout: 20_000 });
    // This Desk sends no email: it never promises a reply by email, nor asks for an address.
    expect(await status.textContent()).toMatch(/^We(’|')re (online|away)$/);
    expect(await v.page.locator('.email').isHidden()).toBe(true);
    if ((await status.textContent())?.endsWith('away')) expect(await v.page.locator('.greeting').textContent()).toContain("we'll answer here");
    await v.context.close();
  }, 60_000);
});

describe('operators work as a team', () => {
  it('assigns a conversation to a teammate, who finds it under Mine at once', async () => {
    const v = await openVisitor();
    await visitorSays(v, 'Can someone from billing look at invoice 77?');
    await v.page.locator('.msg.own[data-state="sent"]', { hasText: 'invoice 77' }).waitFor();
    const ada = await openOperator('ada@acme.test');
    const grace = await openOperator('grace@acme.test');
    await grace.page.locator('.filter[data-filter="mine"]').click();
    await ada.page.locator('.conv', { hasText: 'invoice 77' }).click();
    const menu = ada.page.locator('#assignee');
    await menu.waitFor();
    expect(await menu.locator('option').allTextContents()).toEqual(expect.arrayContaining(['Unassigned', 'Ada (you)', 'Grace']));
    await menu.selectOption({ label: 'Grace' });
    // Grace sees it in her own list, and the visitor's conversation is stored as hers.
    await grace.page.locator('.conv', { hasText: 'invoice 77' }).waitFor();
    const id = decodeURIComponent(new URL(ada.page.url()).hash.slice(1));
    const graceId = (await store.listOperators('w_demo')).find((o) => o.email === 'grace@acme.test')!.id;
    expect((await store.getConversation(id))?.assigneeId).toBe(graceId);
    expect(await ada.page.locator('.detail', { hasText: 'Assignee' }).textContent()).toContain('Grace');
    await Promise.all([v.context.close(), ada.context.close(), grace.context.close()]);
  }, 90_000);
});

describe('search', () => {
  it('finds a conversation by the words of any of its messages, resolved ones included', async () => {
    const v = await openVisitor();
    await visitorSays(v, 'My espresso grinder squeaks since Tuesday');
    await v.page.locator('.msg.own[data-state="sent"]', { hasText: 'grinder' }).waitFor();
    await visitorSays(v, 'Second thing: nothing to see');
    await v.page.locator('.msg.own[data-state="sent"]', { hasText: 'Second thing' }).waitFor();
    const o = await openOperator('ada@acme.test');
    // Resolved, so out of the Open list: search still finds it, by an earlier message and a prefix.
    const conv = o.page.locator('.conv', { hasText: 'nothing to see' });
    await conv.click();
    await o.page.locator('[data-action="resolve"]').click();
    await o.page.locator('.conv', { hasText: 'nothing to see' }).waitFor({ state: 'detached' });
    await o.page.locator('#search').fill('espresso grind');
    const hit = o.page.locator('.conv', { hasText: 'grinder squeaks' });
    await hit.waitFor();
    expect(await o.page.locator('.conv').count()).toBe(1);
    await hit.click();
    await o.page.locator('.msg.in', { hasText: 'grinder squeaks' }).waitFor();
    await o.page.locator('#search').fill('zebra');
    await o.page.locator('.list-empty', { hasText: 'No message matches “zebra”' }).waitFor();
    await o.page.locator('#search').press('Escape');
    await o.page.locator('.list-empty', { hasText: 'zebra' }).waitFor({ state: 'detached' });
    await Promise.all([v.context.close(), o.context.close()]);
  }, 90_000);
});

describe('a teammate writing', () => {
  it('shows above the composer of an operator in the same conversation', async () => {
    const v = await openVisitor();
    await visitorSays(v, 'Is the Rain Shell seam-sealed?');
    await v.page.locator('.msg.own[data-state="sent"]', { hasText: 'Rain Shell' }).waitFor();
    const ada = await openOperator('ada@acme.test');
    const grace = await openOperator('grace@acme.test');
    await ada.page.locator('.conv', { hasText: 'Rain Shell' }).click();
    await grace.page.locator('.conv', { hasText: 'Rain Shell' }).click();
    await grace.page.locator('#composer-input').pressSequentially('Yes, fully', { delay: 30 });
    await ada.page.locator('.teammate-typing', { hasText: 'Grace is writing a reply here too.' }).waitFor();
    // Nobody is warned of their own typing.
    expect(await grace.page.locator('.teammate-typing').count()).toBe(0);
    await Promise.all([v.context.close(), ada.context.close(), grace.context.close()]);
  }, 90_000);
});

describe('Desk.identify on the host page', () => {
  it('a forged hash is refused and changes nothing; the site-signed identity names the visitor in the inbox', async () => {
    const v = await openVisitor();
    const warnings: string[] = [];
    v.page.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    await visitorSays(v, 'Signed-in question about my subscription');
    await v.page.locator('.msg.own[data-state="sent"]', { hasText: 'subscription' }).waitFor();
    const conversation = (await store.listConversations('w_demo', { filter: 'open' })).find((c) => c.lastMessage?.body.includes('subscription'))!.id;
    const visitorOf = async () => store.getVisitor((await store.getConversation(conversation))!.visitorId);

    const forged = createHmac('sha256', 'guessed-secret').update('noor@example.com').digest('hex');
    await v.page.evaluate(`Desk.identify({ email: 'noor@example.com', name: 'Noor', userHash: '${forged}' })`);
    await expect.poll(() => warnings.some((w) => w.includes('identity not verified'))).toBe(true);
    expect((await visitorOf())?.email).toBeUndefined();

    const signed = createHmac('sha256', DEMO_IDENTITY_SECRET).update('noor@example.com').digest('hex');
    await v.page.evaluate(`Desk.identify({ email: 'noor@example.com', name: 'Noor', userHash: '${signed}' })`);
    await expect.poll(async () => (await visitorOf())?.name).toBe('Noor');
    expect(await visitorOf()).toMatchObject({ email: 'noor@example.com', emailVerified: true });
    const o = await openOperator('ada@acme.test');
    await o.page.locator('.conv', { hasText: 'Noor' }).waitFor();
    await Promise.all([v.context.close(), o.context.close()]);
  }, 90_000);
});

describe('notifications', () => {
  it('a visitor message in a conversation not on screen shows a desktop notification; the bell turns them off', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 860 } });
    await context.grantPermissions(['notifications']);
    // Records what the inbox asks the browser to show (the real Notification still runs).
    await context.addInitScript(
      'window.__notes = []; { const Real = window.Notification; window.Notification = class extends Real { constructor(title, options) { super(title, options); window.__notes.push({ title, body: options && options.body }); } }; }',
    );
    const page = await context.newPage();
    await page.goto(`${base}/inbox.html`);
    await page.locator('#signin-email').fill('grace@acme.test');
    await page.locator('#signin-password').fill('demo-password');
    await page.locator('#signin-submit').click();
    await page.locator('.filter[data-filter="open"]').waitFor();
    expect(await page.locator('#notify').getAttribute('aria-pressed')).toBe('true');

    const v = await openVisitor();
    await visitorSays(v, 'Ping for the notification test');
    await expect.poll(() => page.evaluate('window.__notes.map((n) => n.body)')).toEqual(['Ping for the notification test']);
    expect(await page.evaluate('window.__notes[0].title')).toMatch(/ wrote$/);

    await page.locator('#notify').click();
    expect(await page.locator('#notify').getAttribute('aria-pressed')).toBe('false');
    await visitorSays(v, 'Second ping, bell off');
    await page.locator('.conv', { hasText: 'Second ping' }).waitFor();
    expect(await page.evaluate('window.__notes.length')).toBe(1);
    await page.locator('#notify').click(); // back on for whoever comes next in this browser
    await Promise.all([v.context.close(), context.close()]);
  }, 90_000);
});

describe('a rating on resolve', () => {
  it('the visitor rates a resolved conversation from the widget; the operator sees it', async () => {
    const v = await openVisitor();
    await visitorSays(v, 'Quick one about gift cards');
    await v.page.locator('.msg.own[data-state="sent"]', { hasText: 'gift cards' }).waitFor();
    const o = await openOperator('ada@acme.test');
    await o.page.locator('.conv', { hasText: 'gift cards' }).click();
    const conversation = decodeURIComponent(new URL(o.page.url()).hash.slice(1));
    await operatorSays(o, 'They never expire.');
    await o.page.locator('.msg.out[data-state="stored"]', { hasText: 'never expire' }).waitFor();
    await o.page.locator('[data-action="resolve"]').click();
    // The open widget learns it is resolved and asks.
    await v.page.locator('.rate', { hasText: 'How did we do?' }).waitFor();
    await v.page.locator('.rate-btn[aria-label="Good"]').click();
    await v.page.locator('.rate', { hasText: 'Thanks for your rating.' }).waitFor();
    await expect.poll(async () => (await store.getConversation(conversation))?.rating).toBe('good');
    await o.page.locator('.filter[data-filter="resolved"]').click();
    await o.page.locator('.conv', { hasText: 'never expire' }).click();
    await o.page.locator('.detail', { hasText: '👍 Good' }).waitFor();
    await Promise.all([v.context.close(), o.context.close()]);
  }, 90_000);
});
