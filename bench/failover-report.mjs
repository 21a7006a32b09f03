#!/usr/bin/env node
// bench/.work/failover/results.jsonl (one line per proxy variant, from failover.mjs) → markdown.
//   node bench/failover-report.mjs results.jsonl
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
if (!rows.length) process.exit(1);

const v = (x, unit = '') => (x === null || x === undefined ? '–' : `${x}${unit}`);
const kv = (o) =>
  Object.entries(o ?? {})
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ') || '–';
const r0 = rows[0];
const out = [];

out.push(
  `Scenario: ${r0.rate} GET /api/info per second (open loop, undici, up to 512 connections) and ${r0.ws.total} WebSockets ` +
    `(2 client processes) through the proxy to origins a and b; after ${r0.warmup_s} s of unmeasured warm-up load, a SIGKILLed at ${r0.pre_s} s, restarted ${r0.down_s} s later, ` +
    `${r0.post_s} s more. Health checks every 1 s, down after 1 failure, up after 1 success.`,
);
out.push('');
out.push(
  '| proxy | requests sent | failed | failed in the window | a unused after (ms) | a used again after (ms) | WS on a | WS reconnected (at once / in all) | reconnect p50 / p99 ms | request p99 ms (window) |',
);
out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const again = r.http.first_a_response_after_restart_ms ?? `none in ${r.post_s} s`;
  out.push(
    `| ${r.name} | ${r.http.sent} | ${r.http.failed} | ${r.http.failed_window} | ${v(r.counters.last_a_traffic_after_kill_ms)} | ${again} | ` +
      `${r.ws.on_a} | ${r.ws.reconnected_at_once} / ${r.ws.reconnected} | ${v(r.ws.reconnect_p50_ms)} / ${v(r.ws.reconnect_p99_ms)} | ${v(r.http.window_p99_ms)} |`,
  );
}
out.push('');
out.push(
  '- **window**: from the kill to the restart; a request counts in it when it finished after the kill and was due before the restart (so the requests in flight at the kill count).',
  '- **a unused after**: from the kill to the last time the proxy\'s own counters for a moved (Outpost: `outpost_requests_total`, `outpost_upstream_errors_total`, `outpost_upstream_retries_total` with `origin="eu/a"`; HAProxy: `stot + econ + eresp + wretr + wredis` of server a; health checks count in neither), sampled every ~100 ms, so values up to ~100 mean "at the kill". A killed origin answers nothing, so response bodies cannot show this: the last answer naming a comes at the kill in every run (in the details below).',
  '- **a used again after**: from the moment the restarted a listens to the first answer whose body names a.',
  '- **WS on a**: sockets greeted by a and open at the kill. Reconnected *at once*: the first attempt after the close got a greeting; *in all*: greeted before the end (failed attempts are retried every 100 ms). Reconnect time: from the close to the new greeting.',
  "- **request p99**: latency from the time the request was due (open loop), so a stall counts in full. It includes the load generator's own lag (when it sent a request later than due: the generator, the proxy, both origins and the WebSocket clients share the CPUs), shown in the details.",
);
out.push('');
out.push('Details:');
out.push('');
out.push(
  '| proxy | HTTP failures by kind | last failed request due after kill (ms) | last answer from a after kill (ms) | a marked down after kill (ms) | a marked up after listening (ms) | p99 ms before / window / after / whole run | max ms (window) | WS close after kill p50 / p99 ms | WS reconnected to | failed WS attempts | WS on b closed | WS echoing at end | load generator lag p99 window / run / max ms |',
);
out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |');
for (const r of rows) {
  out.push(
    `| ${r.name} | ${kv(r.http.errors)} | ${v(r.http.last_failure_due_after_kill_ms)} | ${v(r.http.last_a_response_after_kill_ms)} | ` +
      `${v(r.counters.a_marked_down_after_kill_ms)} | ${v(r.counters.a_marked_up_after_listening_ms)} | ${v(r.http.before_p99_ms)} / ${v(r.http.window_p99_ms)} / ${v(r.http.after_p99_ms)} / ${v(r.http.p99_ms)} | ${v(r.http.window_max_ms)} | ` +
      `${v(r.ws.close_after_kill_p50_ms)} / ${v(r.ws.close_after_kill_p99_ms)} | ${kv(r.ws.reconnected_to)} | ${kv(r.ws.failed_attempt_errors)} | ` +
      `${r.ws.others_closed} of ${r.ws.on_b} | ${r.ws.echoed_at_end} of ${r.ws.open_at_end} | ${v(r.http.generator_lag_window_p99_ms)} / ${v(r.http.generator_lag_p99_ms)} / ${v(r.http.generator_lag_max_ms)} |`,
  );
}
out.push('');
out.push(
  `Restarted a listened ${rows.map((r) => `${r.origin_restart_listening_ms} ms`).join(' / ')} after its spawn (in row order). ` +
    '"a marked down/up": the first counter sample showing the proxy\'s health verdict flipped (same ~100 ms resolution).',
);
console.log(out.join('\n'));
