#!/usr/bin/env bash
# CPU per request of several Outpost checkouts, one after the other, proxied through 2 workers:
#   bash bench/ab-cpu.sh PATH ROUNDS CHECKOUT...   (PATH 1k or 100k; PROF=1 writes --cpu-prof profiles)
#   HITS=1: the origin's answers are cacheable (max-age=3600), so what is measured is cache hits.
#   EXTRA_YAML='log: { access: false }': appended to each checkout's config.
# Each checkout (built: dist/ present) is started in turn on the same ports in front of one small
# Node origin; after a 2 s warm-up, wrk -t1 -c64 runs DUR seconds (10) and the proxy tree's CPU
# time (utime+stime from /proc) is divided by the requests served. CPU per request is steadier
# than req/s on a noisy machine; alternate the order (A B, then B A) and compare within one
# session. Work files (config, wrk output, profiles) go to bench/.work/ab-<checkout name>/.
set -uo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
P=$1; R=$2; shift 2
ORIGIN_PORT=${ORIGIN_PORT:-18001}; HTTP_PORT=${HTTP_PORT:-18080}; ADMIN_PORT=${ADMIN_PORT:-19090}
node -e '
const http = require("node:http");
const k1 = Buffer.alloc(1024, "a"), k100 = Buffer.alloc(102400, "b");
http.createServer((req, res) => {
  const b = req.url === "/100k" ? k100 : k1;
  const h = { "content-type": "text/plain", "content-length": b.length };
  if (process.argv[2] === "1") h["cache-control"] = "public, max-age=3600";
  res.writeHead(200, h);
  res.end(b);
}).listen(Number(process.argv[1]), "127.0.0.1");' "$ORIGIN_PORT" "${HITS:-0}" &
OP=$!
trap 'kill $OP 2>/dev/null' EXIT
sleep 0.5
cpu() { for k in "$@"; do awk '{print $14+$15}' "/proc/$k/stat"; done | paste -sd+ | bc; }
for r in $(seq 1 "$R"); do
  for DIR in "$@"; do
    W=$BENCH/.work/ab-$(basename "$DIR"); rm -rf "$W"; mkdir -p "$W/prof"
    cat >"$W/outpost.yaml" <<Y
pop: { id: bench, region: local }
listen: { http: 127.0.0.1:$HTTP_PORT, admin: 127.0.0.1:$ADMIN_PORT }
workers: 2
pools:
  origin:
    origins:
      - { name: o1, address: "http://127.0.0.1:$ORIGIN_PORT" }
loadBalancers:
  - hostname: "*"
    defaultPools: [origin]
${EXTRA_YAML:-}
Y
    prof=(); [[ -n ${PROF:-} ]] && prof=(--cpu-prof "--cpu-prof-dir=$W/prof")
    node "${prof[@]}" "$DIR/bin/outpost.js" start -c "$W/outpost.yaml" >/dev/null 2>"$W/err" &
    PID=$!
    node "$BENCH/lib/wait.mjs" http "http://127.0.0.1:$ADMIN_PORT/readyz" 30 $PID
    wrk -t1 -c64 -d2s "http://127.0.0.1:$HTTP_PORT/$P" >/dev/null
    kids=$(ps -o pid= --ppid $PID)
    t0=$(cpu $kids $PID)
    wrk -t1 -c64 -d"${DUR:-10}"s "http://127.0.0.1:$HTTP_PORT/$P" >"$W/wrk.txt"
    t1=$(cpu $kids $PID)
    N=$(awk '/requests in/{print $1}' "$W/wrk.txt")
    echo "round $r $(basename "$DIR") /$P: $N requests, $(grep Requests/sec "$W/wrk.txt" | tr -s ' '), CPU $(echo "($t1-$t0)*10000/$N" | bc -l | cut -c1-6) us/req"
    kill $PID; wait $PID 2>/dev/null; sleep 1
  done
done
