import { describe, expect, it } from 'vitest';
import { emailHtml, escapeHtml } from './html.js';

describe('the HTML part of an email', () => {
  it('escapes every value a visitor or an operator wrote, and keeps line breaks', () => {
    const html = emailHtml({
      title: 'Acme <Shop>',
      blocks: [
        { author: 'Eve "the visitor"', body: '<script>alert(1)</script>\nsecond line & more', at: Date.UTC(2026, 11, 8, 9, 30) },
        { author: 'Ada', body: "it's <b>fine</b>" },
      ],
      footer: 'Reply to this email.',
    });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;<br>second line &amp; more');
    expect(html).toContain('Eve &quot;the visitor&quot;');
    expect(html).toContain('it&#39;s &lt;b&gt;fine&lt;/b&gt;');
    expect(html).toContain('Acme &lt;Shop&gt;');
    expect(html).toContain('2026-12-08 09:30 UTC');
    expect(html).not.toMatch(/<img|<style|src=/i);
  });

  it('shows an action as a link whose address is escaped too', () => {
    const html = emailHtml({ title: 'T', blocks: [], action: { href: 'https://desk.example/confirm?a=1&b="x"', label: 'Confirm' }, footer: 'f' });
    expect(html).toContain('href="https://desk.example/confirm?a=1&amp;b=&quot;x&quot;"');
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});
