/** What may be attached and how it is named and served (kinds.ts): pure. */
import { describe, expect, it } from 'vitest';
import { agrees, contentDisposition, KINDS, kindOf, safeName } from './kinds.js';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const kind = (type: string) => kindOf(type)!;

describe('attachment kinds', () => {
  it('knows the allowed types only, whatever the case and parameters', () => {
    expect(kindOf('IMAGE/PNG; charset=binary')?.type).toBe('image/png');
    for (const type of ['text/html', 'image/svg+xml', 'application/javascript', 'application/xhtml+xml', 'text/xml', 'application/octet-stream', '', undefined]) {
      expect(kindOf(type)).toBeUndefined();
    }
    expect(KINDS.filter((k) => k.inline).map((k) => k.type)).toEqual(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
  });

  it('checks the first bytes of the types that have a signature', () => {
    expect(agrees(kind('image/png'), PNG)).toBe(true);
    expect(agrees(kind('image/png'), new TextEncoder().encode('<html><script>alert(1)</script>'))).toBe(false);
    expect(agrees(kind('image/png'), PNG.subarray(0, 4))).toBe(false);
    expect(agrees(kind('image/jpeg'), Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe(true);
    expect(agrees(kind('image/webp'), new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe(true);
    expect(agrees(kind('image/webp'), new TextEncoder().encode('RIFF\0\0\0\0WAVEfmt '))).toBe(false);
    expect(agrees(kind('application/pdf'), new TextEncoder().encode('%PDF-1.7'))).toBe(true);
    expect(agrees(kind('application/vnd.openxmlformats-officedocument.wordprocessingml.document'), new TextEncoder().encode('<html>'))).toBe(false);
    // Text has no signature: served as a download with nosniff, it never runs.
    expect(agrees(kind('text/plain'), new TextEncoder().encode('<html>'))).toBe(true);
  });

  it('names: no paths, no control or bidi characters, an extension of the type', () => {
    expect(safeName('../../etc/passwd', kind('text/plain'))).toBe('passwd.txt');
    expect(safeName('C:\\Users\\ada\\photo.PNG', kind('image/png'))).toBe('photo.PNG');
    expect(safeName('invoice.html', kind('text/plain'))).toBe('invoice.html.txt');
    expect(safeName('report\u202Efdp.exe', kind('application/pdf'))).toBe('reportfdp.exe.pdf');
    expect(safeName('a\u0000b\nc"d.csv', kind('text/csv'))).toBe('abcd.csv');
    expect(safeName('...', kind('image/gif'))).toBe('file.gif');
    expect(safeName('.hidden.txt', kind('text/plain'))).toBe('hidden.txt');
    expect(safeName('Ünïcode — résumé.pdf', kind('application/pdf'))).toBe('Ünïcode — résumé.pdf');
    expect([...safeName('x'.repeat(500), kind('text/plain'))].length).toBe(124);
  });

  it('Content-Disposition has an ASCII fallback and the UTF-8 name', () => {
    expect(contentDisposition('photo.png', true)).toBe(`inline; filename="photo.png"; filename*=UTF-8''photo.png`);
    expect(contentDisposition('résumé (1).pdf', false)).toBe(`attachment; filename="r_sum_ (1).pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%281%29.pdf`);
  });
});
