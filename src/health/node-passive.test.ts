import { describe, expect, it } from 'vitest';
import { OutlierDetector } from './passive.js';
import { WorkerPassive, isTallies, replay, tally, type OutcomeTally } from './node-passive.js';
import type { TrafficOutcome } from './passive.js';

const fresh = (id = 'p/a'): OutcomeTally => [id, 0, 0, 0, 0, 'server_error'];
const F: TrafficOutcome = 'server_error';
const S: TrafficOutcome = 'success';

function tallied(outcomes: TrafficOutcome[], id = 'p/a'): OutcomeTally {
  const t = fresh(id);
  for (const o of outcomes) tally(t, o);
  return t;
}

function detector(consecutiveFailures = 5) {
  const d = new OutlierDetector({ consecutiveFailures, now: () => 0 });
  d.setOrigins(['p/a', 'p/b', 'p/c', 'p/d'].map((id) => ({ id, pool: 'p', monitored: false })));
  return d;
}

describe('outcome tallies (a worker batch, replayed by the node)', () => {
  it('keep the failures before the first success, the longest run between successes and the trailing ones', () => {
    expect(tallied([F, F, S, F, F, F, S, F, S, F])).toEqual(['p/a', 2, 3, 1, 1, 'server_error']);
    expect(tallied([F, F, F])).toEqual(['p/a', 3, 0, 0, 0, 'server_error']);
    expect(tallied([S, S, 'connect_failure'])).toEqual(['p/a', 0, 0, 1, 1, 'connect_failure']);
  });

  it('replayed, eject exactly as the same outcomes recorded one by one would', () => {
    const runs: TrafficOutcome[][] = [
      [F, F, F, F, F],
      [F, F, F, F],
      [S, F, F, F, F, F, S],
      [F, F, S, F, F, F, F],
      [F, S, F, F, F, F, F],
      [S, F, F, F, F],
    ];
    for (const run of runs) {
      const direct = detector();
      for (const o of run) direct.record('p/a', o);
      const node = detector();
      replay(node, [tallied(run)]);
      expect(node.isEjected('p/a'), run.join(',')).toBe(direct.isEjected('p/a'));
    }
  });

  it('count across batches from different workers: 2 + 2 + 1 failures eject at 5', () => {
    const node = detector();
    replay(node, [tallied([F, F])]);
    replay(node, [tallied([F, F])]);
    expect(node.isEjected('p/a')).toBe(false);
    replay(node, [tallied([F])]);
    expect(node.isEjected('p/a')).toBe(true);
  });

  it('a success from any worker resets the node count', () => {
    const node = detector();
    replay(node, [tallied([F, F, F, F])]);
    replay(node, [tallied([S])]);
    replay(node, [tallied([F, F, F, F])]);
    expect(node.isEjected('p/a')).toBe(false);
  });

  it('are checked before the supervisor replays them', () => {
    expect(isTallies([tallied([F])])).toBe(true);
    expect(isTallies([['p/a', -1, 0, 0, 0, 'server_error']])).toBe(false);
    expect(isTallies([['p/a', 1, 0, 0, 0, 'bogus']])).toBe(false);
    expect(isTallies({})).toBe(false);
  });
});

describe('WorkerPassive', () => {
  it('sends one batch per flush with every origin it saw, and nothing when idle', () => {
    const sent: OutcomeTally[][] = [];
    const p = new WorkerPassive((b) => sent.push(b), 60_000);
    p.record('p/a', F);
    p.record('p/b', S);
    p.record('p/a', F);
    p.flush();
    p.flush();
    expect(sent).toEqual([
      [
        ['p/a', 2, 0, 0, 0, 'server_error'],
        ['p/b', 0, 0, 0, 1, 'server_error'],
      ],
    ]);
  });

  it('flushes on its own within its period', async () => {
    const sent: OutcomeTally[][] = [];
    const p = new WorkerPassive((b) => sent.push(b), 5);
    p.record('p/a', F);
    await new Promise((r) => setTimeout(r, 30));
    expect(sent).toHaveLength(1);
  });

  it('reads ejections as the supervisor published them: unmonitored back when time is up, monitored when told', () => {
    const p = new WorkerPassive(() => {}, 60_000);
    p.update([
      { id: 'p/a', until: 1_000, monitored: false },
      { id: 'p/b', until: 1_000, monitored: true },
    ]);
    expect(p.isEjected('p/a', 999)).toBe(true);
    expect(p.isEjected('p/a', 1_000)).toBe(false);
    expect(p.isEjected('p/b', 5_000)).toBe(true);
    expect(p.isEjected('p/c', 0)).toBe(false);
    p.update([]);
    expect(p.isEjected('p/b', 5_000)).toBe(false);
  });
});

describe('OutlierDetector.recordFailures', () => {
  it('n failures count as n records; the change listener hears ejections and returns', () => {
    let changes = 0;
    const d = new OutlierDetector({ consecutiveFailures: 3, now: () => 0, onChange: () => changes++ });
    d.setOrigins([
      { id: 'p/a', pool: 'p', monitored: true },
      { id: 'p/b', pool: 'p', monitored: true },
    ]);
    expect(d.recordFailures('p/a', 'connect_failure', 2)).toBeUndefined();
    expect(d.recordFailures('p/a', 'connect_failure', 10)?.outcome).toBe('connect_failure');
    expect(changes).toBe(1);
    expect(d.recovered('p/a')).toBe(true);
    expect(changes).toBe(2);
  });
});
