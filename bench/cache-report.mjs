#!/usr/bin/env node
// bench/.work/cache/results.jsonl (http-bench.mjs, cache.sh, cache-coalesce.mjs) → markdown.
//   node bench/cache-report.mjs bench/.work/cache/results.jsonl [origin delay ms]
import { readFileSync } from 'node:fs';

const [file, delay = '200'] = process.argv.slice(2);
const results = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));

const fmt = (x, d = 2) => (x == null || Number.isNaN(x) ? '–' : x.toFixed(d));
const int = (x) => (x == null || Number.isNaN(x) ? '–' : Math.round(x).toString());
const ratio = (a, b) => (a == null || !b ? '–' : `${(a / b).toFixed(2)}×`);
const LABEL = {
  nginx: 'nginx (2 workers)',
  'nginx-stale': 'nginx + use_stale updating',
  varnish: 'Varnish',
  outpost: 'Outpost (2 workers)',
  'outpost-1': 'Outpost (1 worker)',
  'outpost-disk': 'Outpost (2 workers, disk tier)',
};
const label = (s) => LABEL[s] ?? s.replace(/^outpost@(.*)$/, 'Outpost (2 workers, $1)');
/** The Outpost setups measured: `outpost`, or one `outpost@REV` per checkout (OUTPOST_DIRS). */
const isOutpost = (s) => s === 'outpost' || s.startsWith('outpost@');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const out = [];

const http = results.filter((r) => r.kind === 'http');
const origin = (setup, payload) => results.find((r) => r.kind === 'origin' && r.setup === setup && r.payload === payload)?.requests;
const get = (setup, payload) => http.find((r) => r.setup === setup && r.payload === payload)?.median;

if (http.length) {
  out.push('### Cache hits (wrk -t1 -c64, median run)');
  out.push('');
  out.push('| setup | payload | req/s | p50 ms | p99 ms | CPU µs/req | origin requests during the runs | req/s of each run | errors |');
  out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const payload of [...new Set(http.map((r) => r.payload))]) {
    for (const r of http.filter((x) => x.payload === payload)) {
      const m = r.median;
      out.push(
        `| ${label(r.setup)} | /${payload} | ${int(m.rps)} | ${fmt(m.p50_ms)} | ${fmt(m.p99_ms)} | ${fmt(m.cpu_us_per_req, 1)} | ${origin(r.setup, payload) ?? '–'} | ${r.runs.map((x) => int(x.rps)).join(', ')} | ${r.runs.reduce((a, x) => a + x.errors, 0)} |`,
      );
    }
  }
  out.push('');
  const outposts = [...new Set(http.filter((r) => isOutpost(r.setup)).map((r) => r.setup))];
  if (outposts.length) {
    out.push('| Outpost | payload | req/s Outpost/nginx | req/s Outpost/Varnish | p99 Outpost/nginx | p99 Outpost/Varnish | CPU/req Outpost/nginx | CPU/req Outpost/Varnish |');
    out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const payload of [...new Set(http.map((r) => r.payload))])
      for (const setup of outposts) {
        const o = get(setup, payload);
        const n = get('nginx', payload);
        const v = get('varnish', payload);
        out.push(
          `| ${label(setup)} | /${payload} | ${ratio(o?.rps, n?.rps)} | ${ratio(o?.rps, v?.rps)} | ${ratio(o?.p99_ms, n?.p99_ms)} | ${ratio(o?.p99_ms, v?.p99_ms)} | ${ratio(o?.cpu_us_per_req, n?.cpu_us_per_req)} | ${ratio(o?.cpu_us_per_req, v?.cpu_us_per_req)} |`,
        );
      }
    out.push('');
  } else {
    out.push('Outpost was not measured (its build did not accept the cache config yet).');
    out.push('');
  }
  out.push(
    "Origin (node:http, one process) sends `Cache-Control: public, max-age=3600`; each proxy was warmed with 4 requests per URL on new connections, then wrk ran only on cached URLs. \"Origin requests during the runs\": what reached the origin during the warm-up and measured wrk runs (0 = every request a cache hit). CPU µs/req: the proxy's process tree (utime + stime) per request. nginx: `proxy_cache` on /dev/shm, `proxy_cache_valid 200 1h`, buffered access log; Varnish: default VCL, `-s malloc,256m`, no access log (varnishncsa not running); Outpost: the default cache (each worker's memory tier over the node's shared tier, kept coherent), JSON access log to a file.",
  );
  out.push('');
}

const co = results.filter((r) => r.kind === 'coalesce');
if (co.length) {
  const total = co[0].total;
  out.push(`### Coalescing: ${total} concurrent requests for an object that just expired`);
  out.push('');
  out.push('| setup | origin requests, each run | median | answers 200 | errors | p50 ms | p99 ms | max ms |');
  out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const setup of [...new Set(co.map((r) => r.setup))]) {
    const runs = co.filter((r) => r.setup === setup);
    const ok = runs.map((r) => r.statuses['200'] ?? 0);
    const errs = runs.map(
      (r) =>
        Object.values(r.errors).reduce((a, b) => a + b, 0) +
        Object.entries(r.statuses)
          .filter(([k]) => k !== '200')
          .reduce((a, [, v]) => a + v, 0),
    );
    out.push(
      `| ${label(setup)} | ${runs.map((r) => r.origin_requests).join(', ')} | ${median(runs.map((r) => r.origin_requests))} | ${ok.join(', ')} | ${errs.join(', ')} | ${fmt(median(runs.map((r) => r.p50_ms)), 0)} | ${fmt(median(runs.map((r) => r.p99_ms)), 0)} | ${fmt(median(runs.map((r) => r.max_ms)), 0)} |`,
    );
  }
  out.push('');
  out.push(
    `The object (\`Cache-Control: public, max-age=1\`, 1 KiB; the origin answers it after ${delay} ms) is fetched through the proxy on 4 new connections, ${total} keep-alive connections are opened (\`bench/cache-coalesce.mjs\`, undici, ${co[0].procs} processes), and once it is 1.5 s past its max-age all ${total} requests go at once; "origin requests" = what the origin received for it from then until 1 s after the last answer. Latencies (median of the runs) from the go signal. nginx: \`proxy_cache_lock on\`, which only holds back requests for a *new* cache element (its waiters poll every 500 ms), not for an expired one; *nginx + use_stale updating* adds \`proxy_cache_use_stale updating\` and \`proxy_cache_background_update on\` (a stale copy answers while one request refreshes it); Varnish: default VCL, so its 10 s default grace serves the stale copy while one background fetch refreshes it; Outpost: coalescing per worker (\`maxWaiters: 2000\`), so 2 workers with their own memory tiers may each send one; with a disk tier the workers share, the supervisor lets one worker fill the key for the node and the other reads it from disk.`,
  );
  out.push('');
}
console.log(out.join('\n'));
