/**
 * The config loader as an operator meets it: every error of a file at once, each with its key
 * path, line and column; `outpost validate` printing them (exit 1) or "ok" (exit 0); certificate
 * paths relative to the config file; a key that does not match its certificate; and the JSON
 * Schema committed for editors, which must equal what the schema produces now.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile, type ConfigError } from '../src/config/load.js';
import { configJsonSchema } from '../src/config/schema.js';
import { createDevCa, issueCert } from '../src/tls/dev-certs.js';
import { ensureBuilt, repoRoot } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-config-'));
  await ensureBuilt(); // `outpost validate` runs from dist/
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` as `name` in the temp dir; returns its path. */
function file(name: string, text: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

/** `outpost validate -c FILE`, run as a user would (from another directory). */
function validate(path: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/outpost.js'), 'validate', '-c', path], { cwd: tmpdir(), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const GOOD = `pop:
  id: edge-1
listen:
  http: 127.0.0.1:8080
pools:
  main:
    origins:
      - { name: a, address: "http://127.0.0.1:3001" }
loadBalancers:
  - hostname: "*"
    defaultPools: [main]
`;

// Line numbers are on the left; columns count from 1.
const SEVERAL_ERRORS = [
  /*  1 */ 'pop:',
  /*  2 */ '  id: edge-1',
  /*  3 */ 'listen:',
  /*  4 */ '  http: 127.0.0.1:8080',
  /*  5 */ '  admin: localhost:99999',
  /*  6 */ 'workers: two',
  /*  7 */ 'limits:',
  /*  8 */ '  headersTimeout: 10 seconds',
  /*  9 */ 'upstream:',
  /* 10 */ '  conectTimeout: 5s',
  /* 11 */ 'pools:',
  /* 12 */ '  main:',
  /* 13 */ '    monitor: web',
  /* 14 */ '    origins:',
  /* 15 */ '      - name: a',
  /* 16 */ '        address: 127.0.0.1:3001',
  /* 17 */ '      - address: http://127.0.0.1:3002',
  /* 18 */ 'loadBalancers:',
  /* 19 */ '  - hostname: "*"',
  /* 20 */ '    defaultPools: [main, mian]',
  /* 21 */ '    fallbackPool: backup',
  '',
].join('\n');

const pick = (errors: ConfigError[]) => errors.map(({ path, line, column }) => ({ path, line, column }));

describe('config errors', () => {
  it('reports every error of a file at once, each with its key path, line and column', () => {
    const r = loadConfigFile(file('several.yaml', SEVERAL_ERRORS));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(pick(r.errors)).toEqual([
      { path: 'listen.admin', line: 5, column: 10 }, // bad address: port past 65535
      { path: 'workers', line: 6, column: 10 }, // wrong type
      { path: 'limits.headersTimeout', line: 8, column: 19 }, // bad duration
      { path: 'upstream.conectTimeout', line: 10, column: 3 }, // typo: points at the key itself
      { path: 'pools.main.monitor', line: 13, column: 14 }, // dangling monitor
      { path: 'pools.main.origins[0].address', line: 16, column: 18 }, // bad origin address
      { path: 'pools.main.origins[1].name', line: 17, column: 9 }, // missing: points at its map
      { path: 'loadBalancers[0].defaultPools[1]', line: 20, column: 26 }, // dangling pool
      { path: 'loadBalancers[0].fallbackPool', line: 21, column: 19 }, // dangling pool
    ]);
    const message = (path: string) => r.errors.find((e) => e.path === path)!.message;
    expect(message('listen.admin')).toBe('expected host:port (e.g. 0.0.0.0:8080), got "localhost:99999"');
    expect(message('workers')).toMatch(/expected number/);
    expect(message('limits.headersTimeout')).toMatch(/expected a duration/);
    expect(message('upstream.conectTimeout')).toBe('unknown key "conectTimeout" (did you mean "connectTimeout"?)');
    expect(message('pools.main.monitor')).toBe('no monitor named "web" in monitors');
    expect(message('pools.main.origins[0].address')).toMatch(/expected an http:\/\/ or https:\/\/ address/);
    expect(message('pools.main.origins[1].name')).toBe('required key is missing (expected string)');
    expect(message('loadBalancers[0].defaultPools[1]')).toBe('no pool named "mian" in pools');
    expect(message('loadBalancers[0].fallbackPool')).toBe('no pool named "backup" in pools');
  });

  it('reports a duplicate origin name, a duplicate hostname and https without tls', () => {
    const text = GOOD.replace('  http: 127.0.0.1:8080', '  https: 127.0.0.1:8443')
      .replace('      - { name: a, address: "http://127.0.0.1:3001" }', '      - { name: a, address: "http://127.0.0.1:3001" }\n      - { name: a, address: "http://127.0.0.1:3002" }')
      .concat('  - { hostname: "*", defaultPools: [main] }\n');
    const r = loadConfigFile(file('duplicates.yaml', text));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      { path: 'listen.https', line: 4, column: 10, message: 'an https listener needs tls.certificates' },
      { path: 'pools.main.origins[1].name', line: 9, column: 17, message: 'origin name "a" is used twice in pool main' },
      { path: 'loadBalancers[1].hostname', line: 13, column: 17, message: 'hostname "*" has two load balancers' },
    ]);
  });

  it('reports bad page rules and cache settings with their key path and line', () => {
    const text = GOOD.concat(
      [
        'cache:',
        '  memory: { maxSize: lots }', // line 13
        '  coalescing: { waitTimout: 5s }', // line 14: typo
        'rules:',
        '  - { match: "*/api/*", cache: bypas }', // line 16
        '  - { match: "ftp://example.com/*", edgeTtl: 30 }', // line 17: scheme, TTL without unit
        '  - { match: "*", bypassCacheOnCookie: "(unclosed", browserTTL: 1d }', // line 18: regex, typo
        '  - { match: "*", alwaysUseHttps: true }', // line 19: no https listener
        '  - { match: "old/*", forwardingUrl: { url: "https://new/$1" }, edgeTtl: 1h }', // line 20
        '  - { match: "has space/*" }', // line 21
        '',
      ].join('\n'),
    );
    const r = loadConfigFile(file('rules.yaml', text));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byPath = Object.fromEntries(r.errors.map((e) => [e.path, e]));
    expect(byPath['cache.memory.maxSize']).toMatchObject({ line: 13, message: expect.stringMatching(/expected a size/) });
    expect(byPath['cache.coalescing.waitTimout']).toMatchObject({ line: 14, message: 'unknown key "waitTimout" (did you mean "waitTimeout"?)' });
    expect(byPath['rules[0].cache']).toMatchObject({ line: 16 });
    expect(byPath['rules[1].match']).toMatchObject({ line: 17, message: 'the scheme of a URL pattern is http or https' });
    expect(byPath['rules[1].edgeTtl']).toMatchObject({ line: 17, message: expect.stringMatching(/expected a duration/) });
    expect(byPath['rules[2].bypassCacheOnCookie']).toMatchObject({ line: 18, message: expect.stringMatching(/invalid regular expression/) });
    expect(byPath['rules[2].browserTTL']).toMatchObject({ line: 18, message: 'unknown key "browserTTL" (did you mean "browserTtl"?)' });
    expect(byPath['rules[3].alwaysUseHttps']).toMatchObject({ line: 19, message: 'alwaysUseHttps needs an https listener (listen.https)' });
    expect(byPath['rules[4].forwardingUrl']).toMatchObject({ line: 20, message: 'a forwarding rule redirects and applies no other setting (remove edgeTtl)' });
    expect(byPath['rules[5].match']).toMatchObject({ line: 21, message: 'a URL pattern has no spaces' });
  });

  it('reports bad shield settings (CIDR, country, ASN, durations, keys, secret) with their key path and line', () => {
    const text = GOOD.concat(
      [
        'security:',
        '  level: paranoid', // line 13
        '  underAttack: maybe', // line 14
        '  challenge: { secret: short, difficulty: 40, clearance: forever }', // line 15
        '  auto: { factor: 1, window: 10 }', // line 16
        '  ipRules:',
        '    - { action: block, cidr: 10.0.0.0/33 }', // line 18
        '    - { action: block, country: ZZ }', // line 19
        '    - { action: challenge, asn: -5 }', // line 20
        '    - { action: allow, ip: 10.0.0.1, cidr: 10.0.0.0/8 }', // line 21
        '  rateLimits:',
        '    - { match: "*/api/*", requests: 10, period: 10 parsecs, key: "header:bad header" }', // line 23
        '    - { match: "*", requests: 0, period: 1s, timeout: soon, action: tarpit }', // line 24
        '',
      ].join('\n'),
    );
    const r = loadConfigFile(file('shield.yaml', text));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byPath = Object.fromEntries(r.errors.map((e) => [e.path, e]));
    expect(byPath['security.level']).toMatchObject({ line: 13 });
    expect(byPath['security.underAttack']).toMatchObject({ line: 14 });
    expect(byPath['security.challenge.secret']).toMatchObject({ line: 15, message: 'the challenge secret needs at least 32 characters' });
    expect(byPath['security.challenge.difficulty']).toMatchObject({ line: 15 });
    expect(byPath['security.challenge.clearance']).toMatchObject({ line: 15, message: expect.stringMatching(/expected a duration/) });
    expect(byPath['security.auto.factor']).toMatchObject({ line: 16 });
    expect(byPath['security.auto.window']).toMatchObject({ line: 16, message: expect.stringMatching(/expected a duration/) });
    expect(byPath['security.ipRules[0].cidr']).toMatchObject({ line: 18, message: 'expected a network such as 203.0.113.0/24' });
    expect(byPath['security.ipRules[1].country']).toMatchObject({ line: 19, message: expect.stringMatching(/ISO 3166-1 alpha-2/) });
    expect(byPath['security.ipRules[2].asn']).toMatchObject({ line: 20 });
    expect(byPath['security.ipRules[3]']).toMatchObject({ line: 21, message: 'an IP rule has exactly one target: ip, cidr, country or asn' });
    expect(byPath['security.rateLimits[0].period']).toMatchObject({ line: 23, message: expect.stringMatching(/expected a duration/) });
    expect(byPath['security.rateLimits[0].key']).toMatchObject({ line: 23, message: 'expected ip, header:<name> or cookie:<name>' });
    expect(byPath['security.rateLimits[1].requests']).toMatchObject({ line: 24 });
    expect(byPath['security.rateLimits[1].timeout']).toMatchObject({ line: 24 });
    expect(byPath['security.rateLimits[1].action']).toMatchObject({ line: 24 });
  });

  it('points a missing top-level section at the start of the file', () => {
    const r = loadConfigFile(file('no-listen.yaml', GOOD.replace('listen:\n  http: 127.0.0.1:8080\n', '')));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([{ path: 'listen', line: 1, column: 1, message: 'required key is missing (expected object)' }]);
  });

  it('reports YAML syntax errors with their line and column', () => {
    const text = ['pop:', '  id: edge-1', '  id: again', 'listen:', '  http: [127.0.0.1:8080', 'pools: {}', ''].join('\n');
    const r = loadConfigFile(file('syntax.yaml', text));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.path, e.line, e.column])).toEqual([
      ['', 3, 3], // duplicate key
      ['', 6, 1], // the flow sequence opened on line 5 never closes
    ]);
    expect(r.errors[0].message).toBe('YAML: Map keys must be unique');
    expect(r.errors[1].message).toMatch(/^YAML: Flow sequence/);
  });

  it('says a missing file is missing, with its path and no position', () => {
    const r = loadConfigFile(join(dir, 'nope.yaml'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([{ path: '', line: 0, column: 0, message: `config file not found: ${join(dir, 'nope.yaml')}` }]);
  });
});

/** Nine lines whose aliases expand to 9^9 values ("billion laughs"). */
const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((k, i) => {
    const prev = 'abcdefghi'[i];
    return `${k}: &${k} [${Array(9).fill(`*${prev}`).join(',')}]`;
  }),
  '',
].join('\n');

describe('YAML aliases', () => {
  it('refuses an alias bomb with the line of the alias that blows up, without throwing', () => {
    const r = loadConfigFile(file('bomb.yaml', ALIAS_BOMB));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0].message).toMatch(/^YAML: aliases expand this file by more than 100000 values/);
    expect(r.errors[0].line).toBeGreaterThan(1);
    expect(ALIAS_BOMB.split('\n')[r.errors[0].line - 1]).toContain('*');
  });

  it('refuses an alias with no anchor and an alias inside its own anchor, on their lines', () => {
    const missing = loadConfigFile(file('alias-missing.yaml', 'pop:\n  id: *nope\n'));
    expect(missing.ok ? [] : missing.errors).toEqual([{ path: '', line: 2, column: 7, message: 'YAML: alias *nope has no anchor &nope before it' }]);
    const loop = loadConfigFile(file('alias-loop.yaml', 'pop: {id: x}\nrules: &r [*r]\n'));
    expect(loop.ok ? [] : loop.errors).toEqual([{ path: '', line: 2, column: 12, message: 'YAML: alias *r is inside its own anchor (a loop)' }]);
  });

  it('still reads ordinary anchors and aliases, even one anchor used 150 times', () => {
    const origins = Array.from({ length: 150 }, (_, i) => `      - { name: o${i}, address: "http://127.0.0.1:${3000 + i}", weight: ${i === 0 ? '&w 0.5' : '*w'} }`).join('\n');
    const text = GOOD.replace(/ {4}origins:\n.*\n/, `    origins:\n${origins}\n`);
    const r = loadConfigFile(file('anchors.yaml', text));
    expect(r.ok ? [] : r.errors).toEqual([]);
    if (r.ok) expect(r.config.pools.main.origins.map((o) => o.weight)).toEqual(Array(150).fill(0.5));
  });
});

describe('outpost validate', () => {
  it('prints every error as file:line:col path: message and exits 1', () => {
    const path = file('cli-bad.yaml', SEVERAL_ERRORS);
    const r = validate(path);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe(`${path}:5:10 listen.admin: expected host:port (e.g. 0.0.0.0:8080), got "localhost:99999"`);
    expect(lines[3]).toBe(`${path}:10:3 upstream.conectTimeout: unknown key "conectTimeout" (did you mean "connectTimeout"?)`);
    expect(lines[6]).toBe(`${path}:17:9 pools.main.origins[1].name: required key is missing (expected string)`);
    expect(lines[7]).toBe(`${path}:20:26 loadBalancers[0].defaultPools[1]: no pool named "mian" in pools`);
    expect(lines[9]).toBe('9 error(s)');
    expect(r.stdout).toBe('');
  });

  it('prints "ok" and exits 0 for a good file', () => {
    const path = file('cli-good.yaml', GOOD);
    const r = validate(path);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${path}: ok\n`);
    expect(r.status).toBe(0);
  });

  it('exits 1 on a YAML syntax error', () => {
    const path = file('cli-syntax.yaml', 'pop: [\n');
    const r = validate(path);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${escapeRegExp(path)}:\\d+:\\d+ \\(file\\): YAML: `));
  });
});

describe('certificate files', () => {
  let ca: ReturnType<typeof createDevCa>;
  beforeAll(() => {
    ca = createDevCa();
    const a = issueCert(ca, ['edge.test']);
    const b = issueCert(ca, ['other.test']);
    file('site/certs/edge.crt', a.cert);
    file('site/certs/edge.key', a.key);
    file('site/certs/other.key', b.key);
    file('site/certs/ca.crt', ca.cert);
  });

  const tlsConfig = (cert: string, key: string, originCa = 'certs/ca.crt') =>
    GOOD.replace('listen:\n  http: 127.0.0.1:8080\n', 'listen:\n  https: 127.0.0.1:8443\n')
      .replace('pools:', `tls:\n  certificates:\n    - cert: ${cert}\n      key: ${key}\npools:`)
      .replace('{ name: a, address: "http://127.0.0.1:3001" }', `{ name: a, address: "https://127.0.0.1:3001", tls: { ca: ${originCa} } }`);

  it("resolves relative paths against the config file's directory, not the working directory", () => {
    const path = file('site/outpost.yaml', tlsConfig('certs/edge.crt', './certs/edge.key'));
    expect(process.cwd()).not.toBe(join(dir, 'site'));
    const r = loadConfigFile(path);
    expect(r.ok ? [] : r.errors).toEqual([]);
    if (!r.ok) return;
    expect(r.config.tls!.certificates[0].cert).toBe(join(dir, 'site/certs/edge.crt'));
    expect(r.config.tls!.certificates[0].key).toBe(join(dir, 'site/certs/edge.key'));
    expect(r.config.pools.main.origins[0].tls!.ca).toBe(join(dir, 'site/certs/ca.crt'));
    expect(validate(path).status).toBe(0);
  });

  it('reports a missing certificate file on its key path, with the resolved file name', () => {
    const r = loadConfigFile(file('site/missing-cert.yaml', tlsConfig('certs/gone.crt', 'certs/edge.key', 'certs/gone-ca.crt')));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.path, e.line, e.column])).toEqual([
      ['tls.certificates[0].cert', 7, 13],
      ['pools.main.origins[0].tls.ca', 12, 66],
    ]);
    expect(r.errors[0].message).toBe(`cannot read ${join(dir, 'site/certs/gone.crt')}: ENOENT`);
  });

  it("reports a key that does not match its certificate on the key's path", () => {
    const path = file('site/mismatch.yaml', tlsConfig('certs/edge.crt', 'certs/other.key'));
    const r = loadConfigFile(path);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([{ path: 'tls.certificates[0].key', line: 8, column: 12, message: 'this key does not match the certificate' }]);
    const cli = validate(path);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain(`${path}:8:12 tls.certificates[0].key: this key does not match the certificate`);
  });
});

describe('outpost.schema.json', () => {
  it('equals what configJsonSchema() produces now (regenerate: npm run schema)', () => {
    const committed = JSON.parse(readFileSync(join(repoRoot, 'outpost.schema.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(configJsonSchema())));
  });

  it('describes every key a user writes (editors show it as help)', () => {
    const missing: string[] = [];
    const walk = (s: any, path: string): void => {
      if (!s || typeof s !== 'object') return;
      for (const [k, v] of Object.entries<any>(s.properties ?? {})) {
        const at = path ? `${path}.${k}` : k;
        if (typeof v.description !== 'string' || v.description.length < 10) missing.push(at);
        walk(v, at);
      }
      if (s.items) walk(s.items, `${path}[]`);
      if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}.*`);
      for (const alt of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])]) walk(alt, path);
    };
    const committed = JSON.parse(readFileSync(join(repoRoot, 'outpost.schema.json'), 'utf8'));
    walk(committed, '');
    expect(missing).toEqual([]);
    // Nested keys are reached too: an origin's address, a rate limit's period, a page rule's TTL.
    expect(committed.properties.pools.additionalProperties.properties.origins.items.properties.address.description).toMatch(/origin/);
    expect(committed.properties.security.properties.rateLimits.items.properties.period.description).toBeDefined();
    expect(committed.properties.limits.properties.headersTimeout.description).toContain('Default: 10s');
  });

  it('is what `outpost schema` prints', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin/outpost.js'), 'schema'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(repoRoot, 'outpost.schema.json'), 'utf8'));
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
