/** The world file of the simulation (bench/world/world.mjs): the shipped one loads; bad ones are refused by key. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs bench module without types
import { loadWorld, parseWorld } from '../bench/world/world.mjs';

const GOOD = `
core: eu-west
lastMileRttMs: 20
regions:
  eu-west: { city: Frankfurt, location: { lat: 50.11, lon: 8.68 } }
  ap-southeast: { city: Singapore, location: { lat: 1.35, lon: 103.82 }, lastMileRttMs: 25 }
  oceania: { city: Sydney, location: { lat: -33.87, lon: 151.21 } }
rttMs:
  eu-west: { ap-southeast: 160, oceania: 280 }
  oceania: { ap-southeast: 92 }
clients: [ap-southeast, oceania]
`;

function problems(text: string): string[] {
  try {
    parseWorld(text, 'w.yaml');
  } catch (err) {
    return (err as { problems: string[] }).problems;
  }
  throw new Error('accepted');
}

describe('the world file', () => {
  it('the shipped world loads, with the reference RTTs', () => {
    const w = loadWorld(fileURLToPath(new URL('../bench/world/world.yaml', import.meta.url)));
    expect(w.core).toBe('eu-west');
    expect(w.rtt('eu-west', 'ap-southeast')).toBe(160);
    expect(w.rtt('oceania', 'eu-west')).toBe(280);
    expect(w.rtt('oceania', 'oceania')).toBe(20);
    expect(w.clients).toContain('oceania');
  });

  it('looks up pairs in either order and the last mile per region', () => {
    const w = parseWorld(GOOD);
    expect(w.rtt('ap-southeast', 'oceania')).toBe(92);
    expect(w.rtt('ap-southeast', 'ap-southeast')).toBe(25);
  });

  it('refuses unknown regions, naming the key', () => {
    expect(problems(GOOD.replace('clients: [ap-southeast, oceania]', 'clients: [ap-southeast, mars]'))).toEqual(['clients[1]: unknown region "mars"']);
    expect(problems(GOOD.replace('core: eu-west', 'core: eu-central'))).toEqual(['core: unknown region "eu-central"']);
    expect(problems(GOOD.replace('oceania: { ap-southeast: 92 }', 'oceania: { ap-southeast: 92, moon: 3 }'))).toEqual(['rttMs.oceania.moon: unknown region "moon"']);
  });

  it('refuses a missing link and one given twice', () => {
    expect(problems(GOOD.replace('  oceania: { ap-southeast: 92 }\n', ''))).toEqual(['rttMs: missing the link ap-southeast ↔ oceania']);
    expect(problems(GOOD.replace('eu-west: { ap-southeast: 160, oceania: 280 }', 'eu-west: { ap-southeast: 160, oceania: 280 }\n  ap-southeast: { eu-west: 150 }'))).toEqual([
      'rttMs.ap-southeast.eu-west: given twice (also as rttMs.eu-west.ap-southeast)',
    ]);
  });

  it('refuses impossible values: negative, huge, faster than light, bad coordinates', () => {
    expect(problems(GOOD.replace('oceania: 280', 'oceania: -5'))[0]).toMatch(/^rttMs\.eu-west\.oceania: expected a round trip in ms/);
    expect(problems(GOOD.replace('oceania: 280', 'oceania: 99999'))[0]).toMatch(/^rttMs\.eu-west\.oceania: expected a round trip/);
    expect(problems(GOOD.replace('oceania: 280', 'oceania: 40'))).toEqual([expect.stringMatching(/^rttMs\.eu-west\.oceania: 40 ms is faster than light in fibre over 16\d\d\d km/)]);
    expect(problems(GOOD.replace('lat: -33.87', 'lat: -133.87'))).toContain('regions.oceania.location: expected { lat: -90..90, lon: -180..180 }');
    expect(problems(GOOD.replace('lastMileRttMs: 20', 'lastMileRttMs: 0'))).toEqual([expect.stringMatching(/^lastMileRttMs: expected a round trip/), expect.stringMatching(/^lastMileRttMs: /)]);
    expect(problems(GOOD.replace('lastMileRttMs: 20', 'lastMileRtt: 20'))).toContain('lastMileRtt: unknown key');
    expect(problems(GOOD.replace('core: eu-west', 'core: eu-west\nmetroRttMs: 45'))).toEqual(['metroRttMs: a PoP and a data centre in one region are within 20 ms, got 45']);
  });

  it('the metro RTT (a PoP to a data centre in its region) defaults to 2 ms', () => {
    expect(parseWorld(GOOD).metroRttMs).toBe(2);
    expect(parseWorld(GOOD.replace('core: eu-west', 'core: eu-west\nmetroRttMs: 1')).metroRttMs).toBe(1);
  });

  it('the harness refuses a bad world file by key, before it starts anything (exit 2)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'world-file-')), 'bad.yaml');
    writeFileSync(file, GOOD.replace('clients: [ap-southeast, oceania]', 'clients: [ap-southeast, mars]'));
    const run = spawnSync(process.execPath, [fileURLToPath(new URL('../bench/world/run.mjs', import.meta.url))], {
      env: { ...process.env, WORLD_FILE: file, WORLD_OUT: tmpdir() },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('clients[1]: unknown region "mars"');
  });
});
