#!/usr/bin/env node
// bench/.work/attack/results.jsonl → the markdown tables of the attack bench (stdout).
//   node bench/attack/report.mjs results.jsonl
// Lines: {kind: 'scenario', ...} from run.mjs, {kind: 'idle', ...} from idle.mjs.
import { readFileSync } from 'node:fs';

const lines = readFileSync(process.argv[2], 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const scenarios = lines.filter((l) => l.kind === 'scenario');
const idle = lines.find((l) => l.kind === 'idle');

const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(x === 1 ? 0 : 2)} %` : '—');
const ms = (x) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)) : '—');
const yes = (b) => (b === undefined ? '—' : b ? 'yes' : '**no**');
const base = scenarios.find((s) => s.name === '1');
// JSON has no NaN: a percentile of no requests arrives as null.
const num = (x) => (typeof x === 'number' ? x : NaN);
const p99Ratio = (s) => (base ? num(s.legit.p99_ms) / num(base.legit.p99_ms) : NaN);

const out = [];
if (scenarios.length) {
  const budget = scenarios[0].origin.budget;
  out.push(
    '| scenario | legit ok | legit p50 ms | legit p99 ms | p99 / (1) | flood offered req/s | flood answered req/s (2xx) | origin req/s max / mean (max since the flood began) | s over budget | edge CPU cores |',
  );
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of scenarios) {
    const ratio = s === base ? 1 : p99Ratio(s);
    const flood = s.flood ? [f(s.flood.offered_rps), `${f(s.flood.answered_rps)} (${f(s.flood.answered_2xx_rps)})`] : ['—', '—'];
    out.push(
      `| (${s.name}) ${s.label} | ${pct(s.legit.success)} | ${ms(s.legit.p50_ms)} | ${ms(s.legit.p99_ms)} | ${Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—'} | ${flood[0]} | ${flood[1]} | ${s.origin.max_rps ?? '—'} / ${f(s.origin.mean_rps)}${s.origin.max_since_attack_rps != null ? ` (${s.origin.max_since_attack_rps})` : ''} | ${s.origin.over_budget_s ?? '—'} of ${s.origin.seconds} | ${f(s.cpu.edge_cores, 2)} |`,
    );
  }
  out.push('');
  out.push(
    `Origin budget ${budget} req/s. Legit: ${scenarios[0].legit.rate} req/s open loop from ${scenarios[0].legit.addrs} addresses; ok = 2xx; p50/p99 of the ok requests, from the due time; p99 / (1) = ratio to scenario 1. Flood answered = any status, (2xx) = reached the origin and got an answer. Origin: requests it received per full second of the window (shed ones included); in brackets the busiest second from the flood's start, warm-up included.`,
  );
  out.push('');

  // Goals: under attack with the shield on (scenarios 4 and 5), and the idle cost.
  const goals = [];
  for (const s of scenarios.filter((x) => x.flood && x.name !== '3')) {
    const ratio = p99Ratio(s);
    goals.push(
      `| (${s.name}) ${s.label} | ${pct(s.legit.success)}: ${yes(s.legit.success >= 0.999)} | ${Number.isFinite(ratio) ? `${ratio.toFixed(2)}×: ${yes(ratio <= 2)}` : base ? '—: **no**' : '— (scenario 1 not run)'} | max ${s.origin.max_rps ?? '—'}: ${yes(s.origin.max_rps == null ? undefined : s.origin.max_rps <= budget)} (since the flood began ${s.origin.max_since_attack_rps ?? '—'}: ${yes(s.origin.max_since_attack_rps == null ? undefined : s.origin.max_since_attack_rps <= budget)}); mean ${f(s.origin.mean_rps)}: ${yes(Number.isFinite(s.origin.mean_rps) ? s.origin.mean_rps <= budget : undefined)} |`,
    );
  }
  if (goals.length) {
    out.push('| goal, shield on under attack | legit ok ≥ 99.9 % | legit p99 ≤ 2× no attack | origin ≤ budget |');
    out.push('| --- | --- | --- | --- |');
    out.push(...goals);
    out.push('');
  }
}

if (idle) {
  out.push('| idle cost (wrk -t1 -c64, closed loop, /api/, unlimited origin) | req/s | p50 ms | p99 ms | edge CPU µs/req | non-2xx, errors |');
  out.push('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, r] of [
    ['shield off', idle.off],
    ['shield on (rate limit never reached, level medium)', idle.on],
  ]) {
    const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
    out.push(`| ${name} | ${f(r.rps)} | ${ms(r.p50_ms)} | ${ms(r.p99_ms)} | ${f(r.cpu_us_per_req, 1)} | ${errs} |`);
  }
  out.push('');
  out.push(
    `Shield on / off: **${idle.ratio.toFixed(3)}×** (goal ≥ 0.95: ${yes(idle.ratio >= 0.95)}); median of ${idle.runs.off.length} alternating run(s) each (all: off ${idle.runs.off.map((r) => f(r.rps)).join(', ')}; on ${idle.runs.on.map((r) => f(r.rps)).join(', ')}).`,
  );
  out.push('');
}

if (scenarios.length) {
  out.push('<details><summary>Details per scenario</summary>');
  out.push('');
  out.push(
    '| scenario | legit failures | flood answers by status | flood not sent (backlog or no connection) / lost / connects / closes / connect errors | flood addresses with 2xx answers | origin shed (503) | shield actions in the window | CPU cores: origin, generators; machine busy |',
  );
  out.push('| --- | --- | --- | --- | --- | ---: | --- | --- |');
  for (const s of scenarios) {
    const fails =
      Object.entries(s.legit.failures)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ') || '—';
    const fl = s.flood;
    const status = fl
      ? Object.entries(fl.status)
          .map(([k, n]) => `${k}: ${n}`)
          .join(', ') || 'none'
      : '—';
    const passed = fl ? Object.entries(fl.passed ?? {}).sort((a, b) => b[1] - a[1]) : [];
    const through = fl
      ? `${passed.length} of ${fl.addrs}${
          passed.length
            ? ` (most: ${passed
                .slice(0, 3)
                .map(([a, n]) => `${a} ${n}`)
                .join(', ')})`
            : ''
        }`
      : '—';
    const conn = fl ? `${fl.skipped} / ${fl.lost} / ${fl.connects} / ${fl.closes} / ${fl.connectErrors} (${fl.conns} sockets from ${fl.addrs} addresses)` : '—';
    const actions = s.shieldActions
      ? Object.entries(s.shieldActions)
          .map(([k, n]) => `${k}: ${n}`)
          .join(', ') || 'none'
      : '— (/metrics not read)';
    out.push(
      `| (${s.name}) | ${fails} | ${status} | ${conn} | ${through} | ${s.origin.shed ?? '—'} | ${actions} | ${f(s.cpu.origin_cores, 2)}, ${f(s.cpu.gens_cores, 2)}; ${pct(s.cpu.machine_busy)} |`,
    );
  }
  out.push('');
  for (const s of scenarios.filter((x) => x.legit.challenge)) {
    const c = s.legit.challenge;
    const cleared = c.filter((x) => x.cookie && x.verify === 200);
    const solve = c
      .map((x) => x.solveMs)
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    const total = c.map((x) => x.ms).sort((a, b) => a - b);
    out.push(
      `Challenge in (${s.name}): ${cleared.length} of ${c.length} clients cleared (page ${[...new Set(c.map((x) => x.page))].join('/')}, difficulty ${[...new Set(c.map((x) => x.difficulty))].join('/')}, solving ${solve.length ? `${ms(solve[0])}–${ms(solve[solve.length - 1])} ms` : '—'}, page to clearance ${ms(total[0])}–${ms(total[total.length - 1])} ms)${c.some((x) => x.error) ? `; ${[...new Set(c.filter((x) => x.error).map((x) => x.error))].join('; ')}` : ''}.`,
    );
    out.push('');
  }
  for (const s of scenarios) out.push(`- (${s.name}) security: \`${s.config}\``);
  out.push('');
  out.push('</details>');
}
process.stdout.write(`${out.join('\n')}\n`);
