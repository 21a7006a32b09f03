/**
 * Checks between objects of a config: names that must exist (pools, monitors), names used twice,
 * and steering policies that need data the file does not give. They run on the raw input, apart
 * from the schema, so they are reported together with every other error even when unrelated
 * keys are missing or wrong (a schema refinement would be skipped then).
 */
import { parseListen, type ListenAddress } from './schema.js';

export interface ReferenceIssue {
  path: (string | number)[];
  message: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});

export function checkReferences(raw: unknown): ReferenceIssue[] {
  const out: ReferenceIssue[] = [];
  const add = (path: (string | number)[], message: string) => out.push({ path, message });
  const c = obj(raw);
  const pools = obj(c.pools);
  const monitors = obj(c.monitors);
  const hasPool = (p: unknown) => typeof p === 'string' && Object.hasOwn(pools, p);
  const poolRef = (path: (string | number)[], p: unknown) => {
    if (typeof p === 'string' && !hasPool(p)) add(path, `no pool named "${p}" in pools`);
  };

  for (const [name, rawPool] of Object.entries(pools)) {
    const p = obj(rawPool);
    if (typeof p.monitor === 'string' && !Object.hasOwn(monitors, p.monitor)) {
      add(['pools', name, 'monitor'], `no monitor named "${p.monitor}" in monitors`);
    }
    const seen = new Set<string>();
    arr(p.origins).forEach((o, i) => {
      const n = obj(o).name;
      if (typeof n !== 'string') return;
      if (seen.has(n)) add(['pools', name, 'origins', i, 'name'], `origin name "${n}" is used twice in pool ${name}`);
      seen.add(n);
    });
  }

  const hosts = new Set<string>();
  arr(c.loadBalancers).forEach((rawLb, i) => {
    const lb = obj(rawLb);
    const at = (...rest: (string | number)[]) => ['loadBalancers', i, ...rest];
    if (typeof lb.hostname === 'string') {
      if (hosts.has(lb.hostname)) add(at('hostname'), `hostname "${lb.hostname}" has two load balancers`);
      hosts.add(lb.hostname);
    }
    arr(lb.defaultPools).forEach((p, j) => {
      poolRef(at('defaultPools', j), p);
    });
    poolRef(at('fallbackPool'), lb.fallbackPool);
    for (const key of ['regionPools', 'countryPools', 'popPools'] as const) {
      for (const [k, list] of Object.entries(obj(lb[key]))) {
        arr(list).forEach((p, j) => {
          poolRef(at(key, k, j), p);
        });
      }
    }
    for (const p of Object.keys(obj(obj(lb.randomSteering).poolWeights))) poolRef(at('randomSteering', 'poolWeights', p), p);

    // A policy that needs data the config does not give is refused, not silently degraded.
    const maps = ['regionPools', 'countryPools', 'popPools'].some((k) => Object.keys(obj(lb[k])).length > 0);
    if (lb.steering === 'geo' && !maps) add(at('steering'), 'geo steering needs regionPools, countryPools or popPools');
    if (lb.steering === 'proximity') {
      const used = new Set([...arr(lb.defaultPools), lb.fallbackPool].filter(hasPool) as string[]);
      for (const p of used) {
        if (!isObj(obj(pools[p]).location)) add(['pools', p, 'location'], `proximity steering (loadBalancers[${i}]) needs a location for pool ${p}`);
      }
      if (!isObj(obj(c.pop).location)) add(['pop', 'location'], `proximity steering (loadBalancers[${i}]) needs the PoP's location`);
    }
    const aff = obj(lb.sessionAffinity);
    if (aff.type === 'header' && arr(aff.headers).length === 0) add(at('sessionAffinity', 'headers'), 'header affinity needs at least one header name');
    if (aff.sameSite === 'none' && aff.secure === 'never') add(at('sessionAffinity', 'sameSite'), 'SameSite=None cookies must be Secure (browsers drop them otherwise)');
  });

  const listen = obj(c.listen);
  for (const clash of listenClashes(listen)) add(['listen', clash.key], clash.message);
  if (listen.https !== undefined && c.tls === undefined) add(['listen', 'https'], 'an https listener needs tls.certificates');
  arr(c.rules).forEach((r, i) => {
    if (obj(r).alwaysUseHttps === true && listen.https === undefined) add(['rules', i, 'alwaysUseHttps'], 'alwaysUseHttps needs an https listener (listen.https)');
  });
  return out;
}

/** Default admin address (schema.ts's default for listen.admin). */
const DEFAULT_ADMIN = '127.0.0.1:9090';
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/**
 * Two listeners that cannot both bind: the same port on the same host, or on any host when one
 * of them is a wildcard (0.0.0.0 and :: take the port on every address; on Linux :: is dual-stack).
 * Port 0 (a port the kernel picks) never clashes. Without this check the second bind fails at
 * start with EADDRINUSE.
 */
function listenClashes(listen: Obj): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  const seen: { key: string; addr: ListenAddress }[] = [];
  for (const key of ['http', 'https', 'admin'] as const) {
    const value = listen[key] ?? (key === 'admin' ? DEFAULT_ADMIN : undefined);
    if (typeof value !== 'string' && typeof value !== 'number') continue;
    const addr = parseListen(String(value));
    if (!addr || addr.port === 0) continue;
    const other = seen.find((s) => s.addr.port === addr.port && (s.addr.host === addr.host || WILDCARDS.has(s.addr.host) || WILDCARDS.has(addr.host)));
    if (other) {
      const shown = (a: ListenAddress) => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
      const given = key === 'admin' && listen.admin === undefined ? ' (the default admin address)' : '';
      out.push({ key, message: `listen.${key} ${shown(addr)}${given} takes the same port as listen.${other.key} ${shown(other.addr)}: two listeners cannot bind one address` });
    }
    seen.push({ key, addr });
  }
  return out;
}
