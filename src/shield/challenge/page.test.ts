import { createHash, webcrypto } from 'node:crypto';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CHALLENGE_CSP, CHALLENGE_HEADERS, challengePage, escapeHtml, noJsUrl, safeReturnTo, type ChallengePageInput } from './page.js';
import { issueChallenge, MemoryReplayGuard, verifySolution } from './token.js';
import { workBits } from './solve.js';

const base: ChallengePageInput = {
  token: `eyJ2IjoxfQ.${'A'.repeat(43)}`,
  nonce: '0123456789abcdef0123456789abcdef',
  difficulty: 12,
  action: '/.outpost/challenge',
  returnTo: '/docs?page=2&lang=en',
  noJsWaitSeconds: 5,
};

const scriptOf = (html: string) => /<script>([\s\S]*?)<\/script>/.exec(html)![1];
const styleOf = (html: string) => /<style>([\s\S]*?)<\/style>/.exec(html)![1];
const unescapeHtml = (s: string) => s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));
const attr = (html: string, name: string) => unescapeHtml(new RegExp(`${name}="([^"]*)"`).exec(html)![1]);

describe('challengePage', () => {
  it('carries the challenge in escaped attributes and the form posts token, answer, returnTo to action', () => {
    const html = challengePage(base);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<form id="oc-form" method="post" action="/.outpost/challenge"');
    expect(attr(html, 'data-nonce')).toBe(base.nonce);
    expect(attr(html, 'data-difficulty')).toBe('12');
    expect(html).toContain(`name="token" value="${base.token}"`);
    expect(html).toContain('name="answer" value=""');
    expect(html).toContain('name="returnTo" value="/docs?page=2&#38;lang=en"');
    expect(html).toMatch(/checking that your browser/i);
  });

  it('escapes hostile values everywhere they appear', () => {
    const evil = '"><script>alert(1)</script><x a=\'';
    const html = challengePage({ ...base, token: evil, nonce: evil, returnTo: evil });
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain(evil);
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(attr(html, 'data-nonce')).toBe(evil);
    expect(attr(html, 'name="token" value')).toBe(evil);
    expect(attr(html, 'name="returnTo" value')).toBe(evil);
    expect(escapeHtml(`&<>"'`)).toBe('&#38;&#60;&#62;&#34;&#39;');
  });

  it('has a no-JS path: a meta refresh after the wait, and a link, to action?nojs=<token>&returnTo=…', () => {
    const html = challengePage({ ...base, noJsWaitSeconds: 7 });
    const url = `/.outpost/challenge?nojs=${encodeURIComponent(base.token)}&returnTo=${encodeURIComponent(base.returnTo)}`;
    expect(noJsUrl(base.action, base.token, base.returnTo)).toBe(url);
    const noscript = /<head>[\s\S]*<noscript>(<meta[^>]*>)<\/noscript>[\s\S]*<\/head>/.exec(html)![1];
    expect(noscript).toBe(`<meta http-equiv="refresh" content="7; url=${escapeHtml(url)}">`);
    expect(html).toMatch(/<noscript><p>[^<]*7 seconds[\s\S]*?<a href="[^"]*nojs=[^"]*">/);
    expect(html).toContain(`<p id="oc-slow" hidden>Taking too long? <a href="${escapeHtml(url)}">`);
    expect(noJsUrl('/c?x=1', 'T', '/')).toBe('/c?x=1&nojs=T&returnTo=%2F');
    // The token and returnTo cannot break out of the refresh URL.
    const hostile = challengePage({ ...base, returnTo: "/'; url=https://evil.example" });
    expect(hostile).toContain('returnTo=%2F%27%3B%20url%3Dhttps%3A%2F%2Fevil.example');
  });

  it('loads nothing from elsewhere: no src=, no href to another origin, no external URL', () => {
    const html = challengePage(base);
    expect(html).not.toMatch(/\ssrc\s*=/i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/\simport\s*\(|importScripts|\beval\s*\(|new Function/);
    for (const [, href] of html.matchAll(/href="([^"]*)"/g)) expect(href).toMatch(/^\/(?!\/)/);
  });

  it('refuses an action that is not a same-origin path, and bad numbers', () => {
    for (const action of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'relative', '/a b', '/"x', '']) {
      expect(() => challengePage({ ...base, action })).toThrow(RangeError);
    }
    expect(() => challengePage({ ...base, difficulty: 65 })).toThrow(RangeError);
    expect(() => challengePage({ ...base, noJsWaitSeconds: -1 })).toThrow(RangeError);
    expect(() => challengePage({ ...base, noJsWaitSeconds: Number.NaN })).toThrow(RangeError);
  });
});

describe('CHALLENGE_CSP', () => {
  const sha = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

  it('allows exactly the inline script and style of the page, by hash', () => {
    const html = challengePage(base);
    expect(CHALLENGE_CSP).toBe(`default-src 'none'; script-src ${sha(scriptOf(html))}; style-src ${sha(styleOf(html))}; worker-src blob:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`);
    // The script is the same text whatever the request: one constant policy works for every page.
    const other = challengePage({ ...base, token: 'x.y', nonce: 'n', difficulty: 3, returnTo: '/' });
    expect(scriptOf(other)).toBe(scriptOf(html));
    // biome-ignore lint/suspicious/noControlCharactersInRegex: tab, LF and CR are the only controls allowed
    expect(scriptOf(html)).toMatch(/^[\x09\x0a\x0d\x20-\x7e]*$/); // ASCII: the hash is over UTF-8 bytes
    expect(CHALLENGE_HEADERS['content-security-policy']).toBe(CHALLENGE_CSP);
    expect(CHALLENGE_HEADERS['cache-control']).toBe('no-store');
  });
});

describe('safeReturnTo', () => {
  it('keeps same-origin paths and replaces everything else with /', () => {
    expect(safeReturnTo('/docs?q=1#x')).toBe('/docs?q=1#x');
    for (const v of ['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', '', '/a\nb', '/a\\b', `/${'a'.repeat(2048)}`, undefined, 3]) {
      expect(safeReturnTo(v)).toBe('/');
    }
  });
});

/**
 * Runs the page's inline script in a vm context with a minimal DOM: the form, the progress
 * bar, the status and slow-path elements; optionally crypto.subtle and Web Workers (each fake
 * worker runs the Blob's source in its own vm context). Resolves with the answer submitted.
 */
function runPage(html: string, env: { subtle: boolean; workers: boolean; cores?: number }) {
  const timer = (fn: () => void, ms: number) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  };
  const form = {
    attrs: { 'data-nonce': attr(html, 'data-nonce'), 'data-difficulty': attr(html, 'data-difficulty'), 'data-wait': attr(html, 'data-wait') } as Record<string, string>,
    getAttribute(name: string) {
      return this.attrs[name];
    },
    elements: { answer: { value: '' } },
    submit: () => {},
  };
  const el = () => ({ hidden: true, textContent: '', value: 0 });
  const ids: Record<string, unknown> = { 'oc-form': form, 'oc-bar': el(), 'oc-status': el(), 'oc-slow': el() };
  const blobs = new Map<string, Blob>();
  const stats = { workers: 0, progress: [] as number[] };
  class FakeWorker {
    onmessage?: (ev: { data: unknown }) => void;
    onerror?: (ev: unknown) => void;
    private terminated = false;
    private readonly scope: Promise<Record<string, any>>;
    constructor(url: string) {
      stats.workers++;
      this.scope = blobs
        .get(url)!
        .text()
        .then((source) => {
          const scope: Record<string, any> = {
            TextEncoder,
            setTimeout: timer,
            postMessage: (data: { tried?: number }) => {
              // A terminated worker stops: its next progress report throws and ends the search.
              if (this.terminated) {
                if (data.tried) throw new Error('terminated');
                return;
              }
              setImmediate(() => !this.terminated && this.onmessage?.({ data }));
            },
          };
          if (env.subtle) scope.crypto = webcrypto;
          scope.self = scope;
          vm.runInNewContext(source, scope);
          return scope;
        });
    }
    postMessage(data: unknown) {
      void this.scope.then((s) => s.onmessage({ data }));
    }
    terminate() {
      this.terminated = true;
    }
  }
  const sandbox: Record<string, any> = {
    document: { getElementById: (id: string) => ids[id] },
    navigator: { hardwareConcurrency: env.cores ?? 3 },
    setTimeout: timer,
    TextEncoder,
  };
  if (env.subtle) sandbox.crypto = webcrypto;
  if (env.workers) {
    const createObjectURL = (b: Blob) => {
      const url = `blob:fake/${blobs.size}`;
      blobs.set(url, b);
      return url;
    };
    Object.assign(sandbox, { Worker: FakeWorker, Blob, URL: { createObjectURL } });
  }
  sandbox.self = sandbox;
  const answer = new Promise<string>((resolve) => {
    form.submit = () => resolve(form.elements.answer.value);
  });
  vm.runInNewContext(scriptOf(html), sandbox);
  return { answer, stats, ids: ids as Record<string, { hidden: boolean; value: number; textContent: string }> };
}

describe('the page script', () => {
  const NOW = 1_750_000_000_000;
  const SECRET = 'a-secret-shared-by-every-worker';
  const client = { clientPrefix: '203.0.113.0/24', userAgent: 'test' };

  for (const env of [
    { name: 'Web Workers + crypto.subtle', subtle: true, workers: true },
    { name: 'Web Workers, no crypto.subtle (plain HTTP)', subtle: false, workers: true },
    { name: 'main thread + crypto.subtle', subtle: true, workers: false },
    { name: 'main thread, pure-JS SHA-256', subtle: false, workers: false },
  ]) {
    it(`solves a server-issued challenge at difficulty 12 that the server accepts: ${env.name}`, async () => {
      const c = issueChallenge(SECRET, { ...client, difficulty: 12, now: NOW, ttlMs: 60_000 });
      const html = challengePage({ ...base, token: c.token, nonce: c.nonce, difficulty: c.difficulty });
      const run = runPage(html, env);
      const answer = await run.answer;
      expect(workBits(c.nonce, answer)).toBeGreaterThanOrEqual(12);
      expect(verifySolution(SECRET, c.token, answer, { ...client, now: NOW + 1 }, new MemoryReplayGuard())).toEqual({ ok: true });
      expect(run.stats.workers).toBe(env.workers ? 3 : 0);
      expect(run.ids['oc-bar'].hidden).toBe(false);
      expect(run.ids['oc-bar'].value).toBe(1);
      expect(run.ids['oc-slow'].hidden).toBe(true);
    });
  }

  it('hashes inputs of every length correctly in pure JS (block boundaries 55/56/64, two blocks)', async () => {
    for (const len of [0, 1, 54, 55, 56, 62, 63, 64, 100, 119, 120]) {
      const nonce = 'n'.repeat(len);
      const answer = await runPage(challengePage({ ...base, nonce, difficulty: 8 }), { subtle: false, workers: false }).answer;
      // The first counter with 8 zero bits, as Node finds it: any hashing slip shows up here.
      let expected = 0;
      while (workBits(nonce, String(expected)) < 8) expected++;
      expect([len, answer]).toEqual([len, String(expected)]);
    }
  });

  it('falls back to the main thread when a worker cannot start', async () => {
    const html = challengePage({ ...base, difficulty: 8 });
    expect(workBits(base.nonce, await runPageWithBrokenWorker(html))).toBeGreaterThanOrEqual(8);
  });
});

/** A Worker constructor that throws (as under a CSP without worker-src blob:). */
function runPageWithBrokenWorker(html: string): Promise<string> {
  return new Promise((resolve) => {
    const form = {
      getAttribute: (n: string) => attr(html, n),
      elements: { answer: { value: '' } },
      submit: () => resolve(form.elements.answer.value),
    };
    const el = () => ({ hidden: true, textContent: '', value: 0 });
    const ids: Record<string, unknown> = { 'oc-form': form, 'oc-bar': el(), 'oc-status': el(), 'oc-slow': el() };
    const sandbox: Record<string, unknown> = {
      document: { getElementById: (id: string) => ids[id] },
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms).unref(),
      TextEncoder,
      crypto: webcrypto,
      Blob,
      URL: { createObjectURL: () => 'blob:x' },
      Worker: function Worker() {
        throw new Error('SecurityError: refused by worker-src');
      },
    };
    sandbox.self = sandbox;
    vm.runInNewContext(scriptOf(html), sandbox);
  });
}
