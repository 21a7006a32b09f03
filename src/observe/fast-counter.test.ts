import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { fastCounter } from './fast-counter.js';

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
