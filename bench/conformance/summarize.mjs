// Turns the raw cache-tests results in bench/conformance/results/ into RESULTS.md.
//   node summarize.mjs --suite DIR --results DIR --out FILE
// Each result is classified with the suite's own determineTestResult() (its test-engine/lib/
// results.mjs, loaded from the suite directory, dependencies honoured as on cache-tests.fyi), by
// the test's kind: required (a MUST of RFC 9111; kind unset counts as required), optimal (what a
// good cache does), check (information only).
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: { suite: { type: 'string' }, results: { type: 'string' }, out: { type: 'string' } },
});
if (!args.suite || !args.results || !args.out) {
  console.error('usage: node summarize.mjs --suite DIR --results DIR --out FILE');
  process.exit(2);
}
const suiteDir = resolve(args.suite);
const load = (p) => import(pathToFileURL(join(suiteDir, p)).href);
const { default: suites } = await load('tests/index.mjs');
// test-engine/lib/results.mjs in the repository; lib/display.mjs in older (npm) releases.
const engine = existsSync(join(suiteDir, 'test-engine/lib/results.mjs')) ? await load('test-engine/lib/results.mjs') : await load('lib/display.mjs');
const determine = engine.determineTestResult;
// The result kinds by the symbol the suite prints for them (the same in every release).
const SYMBOL = { pass: '✅', fail: '⛔️', optional_fail: '⚠️', yes: 'Y', no: 'N', setup_fail: '🔹', harness_fail: '⁉️', dependency_fail: '⚪️', retry: '↻' };
const resultTypes = SYMBOL;
const determineTestResult = (...a) => determine(...a)[2];

const tests = new Map();
for (const suite of suites) for (const t of suite.tests) tests.set(t.id, { ...t, suite: suite.name });
const kindOf = (id) => tests.get(id)?.kind ?? 'required';

const ORDER = ['nginx', 'varnish', 'squid', 'outpost-before-cache', 'outpost-workers-1', 'outpost'];
const LABEL = {
  nginx: 'nginx',
  varnish: 'Varnish',
  squid: 'Squid',
  'outpost-before-cache': 'Outpost (before the cache)',
  'outpost-workers-1': 'Outpost (workers: 1)',
  outpost: 'Outpost (default config)',
};
const names = readdirSync(args.results)
  .filter((f) => f.endsWith('.json') && !f.endsWith('.meta.json'))
  .map((f) => f.slice(0, -5))
  .sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));

function classify(results) {
  const c = {
    run: 0,
    passed: 0,
    requiredTotal: 0,
    requiredPassed: 0,
    requiredFailed: [],
    requiredRaw: 0,
    optimalFailed: 0,
    optimalIds: [],
    setupIds: [],
    checkNo: 0,
    setup: 0,
    dependency: 0,
    harness: 0,
    retry: 0,
  };
  for (const [id, raw] of Object.entries(results)) {
    if (!tests.has(id)) continue; // a test the current suite no longer has
    c.run++;
    const kind = kindOf(id);
    const r = determineTestResult(suites, id, results, true);
    if (kind === 'required') {
      c.requiredTotal++;
      if (raw !== true && determineTestResult(suites, id, results, false) === resultTypes.fail) c.requiredRaw++;
    }
    if (r === resultTypes.pass || r === resultTypes.yes) {
      c.passed++;
      if (kind === 'required') c.requiredPassed++;
    } else if (r === resultTypes.fail) c.requiredFailed.push(id);
    else if (r === resultTypes.optional_fail) {
      c.optimalFailed++;
      c.optimalIds.push(id);
    } else if (r === resultTypes.no) c.checkNo++;
    else if (r === resultTypes.setup_fail) {
      c.setup++;
      c.setupIds.push(id);
    } else if (r === resultTypes.dependency_fail) c.dependency++;
    else if (r === resultTypes.retry) c.retry++;
    else c.harness++;
  }
  return c;
}

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const rows = names.map((name) => {
  const results = readJson(join(args.results, `${name}.json`));
  const metaFile = join(args.results, `${name}.meta.json`);
  const meta = existsSync(metaFile) ? readJson(metaFile) : {};
  return { name, results, meta, c: classify(results) };
});

// The suite's own published results (its docker image: Ubuntu's packages), as a sanity check
// that our configs reproduce the same behaviour.
function published(name) {
  const f = join(suiteDir, 'results', `${name}.json`);
  if (!existsSync(f)) return '';
  return String(classify(readJson(f)).requiredFailed.length);
}

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const short = (s, n = 140) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const message = (raw) => (raw === true ? 'pass' : Array.isArray(raw) ? raw.filter(Boolean).join(': ') : String(raw));

const out = [];
out.push('# HTTP caching conformance (cache-tests.fyi)');
out.push('');
out.push('Written by `bash bench/conformance/run.sh` (see [README.md](README.md)) from the raw results in');
out.push('[results/](results/): the independent [cache-tests](https://github.com/http-tests/cache-tests)');
out.push("suite run against each proxy as a shared cache in front of the suite's own test server, on");
out.push("one machine's loopback. Results are classified with the suite's own rules (dependencies");
out.push('honoured, as on cache-tests.fyi): a *required* test is a MUST of RFC 9111; *optimal* is what');
out.push('a good cache does; a *check* only records a behaviour. A test whose dependency failed is not');
out.push("assessed; a *setup* failure means the test's precondition did not hold (not a failure).");
out.push('');
out.push(
  '| proxy | version | date (UTC) | tests run | passed | required failed | required passed / total | optimal not met | check "no" | setup failed | not assessed (dependency) | harness / retry | required failed, dependencies ignored | required failed in the suite\'s published results |',
);
out.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const { name, meta, c } of rows) {
  out.push(
    `| ${LABEL[name] ?? name} | ${cell(meta.version ?? '?')} | ${(meta.date ?? '?').slice(0, 16).replace('T', ' ')} | ${c.run} | ${c.passed} | **${c.requiredFailed.length}** | ${c.requiredPassed} / ${c.requiredTotal} | ${c.optimalFailed} | ${c.checkNo} | ${c.setup} | ${c.dependency} | ${c.harness + c.retry} | ${c.requiredRaw} | ${published(name)} |`,
  );
}
out.push('');
const suites_ = [...new Set(rows.map((r) => r.meta.suite).filter(Boolean))];
const commands = [...new Set(rows.map((r) => r.meta.command).filter(Boolean))];
out.push(`- suite: ${suites_.join('; ') || '?'}; node ${rows[0]?.meta.node ?? '?'}`);
out.push(`- commands: ${commands.map((c) => `\`${c}\``).join(', ') || '?'}`);
out.push("- configs: [nginx.conf](nginx.conf), [varnish.vcl](varnish.vcl) (with the suite's varnishd parameters), [squid.conf](squid.conf), [outpost.yaml](outpost.yaml)");
if (rows.some((r) => r.name === 'outpost-before-cache')) {
  out.push(
    '- *Outpost (before the cache)*: Outpost as it was before its cache was wired (the same config without `cache:` and `rules:`, which that build rejected): a pass-through proxy. It stores nothing, so the optimal tests that need a stored response fail and the required tests built on them are not assessed.',
  );
}
if (rows.some((r) => r.name === 'outpost')) {
  out.push(
    '- *Outpost (default config)*: `outpost start` with [outpost.yaml](outpost.yaml): `workers` and `cache` unset, so one worker per core (two on the machine of the run above) over the node\'s shared cache tier (docs/cache.md, "Many workers, one cache"). Each connection of the suite\'s client may reach either worker.',
  );
}
out.push('');

out.push('## Required tests failed');
out.push('');
out.push('Per proxy, with what the suite reported. "Also failed by": the other proxies of this table that fail the same test.');
for (const row of rows) {
  const { name, results, c } = row;
  const label = LABEL[name] ?? name;
  out.push('');
  out.push(`### ${label}: ${c.requiredFailed.length}`);
  if (!c.requiredFailed.length) continue;
  out.push('');
  out.push(`Ids: ${c.requiredFailed.map((id) => `\`${id}\``).join(', ')}`);
  out.push('');
  const open = name.startsWith('outpost');
  out.push(open ? '' : '<details><summary>details</summary>\n');
  out.push('| test id | test | reported | also failed by |');
  out.push('| --- | --- | --- | --- |');
  for (const id of c.requiredFailed) {
    const others = rows.filter((r) => r.name !== name && !r.name.startsWith('outpost') && r.c.requiredFailed.includes(id)).map((r) => LABEL[r.name] ?? r.name);
    out.push(`| \`${id}\` | ${cell(short(tests.get(id).name))} | ${cell(short(message(results[id])))} | ${others.join(', ')} |`);
  }
  if (!open) out.push('\n</details>');
}
for (const row of rows.filter((r) => r.name === 'outpost')) {
  out.push('');
  out.push(`## Outpost: optimal tests not met (${row.c.optimalIds.length}) and setup failures (${row.c.setupIds.length})`);
  out.push('');
  out.push('Not conformance failures, but where it behaves less well than a good cache could (optimal), or where the suite could not set the test up through it.');
  out.push('');
  out.push('| test id | kind | test | reported |');
  out.push('| --- | --- | --- | --- |');
  for (const id of [...row.c.optimalIds, ...row.c.setupIds]) {
    out.push(`| \`${id}\` | ${row.c.optimalIds.includes(id) ? 'optimal' : 'setup'} | ${cell(short(tests.get(id).name))} | ${cell(short(message(row.results[id])))} |`);
  }
}
// CONFORMANCE_REPEAT=N keeps every run in results/runs/NAME-K.json: the same proxy, started
// afresh for each run, must classify every test the same way each time.
const runsDir = join(args.results, 'runs');
const runFiles = existsSync(runsDir) ? readdirSync(runsDir).filter((f) => /-\d+\.json$/.test(f)) : [];
const runNames = [...new Set(runFiles.map((f) => f.replace(/-\d+\.json$/, '')))].sort();
if (runNames.length) {
  out.push('');
  out.push('## Run after run');
  out.push('');
  out.push(
    '`CONFORMANCE_REPEAT=N`: the suite run N times in a row, each run against a freshly started proxy, raw results in [results/runs/](results/runs/). A test *differs* when its classification (pass, fail, optional fail, yes/no, setup, dependency) is not the same in every run.',
  );
  out.push('');
  out.push('| proxy | run | passed | required failed | optimal not met | check "no" | tests classified differently from run 1 |');
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const name of runNames) {
    const runs = runFiles
      .filter((f) => f.replace(/-\d+\.json$/, '') === name)
      .map((f) => ({ k: Number(/-(\d+)\.json$/.exec(f)[1]), results: readJson(join(runsDir, f)) }))
      .sort((a, b) => a.k - b.k);
    const classOf = (results, id) => (tests.has(id) ? determineTestResult(suites, id, results, true) : undefined);
    const differing = new Set();
    for (const run of runs) {
      const c = classify(run.results);
      let diff = 0;
      for (const id of Object.keys(runs[0].results)) {
        if (classOf(run.results, id) !== classOf(runs[0].results, id)) {
          diff++;
          differing.add(id);
        }
      }
      out.push(
        `| ${LABEL[name] ?? name} | ${run.k} | ${c.passed} | **${c.requiredFailed.length}**${c.requiredFailed.length ? ` (${c.requiredFailed.map((id) => `\`${id}\``).join(', ')})` : ''} | ${c.optimalFailed} | ${c.checkNo} | ${diff} |`,
      );
    }
    if (differing.size) out.push(`\n${LABEL[name] ?? name}: tests classified differently between runs: ${[...differing].map((id) => `\`${id}\``).join(', ')}`);
  }
}
out.push('');
writeFileSync(args.out, out.join('\n'));
for (const { name, c } of rows) {
  console.log(`${name}: ${c.run} run, ${c.passed} passed, required failed ${c.requiredFailed.length} (${c.requiredPassed}/${c.requiredTotal} passed), optimal not met ${c.optimalFailed}`);
}
