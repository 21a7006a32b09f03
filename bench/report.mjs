#!/usr/bin/env node
// Turn bench/.work/results.jsonl (written by http-bench.mjs, ws-load.mjs, ws-idle.mjs) into
// markdown tables on stdout.
//   node bench/report.mjs bench/.work/results.jsonl
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? new URL('./.work/results.jsonl', import.meta.url).pathname;
const results = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));

const fmt = (x, digits = 2) => (x == null || Number.isNaN(x) ? '–' : x.toFixed(digits));
const int = (x) => (x == null || Number.isNaN(x) ? '–' : Math.round(x).toString());
const ratio = (a, b) => (a == null || !b ? '–' : `${(a / b).toFixed(2)}×`);
const table = (head, rows) =>
  [`| ${head.join(' | ')} |`, `|${head.map((h) => (/^(setup|path|payload|variant)$/.test(h) ? ' --- ' : ' ---: ')).join('|')}|`].concat(rows.map((r) => `| ${r.join(' | ')} |`)).join('\n');
const out = [];

// ---------------------------------------------------------------- HTTP
const http = results.filter((r) => r.kind === 'http');
const payloads = [...new Set(http.map((r) => r.payload))];

/** The best variant (highest median req/s) of a setup for a payload. */
const best = (setup, payload) => http.filter((r) => r.setup === setup && r.payload === payload).sort((a, b) => b.median.rps - a.median.rps)[0];

if (http.length) {
  const rows = [];
  for (const payload of payloads) {
    const nginx = best('nginx', payload);
    const entries = [
      ['origin direct', best('origin', payload)],
      [`nginx`, nginx],
      [`HAProxy`, best('haproxy', payload)],
      ...http.filter((r) => r.setup === 'outpost' && r.payload === payload).map((r) => [`Outpost (${r.variant})`, r]),
    ];
    for (const [name, r] of entries) {
      if (!r) continue;
      const m = r.median;
      const label = (r.setup === 'nginx' || r.setup === 'haproxy' ? `${name} (${r.variant})` : name) + (m.errors ? ` ⚠ ${m.errors} errors` : '');
      rows.push([
        label,
        `/${payload}`,
        int(m.rps),
        fmt(m.p50_ms),
        fmt(m.p99_ms),
        fmt(m.cpu_us_per_req, 1),
        nginx ? ratio(m.rps, nginx.median.rps) : '–',
        nginx ? ratio(m.p99_ms, nginx.median.p99_ms) : '–',
      ]);
    }
  }
  out.push('### HTTP/1.1 keep-alive (wrk, median run)', '');
  out.push(table(['setup', 'payload', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'req/s vs nginx', 'p99 vs nginx'], rows));
  out.push(
    '',
    'nginx and HAProxy: the better of their two variants. CPU µs/req: CPU time (user + system) of the ' +
      'server process and all its children and threads during the run, per request; for "origin direct" ' +
      "that is the origin's own, for the others the proxy's alone.",
    '',
  );

  out.push('<details><summary>All variants</summary>', '');
  out.push(
    table(
      ['setup', 'variant', 'payload', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'req/s of each run', 'errors'],
      http.map((r) => [
        r.setup,
        r.variant,
        `/${r.payload}`,
        int(r.median.rps),
        fmt(r.median.p50_ms),
        fmt(r.median.p99_ms),
        fmt(r.median.cpu_us_per_req, 1),
        r.runs.map((x) => int(x.rps)).join(', '),
        String(r.runs.reduce((a, x) => a + x.errors, 0)),
      ]),
    ),
  );
  out.push('', '</details>', '');
}

// ---------------------------------------------------------------- WebSocket echo
const ws = results.filter((r) => r.kind === 'ws');
if (ws.length) {
  const direct = ws.find((r) => r.setup === 'direct');
  const names = { direct: 'direct to echo origin', nginx: 'nginx (2 workers)', outpost: 'Outpost (2 workers)' };
  out.push(`### WebSocket echo (${ws[0].clients} clients, ${ws[0].size}-byte ping-pong, median run)`, '');
  out.push(
    table(
      ['path', 'msg/s', 'p50 ms', 'p99 ms', 'CPU µs/msg', 'msg/s vs direct', 'p99 vs direct'],
      ws.map((r) => [
        (names[r.setup] ?? r.setup.replace(/^outpost, (.*)$/, 'Outpost (2 workers, $1)')) + (r.median.errors ? ` ⚠ ${r.median.errors} errors` : ''),
        int(r.median.msg_per_s),
        fmt(r.median.p50_ms),
        fmt(r.median.p99_ms),
        fmt(r.median.cpu_us_per_msg, 1),
        direct ? ratio(r.median.msg_per_s, direct.median.msg_per_s) : '–',
        direct ? ratio(r.median.p99_ms, direct.median.p99_ms) : '–',
      ]),
    ),
  );
  out.push('', 'msg/s: echoes received per second over all clients (one round trip each). CPU µs/msg: the echo ' + "origin's CPU for direct, the proxy's alone otherwise.", '');
}

// ---------------------------------------------------------------- idle WebSockets
for (const r of results.filter((x) => x.kind === 'idle')) {
  out.push(`### Idle WebSockets through Outpost (2 workers)`, '');
  out.push(
    table(
      ['connections', 'open', 'echoed after', 'RSS before MB', 'RSS after MB', 'growth MB', 'KiB per connection'],
      [
        [
          String(r.total),
          String(r.open) + (r.failed ? ` (${r.failed} failed)` : ''),
          String(r.echoed),
          fmt(r.rss_before_mb, 1),
          fmt(r.rss_after_mb, 1),
          fmt(r.rss_growth_mb, 1),
          fmt(r.kib_per_conn, 1),
        ],
      ],
    ),
  );
  out.push(
    '',
    `RSS summed over the ${r.processes} Outpost processes (primary + workers) from /proc, before the first ` +
      `connection and after all were open (opened in ${fmt(r.open_seconds, 1)} s by 4 client processes); ` +
      '"echoed after" = connections that still echoed a message once measured.',
    '',
  );
}

console.log(out.join('\n'));
