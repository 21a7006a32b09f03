import { describe, expect, it } from 'vitest';
import { acceptEncodingKey } from './compress.js';
import { VARIANT, variantKey } from './key.js';
import { secondaryKey, varyMatches } from './policy/vary.js';

describe('variantKey', () => {
  const primary = 'https://site.example/app.js';

  it('Vary: Accept-Encoding alone keys by the negotiated encoding, the same key as the general path', () => {
    for (const ae of [undefined, 'gzip', 'gzip, deflate, br', 'br;q=0, gzip', 'identity', '*']) {
      const general = primary + VARIANT + secondaryKey(['accept-encoding'], { 'accept-encoding': acceptEncodingKey(ae) });
      const key = variantKey(primary, ['accept-encoding'], ae === undefined ? {} : { 'accept-encoding': ae });
      expect(key, String(ae)).toBe(general);
      // What is stored under that key is found by the stored entry's own check.
      expect(varyMatches({ vary: ['accept-encoding'], key }, { 'accept-encoding': acceptEncodingKey(ae) })).toBe(true);
    }
    expect(variantKey(primary, ['accept-encoding'], { 'accept-encoding': 'gzip, deflate, br' })).toBe(variantKey(primary, ['accept-encoding'], { 'accept-encoding': 'br, gzip' }));
    expect(variantKey(primary, ['accept-encoding'], { 'accept-encoding': 'gzip' })).not.toBe(variantKey(primary, ['accept-encoding'], {}));
  });

  it('Vary with more names keys each, Accept-Encoding by its negotiated value', () => {
    const a = variantKey(primary, ['accept-encoding', 'accept-language'], { 'accept-encoding': 'gzip, br', 'accept-language': 'fr' });
    expect(a).toBe(primary + VARIANT + secondaryKey(['accept-encoding', 'accept-language'], { 'accept-encoding': acceptEncodingKey('gzip, br'), 'accept-language': 'fr' }));
    expect(a).not.toBe(variantKey(primary, ['accept-encoding', 'accept-language'], { 'accept-encoding': 'gzip, br', 'accept-language': 'de' }));
    expect(variantKey(primary, [], { 'accept-encoding': 'gzip' })).toBe(primary);
  });
});
