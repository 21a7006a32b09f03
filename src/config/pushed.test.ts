import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergePushed } from './pushed.js';

const local = [
  'pop: { id: sin, region: ap-southeast }',
  'listen: { http: 127.0.0.1:8080, admin: 127.0.0.1:9090 }',
  'workers: 2',
  'cluster: { redis: "redis://127.0.0.1:6379" }',
  'cache: { disk: { path: /var/cache/outpost-sin, maxSize: 1GiB } }',
  'pools: { old: { origins: [{ name: a, address: "http://127.0.0.1:3000" }] } }',
  'loadBalancers: [{ hostname: "*", defaultPools: [old] }]',
  '',
].join('\n');

const pushed = [
  'pop: { id: fra }',
  'listen: { http: 0.0.0.0:80 }',
  'cache: { memory: { maxSize: 64MiB }, disk: { path: /elsewhere, maxSize: 2GiB } }',
  'pools: { new: { origins: [{ name: b, address: "http://127.0.0.1:4000" }] } }',
  'loadBalancers: [{ hostname: "*", defaultPools: [new] }]',
  '',
].join('\n');

describe('mergePushed', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'outpost-pushed-')), 'outpost.yaml');
  writeFileSync(file, local);

  it("takes the shared keys from the push and the node keys from the PoP's own file", () => {
    const r = mergePushed(local, pushed, file, 3);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.keys(r.config.pools)).toEqual(['new']);
    expect(r.config.pop.id).toBe('sin');
    expect(r.config.listen.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(r.config.workers).toBe(2);
    expect(r.config.cluster?.redis).toBe('redis://127.0.0.1:6379');
    expect(r.config.cache.disk?.path).toBe('/var/cache/outpost-sin');
    expect(r.config.cache.memory.maxSize).toBe(64 * 1024 * 1024);
  });

  it('refuses an invalid push with the key that is wrong, naming the version', () => {
    const r = mergePushed(local, pushed.replace('defaultPools: [new]', 'defaultPools: [missing]'), file, 4);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.file).toMatch(/^pushed config v4/);
    expect(r.errors.map((e) => e.message).join(' ')).toMatch(/missing/);
  });

  it('refuses text that is not YAML or an alias bomb, without throwing', () => {
    expect(mergePushed(local, 'pools: [unclosed', file, 5).ok).toBe(false);
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from(
        { length: 12 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      ),
    ].join('\n');
    expect(mergePushed(local, bomb, file, 6).ok).toBe(false);
  });
});
