import { describe, expect, it } from 'vitest';
import { MemoryEvents } from './memory.js';
import { PopDirectory, type PopHeartbeat } from './pops.js';

const beat = (pop: string, startedAt: number): PopHeartbeat => ({
  pop,
  config: { source: 'file', version: 0, hash: 'h' },
  cluster: { backend: 'memory', connected: true },
  workers: 2,
  startedAt,
  at: 0,
});

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('PopDirectory', () => {
  it('lists the PoPs heard, itself included, up then away, and counts the known ones', async () => {
    const events = new MemoryEvents();
    let now = 1_000_000;
    const dir = new PopDirectory(
      events,
      () => beat('fra', 1),
      () => now,
    );
    dir.beat();
    events.publish('pops.heartbeat', beat('sin', 2));
    await tick();
    expect(dir.list().map((p) => [p.pop, p.state])).toEqual([
      ['fra', 'up'],
      ['sin', 'up'],
    ]);
    now += 20_000;
    dir.beat();
    await tick();
    expect(dir.list().map((p) => [p.pop, p.state])).toEqual([
      ['fra', 'up'],
      ['sin', 'away'],
    ]);
    expect(dir.knownCount()).toBe(2);
    now += 3_600_001;
    dir.beat();
    await tick();
    expect(dir.list().map((p) => p.pop)).toEqual(['fra']);
    dir.stop();
  });

  it('says so, once, when another process heartbeats under its own id', async () => {
    const events = new MemoryEvents();
    const twins: number[] = [];
    const dir = new PopDirectory(
      events,
      () => beat('fra', 1),
      Date.now,
      (other) => twins.push(other.startedAt),
    );
    dir.beat();
    for (let i = 0; i < 3; i++) events.publish('pops.heartbeat', beat('fra', 99));
    await tick();
    expect(twins).toEqual([99]);
    expect(dir.list()).toHaveLength(1);
    dir.stop();
  });
});
