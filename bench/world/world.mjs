/**
 * The world file (bench/world/world.yaml): regions with coordinates, the RTT of every pair of
 * regions, the last-mile RTT, the metro RTT (a PoP to a data centre in its region, default 2 ms),
 * the core region and where clients are. `loadWorld` refuses a file
 * with unknown regions, missing or twice-given pairs, or impossible values — an RTT faster than
 * light in fibre between the two cities — naming the key, and returns the world with an `rtt(a, b)`
 * lookup.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** Light in fibre covers ~200 km per ms (2/3 c): the least RTT over a distance is 2·d / 200. */
const FIBRE_KM_PER_MS = 200;
const MAX_RTT_MS = 2000;

export class WorldError extends Error {
  /** @param {string[]} problems `key: what is wrong` */
  constructor(file, problems) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** Great-circle distance in km. */
export function distanceKm(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

export function loadWorld(file) {
  return parseWorld(readFileSync(file, 'utf8'), file);
}

export function parseWorld(text, file = 'world.yaml') {
  let raw;
  try {
    raw = parse(text);
  } catch (err) {
    throw new WorldError(file, [`YAML: ${String(err.message).split('\n')[0]}`]);
  }
  const problems = [];
  const bad = (key, msg) => problems.push(`${key}: ${msg}`);
  const isObj = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const rttOk = (key, v) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > MAX_RTT_MS) {
      bad(key, `expected a round trip in ms, > 0 and <= ${MAX_RTT_MS}, got ${JSON.stringify(v)}`);
      return false;
    }
    return true;
  };
  if (!isObj(raw)) throw new WorldError(file, ['(root): expected a mapping with core, lastMileRttMs, regions, rttMs, clients']);
  for (const key of Object.keys(raw)) if (!['core', 'lastMileRttMs', 'metroRttMs', 'regions', 'rttMs', 'clients'].includes(key)) bad(key, 'unknown key');
  // A PoP to a data centre in its own region (same metro): a few ms at most.
  const metroRttMs = raw.metroRttMs ?? 2;
  if (rttOk('metroRttMs', metroRttMs) && metroRttMs > 20) bad('metroRttMs', `a PoP and a data centre in one region are within 20 ms, got ${metroRttMs}`);

  const regions = new Map();
  if (!isObj(raw.regions) || Object.keys(raw.regions).length < 2) bad('regions', 'expected a mapping of at least two regions');
  else {
    for (const [name, r] of Object.entries(raw.regions)) {
      const key = `regions.${name}`;
      if (!isObj(r)) {
        bad(key, 'expected { city, location: { lat, lon }, lastMileRttMs? }');
        continue;
      }
      for (const k of Object.keys(r)) if (!['city', 'location', 'lastMileRttMs'].includes(k)) bad(`${key}.${k}`, 'unknown key');
      const loc = r.location;
      if (!isObj(loc) || typeof loc.lat !== 'number' || typeof loc.lon !== 'number' || Math.abs(loc.lat) > 90 || Math.abs(loc.lon) > 180) {
        bad(`${key}.location`, 'expected { lat: -90..90, lon: -180..180 }');
        continue;
      }
      const lastMile = r.lastMileRttMs ?? raw.lastMileRttMs;
      if (!rttOk(r.lastMileRttMs !== undefined ? `${key}.lastMileRttMs` : 'lastMileRttMs', lastMile)) continue;
      regions.set(name, { name, city: typeof r.city === 'string' ? r.city : name, location: { lat: loc.lat, lon: loc.lon }, lastMileRttMs: lastMile });
    }
  }

  if (typeof raw.core !== 'string') bad('core', 'expected the name of a region');
  else if (isObj(raw.regions) && !(raw.core in raw.regions)) bad('core', `unknown region ${JSON.stringify(raw.core)}`);

  const pairs = new Map();
  const pairKey = (a, b) => (a < b ? `${a}|${b}` : `${b}|${a}`);
  if (!isObj(raw.rttMs)) bad('rttMs', 'expected a mapping: region → { region: ms }');
  else {
    for (const [a, row] of Object.entries(raw.rttMs)) {
      if (isObj(raw.regions) && !(a in raw.regions)) {
        bad(`rttMs.${a}`, `unknown region ${JSON.stringify(a)}`);
        continue;
      }
      if (!isObj(row)) {
        bad(`rttMs.${a}`, 'expected { region: ms }');
        continue;
      }
      for (const [b, v] of Object.entries(row)) {
        const key = `rttMs.${a}.${b}`;
        if (isObj(raw.regions) && !(b in raw.regions)) {
          bad(key, `unknown region ${JSON.stringify(b)}`);
          continue;
        }
        if (a === b) {
          bad(key, 'a region to itself is the last mile, not a link');
          continue;
        }
        if (pairs.has(pairKey(a, b))) {
          bad(key, `given twice (also as rttMs.${b}.${a})`);
          continue;
        }
        if (!rttOk(key, v)) continue;
        const ra = regions.get(a);
        const rb = regions.get(b);
        if (ra && rb) {
          const floor = (2 * distanceKm(ra.location, rb.location)) / FIBRE_KM_PER_MS;
          if (v < floor) bad(key, `${v} ms is faster than light in fibre over ${Math.round(distanceKm(ra.location, rb.location))} km (at least ${Math.ceil(floor)} ms)`);
        }
        pairs.set(pairKey(a, b), v);
      }
    }
    const names = [...regions.keys()];
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) {
        if (!pairs.has(pairKey(names[i], names[j]))) bad('rttMs', `missing the link ${names[i]} ↔ ${names[j]}`);
      }
    }
  }

  if (!Array.isArray(raw.clients) || raw.clients.length === 0) bad('clients', 'expected a list of regions');
  else
    raw.clients.forEach((c, i) => {
      if (!regions.has(c) && !(isObj(raw.regions) && c in raw.regions)) bad(`clients[${i}]`, `unknown region ${JSON.stringify(c)}`);
    });

  if (problems.length > 0) throw new WorldError(file, problems);
  return {
    core: raw.core,
    metroRttMs,
    regions,
    clients: [...raw.clients],
    /** RTT in ms between two regions (the last mile within one). */
    rtt(a, b) {
      if (a === b) return regions.get(a).lastMileRttMs;
      const v = pairs.get(pairKey(a, b));
      if (v === undefined) throw new Error(`no link ${a} ↔ ${b}`);
      return v;
    },
  };
}
