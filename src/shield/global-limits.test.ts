import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Hub, Spoke, type BusFrame, type Channel } from '../cluster/bus.js';
import { MemoryCluster } from '../cluster/memory.js';
import { BusLimits, serveGlobalLimits } from './global-limits.js';
import type { LimitRule } from './node-limits.js';

const rule: LimitRule = { signature: 'g', requests: 5, periodMs: 10_000, timeoutMs: 10_000, global: { onRedisError: 'local' } };

function spokes(n: number, hub: Hub) {
  return Array.from({ length: n }, (_, i) => {
    const { port1, port2 } = new MessageChannel();
    const end = (port: typeof port1): Channel => ({ send: (f: BusFrame) => port.postMessage(f), onFrame: (h) => port.on('message', h) });
    hub.attach(`w${i}`, end(port2));
    return {
      limits: new BusLimits(new Spoke(end(port1), `w${i}`)),
      close: () => {
        port1.close();
        port2.close();
      },
    };
  });
}

describe('global limits over the bus', () => {
  it('without Redis, every worker counts against one count for the node', async () => {
    const hub = new Hub();
    serveGlobalLimits(hub, new MemoryCluster(), () => 1);
    const workers = spokes(3, hub);
    try {
      const decisions = [];
      for (let i = 0; i < 12; i++) decisions.push(await workers[i % 3].limits.hit(rule, 'client', Date.now()));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
      expect(decisions.filter((d) => !d.allowed && d.fresh)).toHaveLength(1);
    } finally {
      for (const w of workers) w.close();
    }
  });

  it('a worker whose supervisor does not answer counts alone, at the full limit', async () => {
    const silent = new BusLimits(new Spoke({ send: () => true, onFrame: () => {} }, 'w1'));
    const d = await Promise.all(Array.from({ length: 6 }, () => silent.hit(rule, 'client', Date.now())));
    expect(d.filter((x) => x.allowed)).toHaveLength(5);
  });
});
