import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { fastCounter, fastHistogram } from './fast-counter.js';

describe('fastCounter', () => {
  it('sums by label values and shows the totals in the registry', async () => {
    const registry = new Registry();
    const c = fastCounter({ name: 't_total', help: 'test', labelNames: ['host', 'result'] as const, registers: [registry] });
    c.inc({ host: 'a', result: 'hit' });
    c.inc({ host: 'a', result: 'hit' }, 2);
    c.inc({ host: 'b', result: 'miss' });
    const text = await registry.metrics();
    expect(text).toContain('t_total{host="a",result="hit"} 3');
    expect(text).toContain('t_total{host="b",result="miss"} 1');
    c.inc({ host: 'b', result: 'miss' });
    expect((await c.get()).values.find((v) => v.labels.host === 'b')!.value).toBe(2);
    // Reading twice does not double count.
    expect(await registry.metrics()).toContain('t_total{host="a",result="hit"} 3');
  });
});

describe('fastHistogram', () => {
  it('exposes exactly what a prom-client histogram fed the same values would', async () => {
    const { Histogram } = await import('prom-client');
    const fastRegistry = new Registry();
    const refRegistry = new Registry();
    const buckets = [0.01, 0.1, 1];
    const fast = fastHistogram({ name: 'd_seconds', help: 'test', labelNames: ['host'] as const, buckets, registers: [fastRegistry] });
    const ref = new Histogram({ name: 'd_seconds', help: 'test', labelNames: ['host'] as const, buckets, registers: [refRegistry] });
    for (const [host, v] of [
      ['a', 0.005],
      ['a', 0.05],
      ['b', 0.5],
      ['a', 5],
      ['b', 0.01],
    ] as const) {
      fast.observe({ host }, v);
      ref.observe({ host }, v);
    }
    expect(await fastRegistry.metrics()).toBe(await refRegistry.metrics());
    expect(await fastRegistry.metrics()).toContain('d_seconds_bucket{le="0.1",host="a"} 2');
  });
});
