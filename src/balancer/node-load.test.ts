import { describe, expect, it } from 'vitest';
import { MemoryEvents } from '../cluster/memory.js';
import { RetryBudget } from '../upstream/retry.js';
import { EXPIRE_MS, HEARTBEAT_MS, LOAD_TOPIC, NodeLoad, sampleLoad } from './node-load.js';
import { OriginStatus } from './origin-status.js';
import { leastConnections } from './origin/least-connections.js';
import { leastOutstandingRequests } from './origin/least-outstanding-requests.js';

const origin = (id: string, inflight = 0, websockets = 0) => ({ id, weight: 1, load: { inflight, websockets } });
const settle = () => new Promise((r) => setTimeout(r, 0));

/** Two workers of one node on one event bus, their clocks by hand. */
function twoWorkers() {
  const events = new MemoryEvents();
  let now = 0;
  const mk = (self: string) => {
    const origins = [origin('p/a'), origin('p/b')];
    const budgets = new Map<string, RetryBudget>();
    const load = new NodeLoad(events, { self, origins: () => origins, budgets, now: () => now });
    return { origins, budgets, load };
  };
  return { events, w1: mk('1'), w2: mk('2'), at: (ms: number) => (now = ms) };
}

describe('sampleLoad', () => {
  it('lists the non-zero counts once per origin id, and the pools with requests in flight', () => {
    const a = origin('p/a', 2, 1);
    const budgets = new Map([
      ['p', Object.assign(new RetryBudget(), { active: 3, retrying: 1 })],
      ['q', new RetryBudget()],
    ]);
    expect(sampleLoad('w', [a, a, origin('p/b')], budgets)).toEqual({ by: 'w', origins: [['p/a', 2, 1]], pools: [['p', 3, 1]] });
  });
});

describe('NodeLoad: the other workers, by periodic sums', () => {
  it("adds the other workers' published counts, never its own", async () => {
    const { w1, w2 } = twoWorkers();
    w1.origins[0].load.websockets = 3;
    w1.origins[1].load.inflight = 2;
    w1.load.tick();
    await settle();
    expect(w2.load.websockets('p/a')).toBe(3);
    expect(w2.load.inflight('p/b')).toBe(2);
    expect(w1.load.websockets('p/a')).toBe(0);
  });

  it('publishes on change, as a heartbeat while busy, and a last zero once', async () => {
    const { events, w1, at } = twoWorkers();
    const seen: unknown[] = [];
    events.subscribe(LOAD_TOPIC, (m) => seen.push(m.data));
    w1.origins[0].load.inflight = 1;
    w1.load.tick();
    w1.load.tick();
    at(HEARTBEAT_MS);
    w1.load.tick();
    w1.origins[0].load.inflight = 0;
    w1.load.tick();
    at(HEARTBEAT_MS * 3);
    w1.load.tick();
    await settle();
    expect(seen).toHaveLength(3);
  });

  it("drops a silent worker's counts after EXPIRE_MS (a worker that exited)", async () => {
    const { w1, w2, at } = twoWorkers();
    w1.origins[0].load.websockets = 4;
    w1.load.tick();
    await settle();
    at(EXPIRE_MS - 1);
    w2.load.tick();
    expect(w2.load.websockets('p/a')).toBe(4);
    at(EXPIRE_MS);
    w2.load.tick();
    expect(w2.load.websockets('p/a')).toBe(0);
  });

  it("gives each retry budget the others' requests and retries in flight", async () => {
    const { w1, w2 } = twoWorkers();
    w1.budgets.set('p', Object.assign(new RetryBudget(), { active: 10, retrying: 2 }));
    w1.load.tick();
    await settle();
    const b = w2.budgets.get('p')!;
    expect([b.peerActive, b.peerRetrying]).toEqual([10, 2]);
    // Budget 20% of 10 in flight node-wide = 2, minimum 1: the other worker's 2 retries use it up.
    const policy = { retries: 1, budgetRatio: 0.2, budgetMinimum: 1, deadlineMs: 1_000 };
    expect(b.allows(policy)).toBe(false);
    expect(new RetryBudget().allows(policy)).toBe(true);
  });
});

describe('origin steering on the node load', () => {
  it("least_connections and least_outstanding_requests count the other workers' load through OriginStatus", () => {
    const status = new OriginStatus();
    status.peers = { inflight: (id) => (id === 'p/a' ? 5 : 0), websockets: (id) => (id === 'p/b' ? 7 : 0) };
    const a = origin('p/a');
    const b = origin('p/b', 1);
    expect(status.inflight(a)).toBe(5);
    expect(status.websockets(b)).toBe(7);
    // Locally b is busier; node-wide a has 5 in flight against b's 1 + 7 tunnels.
    expect(leastConnections({ load: status }).pick([a, b])).toBe(a);
    expect(leastOutstandingRequests({ load: status }).pick([a, b])).toBe(b);
    // Without peers (a process alone) only the local counts.
    expect(leastOutstandingRequests({ load: new OriginStatus() }).pick([a, b])).toBe(a);
  });
});
