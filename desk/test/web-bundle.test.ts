/**
 * The built front end (desk/dist/public, made by `npm run build`): the widget stays one small
 * script, and neither bundle uses what the browsers it targets (scripts/build-web.mjs: Safari
 * 14.1 and later) cannot parse. A lookbehind in a regular expression throws as the script loads
 * on Safari before 16.4, and the widget would never start there.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const PUBLIC = fileURLToPath(new URL('../dist/public/', import.meta.url));
const bundle = (name: string) => readFileSync(PUBLIC + name, 'utf8');

describe('the built front end', () => {
  it('the widget is one script under 20 KiB gzipped', () => {
    const widget = Buffer.from(bundle('widget.js'));
    expect(gzipSync(widget).length).toBeLessThan(20 * 1024);
  });

  it('no regular expression lookbehind in either bundle', () => {
    for (const name of ['widget.js', 'inbox.js']) {
      expect(bundle(name), name).not.toMatch(/\(\?<[=!]/);
    }
  });
});
