#!/usr/bin/env bash
# Failover under load, side by side: Outpost and HAProxy (defaults, then with retries and
# redispatch), the same two origins, the same load, origin a killed at 5 s and restarted at 15 s.
# Appends a table to bench/RESULTS.md.   bash bench/failover.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=bench/.work/failover
mkdir -p "$WORK"
command -v haproxy >/dev/null || { apt-get update -qq && apt-get install -y -qq haproxy >/dev/null; }
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f dist/demo/origin-main.js ] || npm run build --silent
RATE=${FAILOVER_RATE:-2000}
WS=${FAILOVER_WS:-1000}
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_ready() { for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "not ready: $1" >&2; return 1; }

cat > "$WORK/outpost.yaml" <<YAML
pop: { id: bench, region: eu-west }
listen: { http: 127.0.0.1:28080, admin: 127.0.0.1:29090 }
workers: 2
log: { level: warn, access: false }
monitors: { hc: { type: http, path: /healthz, interval: 1s, timeout: 500ms, retries: 0, consecutiveDown: 1, consecutiveUp: 1 } }
pools:
  eu: { monitor: hc, origins: [{ name: a, address: "http://127.0.0.1:28001" }, { name: b, address: "http://127.0.0.1:28002" }] }
loadBalancers: [{ hostname: "*", defaultPools: [eu] }]
YAML

haproxy_cfg() { # $1 = extra backend lines
  cat <<CFG
global
  maxconn 8000
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
frontend f
  bind 127.0.0.1:28180
  default_backend be
backend be
  balance roundrobin
  option httpchk GET /healthz
$1
  server a 127.0.0.1:28001 check inter 1s fall 1 rise 1
  server b 127.0.0.1:28002 check inter 1s fall 1 rise 1
CFG
}
haproxy_cfg "" > "$WORK/haproxy-default.cfg"
haproxy_cfg "  retries 3
  option redispatch 1
  retry-on conn-failure empty-response response-timeout" > "$WORK/haproxy-retry.cfg"

OUT="$WORK/results.jsonl"
: > "$OUT"
run() { # name url
  node bench/failover.mjs --name "$1" --url "$2" --rate "$RATE" --ws "$WS" | tee -a "$OUT"
}

echo "== Outpost (2 workers)"
node bin/outpost.js start -c "$WORK/outpost.yaml" > "$WORK/outpost.log" 2>&1 &
PIDS+=($!)
wait_ready http://127.0.0.1:29090/readyz
run "Outpost (2 workers)" http://127.0.0.1:28080
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

for v in default retry; do
  echo "== HAProxy ($v)"
  haproxy -f "$WORK/haproxy-$v.cfg" -db > "$WORK/haproxy-$v.log" 2>&1 &
  PIDS+=($!)
  sleep 0.5
  run "HAProxy ($( [ $v = default ] && echo 'defaults' || echo 'retries 3 + redispatch + retry-on'))" http://127.0.0.1:28180
  kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
done

node - "$OUT" "$RATE" "$WS" <<'JS' | tee "$WORK/table.md"
const fs = require('fs');
const [file, rate, ws] = process.argv.slice(2);
const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const os = require('os');
const out = [];
out.push(`## Failover under load — ${new Date().toUTCString()}`, '');
out.push(`Machine: ${os.cpus().length} cores, ${os.cpus()[0].model}. Command: \`bash bench/failover.sh\` (${rate} req/s of GETs, open loop; ${ws} WebSockets that reconnect at once; origin a killed with SIGKILL at 5 s, restarted at 15 s; monitors every 1 s, 1 failure to go down, 1 success to come back).`, '');
out.push('| proxy | requests | failed | failed while a was down | ms until a unused | ms until a used again | WS on a | WS reconnected | reconnect p50 / p99 ms | p99 ms while a was down | p99 ms |');
out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) out.push(`| ${r.name} | ${r.sent} | ${r.failed} | ${r.failedInWindow} | ${r.msUntilAUnused} | ${r.msUntilAUsedAgain ?? 'never'} | ${r.wsOnA} | ${r.wsReconnected} | ${r.reconnectP50 ?? '-'} / ${r.reconnectP99 ?? '-'} | ${r.p99InWindow} | ${r.p99} |`);
out.push('', '"ms until a unused": from the kill to the last answer that came from a (answers in flight at the kill count). "ms until a used again": from the restart to the first answer from a.', '');
console.log(out.join('\n'));
JS
cat "$WORK/table.md" >> bench/RESULTS.md
echo "(appended to bench/RESULTS.md)"
