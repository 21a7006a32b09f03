/** Markdown-lite and links of message bodies (desk/web/shared/inlines.ts), read without a DOM. */
import { describe, expect, it } from 'vitest';
import { type Inline, inlines, safeHref } from '../web/shared/inlines.js';

const text = (t: string): Inline => ({ kind: 'text', text: t });

describe('message bodies', () => {
  it('plain text stays one text node, HTML included', () => {
    expect(inlines('hello <b>there</b> & <script>x</script>')).toEqual([text('hello <b>there</b> & <script>x</script>')]);
    expect(inlines('')).toEqual([]);
  });

  it('reads bold, italics and code, and nothing inside code', () => {
    expect(inlines('a **big** deal')).toEqual([text('a '), { kind: 'bold', children: [text('big')] }, text(' deal')]);
    expect(inlines('an *odd* and _other_ one')).toEqual([text('an '), { kind: 'italic', children: [text('odd')] }, text(' and '), { kind: 'italic', children: [text('other')] }, text(' one')]);
    expect(inlines('run `npm **test** https://x.test` now')).toEqual([text('run '), { kind: 'code', text: 'npm **test** https://x.test' }, text(' now')]);
    expect(inlines('**bold _and italic_**')).toEqual([{ kind: 'bold', children: [text('bold '), { kind: 'italic', children: [text('and italic')] }] }]);
  });

  it('leaves what only looks like emphasis: words with underscores, arithmetic, lone stars', () => {
    expect(inlines('snake_case_name')).toEqual([text('snake_case_name')]);
    expect(inlines('2*3*4 = 24')).toEqual([text('2*3*4 = 24')]);
    expect(inlines('a * b * c')).toEqual([text('a * b * c')]);
    expect(inlines('** not bold **')).toEqual([text('** not bold **')]);
    expect(inlines('`unclosed code')).toEqual([text('`unclosed code')]);
  });

  it('makes http(s) and www. links, without trailing punctuation', () => {
    expect(inlines('see https://shop.test/a?b=1&c=2.')).toEqual([text('see '), { kind: 'link', href: 'https://shop.test/a?b=1&c=2', text: 'https://shop.test/a?b=1&c=2' }, text('.')]);
    expect(inlines('(www.example.test)')).toEqual([text('('), { kind: 'link', href: 'https://www.example.test/', text: 'www.example.test' }, text(')')]);
    expect(inlines('http://x.test/a_b_c')).toEqual([{ kind: 'link', href: 'http://x.test/a_b_c', text: 'http://x.test/a_b_c' }]);
    // Links are read before emphasis: a URL's own underscores and stars never become italics.
    expect(inlines('**https://x.test/**')).toEqual([text('**'), { kind: 'link', href: 'https://x.test/', text: 'https://x.test/' }, text('**')]);
    expect(inlines('https://x.test/_private_/')).toEqual([{ kind: 'link', href: 'https://x.test/_private_/', text: 'https://x.test/_private_/' }]);
  });

  it('never links another scheme', () => {
    for (const body of ['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:msgbox', 'file:///etc/passwd', 'JaVaScRiPt:alert(1)']) {
      expect(inlines(body).some((n) => n.kind === 'link')).toBe(false);
    }
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref('https://ok.test')).toBe('https://ok.test/');
    expect(safeHref('www.')).toBe(undefined);
  });

  it('reads a long hostile body in linear time', () => {
    const body = `${'*_`'.repeat(20_000)}${'**a'.repeat(5000)}`;
    const started = performance.now();
    inlines(body);
    // Not a speed assertion: a backtracking regex would take minutes here, not any number of ms.
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
