import { describe, expect, it } from 'vitest';
import { bodyText, htmlPrefixText, MAX_TEXT_CHARS, parseHeaders } from './inbound-parse.js';

describe('htmlPrefixText', () => {
  it('drops scripts, styles and tags, breaks lines at block ends, decodes entities', () => {
    const html = '<style>p{color:red}</style><p>Hi &amp; thanks</p><script>alert(1)</script><div>Line&nbsp;two &#8364;5 &#x41;</div>';
    expect(htmlPrefixText(html)).toBe('Hi & thanks\nLine two €5 A');
  });

  it('keeps going over unclosed tags and scripts (the input is hostile)', () => {
    expect(htmlPrefixText(`${'<'.repeat(200_000)}x`)).toContain('x');
    expect(htmlPrefixText(`ok<script>${'a'.repeat(1000)}`)).toBe('ok');
    expect(htmlPrefixText(`${' '.repeat(200_000)}y`)).toBe('y');
  });
});

describe('parseHeaders and bodyText', () => {
  it('reads the header block alone, and refuses one past 64 KiB', async () => {
    const head = await parseHeaders(Buffer.from('From: a@b.example\r\nSubject: hi\r\nIn-Reply-To: <x@y>\r\n\r\nbody text'));
    expect(head?.from?.value[0]?.address).toBe('a@b.example');
    expect(head?.inReplyTo).toBe('<x@y>');
    expect((head?.text ?? '').trim()).toBe('');
    expect(await parseHeaders(Buffer.from(`X-Long: ${'a'.repeat(70_000)}\r\n\r\nb`))).toBeUndefined();
  });

  it('cuts the text to MAX_TEXT_CHARS', async () => {
    const text = await bodyText(Buffer.from(`From: a@b.example\r\n\r\n${'z'.repeat(MAX_TEXT_CHARS * 2)}`));
    expect(text.length).toBe(MAX_TEXT_CHARS);
  });
});
