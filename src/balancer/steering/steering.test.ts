/** Pool steering: one contract suite over every policy, then each policy's own rules. */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../origin/seeded-random.js';
import { greatCircleKm } from './distance.js';
import { DEFAULT_STEERING, pickOrder, poolsFor, STEERING, steeringPolicies, type SteeringPolicy } from './index.js';
import type { Coordinates, SteeringInput } from './types.js';

interface TestPool {
  readonly name: string;
  readonly location?: Coordinates;
}

const POOLS: Record<string, TestPool> = {
  fra: { name: 'fra', location: { lat: 50.11, lon: 8.68 } },
  iad: { name: 'iad', location: { lat: 38.95, lon: -77.45 } },
  sin: { name: 'sin', location: { lat: 1.35, lon: 103.82 } },
  syd: { name: 'syd', location: { lat: -33.87, lon: 151.21 } },
  gru: { name: 'gru', location: { lat: -23.43, lon: -46.47 } },
  lab: { name: 'lab' }, // no coordinates
  core: { name: 'core', location: { lat: 48.86, lon: 2.35 } },
};
const pools = (names: readonly string[]) => names.map((n) => POOLS[n]);
const names = (list: readonly TestPool[]) => list.map((p) => p.name);

interface Setup {
  defaultPools?: string[];
  fallback?: string;
  down?: string[];
  regionPools?: Record<string, string[]>;
  countryPools?: Record<string, string[]>;
  popPools?: Record<string, string[]>;
  weights?: Record<string, number>;
  defaultWeight?: number;
  pop?: SteeringInput['pop'];
  client?: Partial<SteeringInput['client']>;
  rtt?: Record<string, number>;
  outstanding?: Record<string, number>;
  seed?: number;
}

const map = (m: Record<string, string[]> = {}) => new Map(Object.entries(m).map(([k, v]) => [k, pools(v)]));

function input(s: Setup = {}): SteeringInput<TestPool> {
  const down = new Set(s.down ?? []);
  const random = seededRandom(s.seed ?? 1);
  return {
    defaultPools: pools(s.defaultPools ?? ['fra', 'iad', 'sin', 'syd']),
    fallback: s.fallback === undefined ? POOLS.core : s.fallback === '' ? undefined : POOLS[s.fallback],
    regionPools: map(s.regionPools),
    countryPools: map(s.countryPools),
    popPools: map(s.popPools),
    poolWeights: new Map(Object.entries(s.weights ?? {})),
    defaultWeight: s.defaultWeight,
    pop: s.pop ?? { id: 'ams', region: 'eu-west', location: { lat: 52.37, lon: 4.9 } },
    client: { ip: '203.0.113.9', ...s.client },
    healthy: (p) => !down.has(p.name),
    rtt: (p) => s.rtt?.[p.name],
    outstanding: (p) => s.outstanding?.[p.name] ?? 0,
    random,
  };
}

/** How often each pool comes first over `n` requests (a fresh seeded input each run). */
function firstShares(policy: SteeringPolicy, s: Setup, n = 6000): Map<string, number> {
  const counts = new Map<string, number>();
  const inp = input({ ...s, seed: s.seed ?? 11 });
  for (let i = 0; i < n; i++) {
    const first = steeringPolicies[policy].order(inp)[0].name;
    counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  return new Map([...counts].map(([k, v]) => [k, v / n]));
}

/** A setup under which every policy has all it needs (maps, coordinates, RTTs, weights). */
const full: Setup = {
  defaultPools: ['fra', 'iad', 'sin', 'syd', 'lab'],
  regionPools: { 'eu-west': ['fra', 'lab'], 'ap-southeast': ['sin', 'syd'] },
  countryPools: { BR: ['gru', 'iad'] },
  popPools: { ams: ['fra'] },
  weights: { fra: 2, iad: 1, sin: 1, syd: 0.5, lab: 1 },
  client: { country: 'BR', region: 'sa-east', location: { lat: -23.55, lon: -46.63 } },
  rtt: { fra: 12, iad: 90, sin: 160, syd: 250, lab: 5, gru: 200 },
  outstanding: { fra: 4, iad: 0, sin: 2, syd: 0, lab: 1 },
};

it('every config name has a policy; the default is failover', () => {
  expect(Object.keys(steeringPolicies).sort()).toEqual([...STEERING].sort());
  expect(DEFAULT_STEERING).toBe('off');
  for (const name of STEERING) expect(pickOrder(name)).toBe(steeringPolicies[name]);
  expect(() => pickOrder('nearest' as SteeringPolicy)).toThrow(/unknown steering policy: nearest/);
  expect(() => pickOrder('toString' as SteeringPolicy)).toThrow(/unknown steering policy/);
});

for (const name of STEERING) {
  describe(`pool steering contract: ${name}`, () => {
    it('lists every healthy default pool once, and nothing unhealthy', () => {
      for (let seed = 1; seed <= 20; seed++) {
        const got = names(poolsFor(input({ ...full, down: ['sin', 'gru'], seed }), name));
        expect(new Set(got).size).toBe(got.length);
        expect(got).not.toContain('sin');
        expect(got).not.toContain('gru');
        for (const p of ['fra', 'iad', 'syd', 'lab']) expect(got).toContain(p);
        expect(got.at(-1)).toBe('core'); // fallback: the last resort
      }
    });

    it('all steered pools down: the fallback alone', () => {
      const down = ['fra', 'iad', 'sin', 'syd', 'lab', 'gru'];
      expect(names(poolsFor(input({ ...full, down }), name))).toEqual(['core']);
      expect(steeringPolicies[name].order(input({ ...full, down }))).toEqual([]);
    });

    it('fallback down too, or none: an empty list', () => {
      const down = ['fra', 'iad', 'sin', 'syd', 'lab', 'gru'];
      expect(poolsFor(input({ ...full, down: [...down, 'core'] }), name)).toEqual([]);
      expect(poolsFor(input({ ...full, down, fallback: '' }), name)).toEqual([]);
    });

    it('the fallback is not listed twice when it is also a steered pool', () => {
      const got = names(poolsFor(input({ ...full, fallback: 'iad' }), name));
      expect(got.filter((n) => n === 'iad')).toHaveLength(1);
    });

    it('is reproducible with a seeded random and leaves its input alone', () => {
      const run = () => Array.from({ length: 30 }, (_, i) => names(poolsFor(input({ ...full, seed: i }), name)).join());
      expect(run()).toEqual(run());
      const inp = input(full);
      poolsFor(inp, name);
      expect(names(inp.defaultPools)).toEqual(full.defaultPools);
    });

    it('one healthy pool: that pool, then the fallback', () => {
      expect(names(poolsFor(input({ ...full, down: ['fra', 'sin', 'syd', 'lab', 'gru'] }), name))).toEqual(['iad', 'core']);
    });
  });
}

describe('off (failover)', () => {
  it('keeps the configured order, skipping unhealthy pools', () => {
    expect(names(poolsFor(input(), 'off'))).toEqual(['fra', 'iad', 'sin', 'syd', 'core']);
    expect(names(poolsFor(input({ down: ['fra', 'sin'] }), 'off'))).toEqual(['iad', 'syd', 'core']);
  });
});

describe('random', () => {
  it('draws the first pool by weight (missing weight = 1) and keeps failover order after it', () => {
    const shares = firstShares('random', { weights: { fra: 3, iad: 1 } }); // sin, syd: 1
    expect(shares.get('fra')).toBeGreaterThan(0.5 - 0.03);
    expect(shares.get('fra')).toBeLessThan(0.5 + 0.03);
    for (const p of ['iad', 'sin', 'syd']) expect(Math.abs(shares.get(p)! - 1 / 6)).toBeLessThan(0.025);
    const inp = input({ seed: 3 });
    for (let i = 0; i < 50; i++) {
      const [first, ...rest] = names(steeringPolicies.random.order(inp));
      expect(rest).toEqual(['fra', 'iad', 'sin', 'syd'].filter((n) => n !== first));
    }
  });

  it('honours defaultWeight and never draws a weight-0 pool first while another has weight', () => {
    const shares = firstShares('random', { weights: { sin: 1 }, defaultWeight: 0 });
    expect(shares.get('sin')).toBe(1);
    expect(firstShares('random', { weights: { fra: 0, iad: 0, sin: 0, syd: 0 } }).size).toBe(4); // all 0: uniform
  });

  it('draws only among healthy pools', () => {
    const shares = firstShares('random', { weights: { fra: 100 }, down: ['fra'] });
    expect(shares.has('fra')).toBe(false);
    expect(shares.size).toBe(3);
  });
});

describe('geo', () => {
  const maps: Setup = {
    defaultPools: ['fra', 'iad'],
    popPools: { gru1: ['gru'] },
    countryPools: { AU: ['syd'], BR: ['iad'] },
    regionPools: { 'ap-southeast': ['sin', 'syd'], 'eu-west': ['fra'], 'sa-east': ['gru', 'iad'] },
  };
  const geo = (s: Setup) => names(poolsFor(input({ ...maps, ...s }), 'geo'));

  it('PoP pools, then country, then region, then default pools, each once', () => {
    expect(geo({ pop: { id: 'gru1', region: 'sa-east' }, client: { country: 'AU', region: 'ap-southeast' } })).toEqual(['gru', 'syd', 'sin', 'fra', 'iad', 'core']);
  });

  it("uses the client's region, else the PoP's", () => {
    expect(geo({ pop: { id: 'sin1', region: 'ap-southeast' }, client: { region: 'eu-west' } })).toEqual(['fra', 'iad', 'core']);
    expect(geo({ pop: { id: 'sin1', region: 'ap-southeast' }, client: {} })).toEqual(['sin', 'syd', 'fra', 'iad', 'core']);
  });

  it('a client matching no map gets the default pools', () => {
    expect(geo({ pop: { id: 'x', region: 'af-south' }, client: { country: 'ZA', region: 'af-south' } })).toEqual(['fra', 'iad', 'core']);
    expect(names(poolsFor(input({ defaultPools: ['iad', 'fra'] }), 'geo'))).toEqual(['iad', 'fra', 'core']);
  });

  it('skips unhealthy mapped pools and fails over to the next list', () => {
    expect(geo({ pop: { id: 'sin1', region: 'ap-southeast' }, client: { country: 'AU' }, down: ['syd'] })).toEqual(['sin', 'fra', 'iad', 'core']);
    expect(geo({ pop: { id: 'sin1', region: 'ap-southeast' }, client: { country: 'AU' }, down: ['syd', 'sin'] })).toEqual(['fra', 'iad', 'core']);
  });
});

describe('proximity', () => {
  it('measures the great circle', () => {
    expect(greatCircleKm({ lat: 51.5074, lon: -0.1278 }, { lat: 48.8566, lon: 2.3522 })).toBeCloseTo(343.6, 0); // London–Paris
    expect(greatCircleKm({ lat: 0, lon: 0 }, { lat: 0, lon: 1 })).toBeCloseTo(111.2, 1);
    expect(greatCircleKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(20015.1, 0);
    expect(greatCircleKm(POOLS.sin.location!, POOLS.sin.location!)).toBe(0);
  });

  it('nearest pool to the client first', () => {
    const client = { location: { lat: -37.81, lon: 144.96 } }; // Melbourne
    expect(names(poolsFor(input({ client }), 'proximity'))).toEqual(['syd', 'sin', 'fra', 'iad', 'core']);
    expect(names(poolsFor(input({ client, down: ['syd'] }), 'proximity'))).toEqual(['sin', 'fra', 'iad', 'core']);
  });

  it("measures from the PoP when the client's location is unknown", () => {
    const pop = { id: 'ewr', region: 'us-east', location: { lat: 40.69, lon: -74.17 } };
    expect(names(poolsFor(input({ pop }), 'proximity'))).toEqual(['iad', 'fra', 'sin', 'syd', 'core']); // Newark: Singapore 15,300 km, Sydney 16,000;
  });

  it('pools without coordinates go last, in failover order; no origin point at all is failover', () => {
    const s: Setup = { defaultPools: ['lab', 'syd', 'fra'], client: { location: { lat: 48.1, lon: 11.6 } } };
    expect(names(poolsFor(input(s), 'proximity'))).toEqual(['fra', 'syd', 'lab', 'core']);
    const nowhere = input({ ...s, client: {}, pop: { id: 'x', region: 'r' } });
    expect(names(poolsFor(nowhere, 'proximity'))).toEqual(['lab', 'syd', 'fra', 'core']);
  });
});

describe('dynamic_latency', () => {
  it('fastest pool first by RTT EWMA', () => {
    expect(names(poolsFor(input({ rtt: { fra: 80, iad: 20, sin: 150, syd: 20.5 } }), 'dynamic_latency'))).toEqual(['iad', 'syd', 'fra', 'sin', 'core']);
  });

  it('failover order until every healthy pool has a measurement', () => {
    expect(names(poolsFor(input({ rtt: { fra: 80, iad: 20, sin: 150 } }), 'dynamic_latency'))).toEqual(['fra', 'iad', 'sin', 'syd', 'core']);
    // A pool that is down (and so has no fresh RTT) does not hold the others back.
    expect(names(poolsFor(input({ rtt: { fra: 80, iad: 20, sin: 150 }, down: ['syd'] }), 'dynamic_latency'))).toEqual(['iad', 'fra', 'sin', 'core']);
  });

  it('equal RTTs keep failover order', () => {
    expect(names(poolsFor(input({ rtt: { fra: 30, iad: 30, sin: 30, syd: 10 } }), 'dynamic_latency'))).toEqual(['syd', 'fra', 'iad', 'sin', 'core']);
  });
});

describe('least_outstanding_requests', () => {
  const two: Setup = { defaultPools: ['fra', 'iad'] };

  it('idle pools split by weight', () => {
    const shares = firstShares('least_outstanding_requests', { ...two, weights: { fra: 3, iad: 1 } });
    expect(shares.get('fra')).toBeGreaterThan(0.72);
    expect(shares.get('fra')).toBeLessThan(0.78);
  });

  it('a pool holding n requests weighs 1/(n+1) of its idle share', () => {
    // fra: 1 / 10, iad: 1 / 1 → fra first 1/11 of the time.
    const shares = firstShares('least_outstanding_requests', { ...two, outstanding: { fra: 9 } });
    expect(shares.get('fra')).toBeGreaterThan(1 / 11 - 0.02);
    expect(shares.get('fra')).toBeLessThan(1 / 11 + 0.02);
  });

  it('after the first, least loaded per weight first', () => {
    const inp = input({ outstanding: { fra: 9, iad: 0, sin: 3, syd: 1 }, weights: { syd: 0 } });
    for (let i = 0; i < 50; i++) {
      const [first, ...rest] = names(steeringPolicies.least_outstanding_requests.order(inp));
      expect(first).not.toBe('syd');
      expect(rest).toEqual(['iad', 'sin', 'fra', 'syd'].filter((n) => n !== first));
    }
  });
});
