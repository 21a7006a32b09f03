#!/usr/bin/env bash
# Legitimate clients beside a flood, with Outpost's shield off and on. An origin that can serve
# ATTACK_BUDGET requests per second (bench/attack/origin.mjs) behind Outpost (2 workers);
# legitimate browser-like clients on 127.0.0.2–127.0.0.9 send a few hundred requests per second
# to /api/ (open loop); a flood of ATTACK_FLOOD_FACTOR × the budget comes from ATTACK_FLOOD_ADDRS
# other loopback addresses (127.0.1.0, 127.0.1.1, …). Five scenarios of BENCH_DURATION seconds:
#
#   (1) no attack, shield off          (security.level off, no rules)
#   (2) no attack, shield on           (rate limit on */api/* per IP, level medium)
#   (3) attack, shield off
#   (4) attack, rate limits            (as (2))
#   (5) attack, under attack           (as (2) + level under_attack: the legitimate clients pass the
#                                        challenge once and carry the clearance cookie)
#
# then the shield's idle cost: wrk max throughput through an edge with the shield off and one
# with it on (the rate limit set out of reach), in front of an unlimited origin. See
# bench/README.md ("Attack") for what each column means.
#
#   bash bench/attack.sh                                  # the full run (~5 min), report in bench/.work/attack/
#   BENCH_RECORD=1 bash bench/attack.sh                   # …and append it to bench/RESULTS.md
#   BENCH_DURATION=5 ATTACK_IDLE_REPS=1 bash bench/attack.sh   # quick check
#
# Environment:
#   BENCH_DURATION=20        measured seconds per scenario (and per idle-cost wrk run)
#   BENCH_RECORD=1           append the report to bench/RESULTS.md (default: bench/.work/attack/report.md only)
#   BENCH_SKIP_BUILD=1       do not `npm run build` first (use dist/ as it is)
#   ATTACK_ONLY="1 2 3 4 5 idle"   the parts to run
#   ATTACK_WARMUP=3          seconds of load before each measured window (not measured)
#   ATTACK_BUDGET=500        requests/s the origin can serve (queue ≤ ATTACK_ORIGIN_QUEUE_MS=500 ms, then 503)
#   ATTACK_ORIGIN_MAX_CONNS=4096   connections the origin keeps open at once (more are closed)
#   ATTACK_LEGIT_RATE=200    legitimate requests/s in all, over the 8 addresses
#   ATTACK_FLOOD_FACTOR=20   flood = factor × budget requests/s, offered open loop
#   ATTACK_FLOOD_ADDRS=16    flood source addresses from 127.0.1.0 on (256 = 127.0.1.0/24, 512 adds 127.0.2.0/24)
#   ATTACK_FLOOD_PROCS=2     flood processes (the open-file limit is per process)
#   ATTACK_FLOOD_CONNS=4     keep-alive sockets per flood address
#   ATTACK_FLOOD_DEPTH=256   requests in flight per flood socket (pipelined); more due are not sent
#   ATTACK_RATE_LIMIT=50     the rate limit: requests per second per IP on */api/*, block…
#   ATTACK_RATE_TIMEOUT=10s  …for this long once over
#   ATTACK_DIFFICULTY=16     the challenge's proof-of-work difficulty (leading zero bits)
#   ATTACK_CLIENT_CONNECTIONS=256 ATTACK_CLIENT_CONNECTION_RATE=100   the edge's limits.clientConnections
#                            and limits.clientConnectionRate (per client per worker; the defaults)
#   ATTACK_IDLE_REPS=3       alternating wrk runs per edge for the idle cost (median reported)
#
# Ports (127.0.0.1): origin 38001, unlimited origin 38002 (idle cost), Outpost 38080 (admin 39090),
# idle-cost edges 38081 (admin 39091, shield off) and 38082 (admin 39092, shield on). Configs and
# logs in bench/.work/attack/ (gitignored), every process stopped on exit or Ctrl-C.
set -euo pipefail

COMMAND=
for v in BENCH_DURATION BENCH_RECORD BENCH_SKIP_BUILD ATTACK_ONLY ATTACK_WARMUP ATTACK_BUDGET ATTACK_ORIGIN_QUEUE_MS ATTACK_ORIGIN_MAX_CONNS \
  ATTACK_LEGIT_RATE ATTACK_FLOOD_FACTOR ATTACK_FLOOD_ADDRS ATTACK_FLOOD_PROCS ATTACK_FLOOD_CONNS ATTACK_FLOOD_DEPTH \
  ATTACK_RATE_LIMIT ATTACK_RATE_TIMEOUT ATTACK_DIFFICULTY ATTACK_CLIENT_CONNECTIONS ATTACK_CLIENT_CONNECTION_RATE ATTACK_IDLE_REPS; do
  if [[ -n ${!v:-} ]]; then COMMAND+="$v=${!v} "; fi
done
COMMAND+="bash bench/attack.sh"

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
WORK=$BENCH/.work/attack
RESULTS=$WORK/results.jsonl

DURATION=${BENCH_DURATION:-20}
WARMUP=${ATTACK_WARMUP:-3}
ONLY=${ATTACK_ONLY:-1 2 3 4 5 idle}
BUDGET=${ATTACK_BUDGET:-500}
QUEUE_MS=${ATTACK_ORIGIN_QUEUE_MS:-500}
ORIGIN_MAX_CONNS=${ATTACK_ORIGIN_MAX_CONNS:-4096}
LEGIT_RATE=${ATTACK_LEGIT_RATE:-200}
FLOOD_FACTOR=${ATTACK_FLOOD_FACTOR:-20}
FLOOD_ADDRS=${ATTACK_FLOOD_ADDRS:-16}
FLOOD_PROCS=${ATTACK_FLOOD_PROCS:-2}
FLOOD_CONNS=${ATTACK_FLOOD_CONNS:-4}
FLOOD_DEPTH=${ATTACK_FLOOD_DEPTH:-256}
RATE_LIMIT=${ATTACK_RATE_LIMIT:-50}
RATE_TIMEOUT=${ATTACK_RATE_TIMEOUT:-10s}
DIFFICULTY=${ATTACK_DIFFICULTY:-16}
CLIENT_CONNECTIONS=${ATTACK_CLIENT_CONNECTIONS:-256}
CLIENT_CONNECTION_RATE=${ATTACK_CLIENT_CONNECTION_RATE:-100}
IDLE_REPS=${ATTACK_IDLE_REPS:-3}
FLOOD_RATE=$((BUDGET * FLOOD_FACTOR))

ORIGIN_PORT=27001
IDLE_ORIGIN_PORT=27002
EDGE_PORT=27080
EDGE_ADMIN=27090
IDLE_OFF_PORT=27081
IDLE_OFF_ADMIN=27091
IDLE_ON_PORT=27082
IDLE_ON_ADMIN=27092

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'attack bench: %s\n' "$*" >&2; exit 1; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

# ---------------------------------------------------------------- prerequisites

if want idle && ! command -v wrk >/dev/null; then
  log "installing wrk from Debian"
  [[ $EUID -eq 0 ]] || die "need root to apt-get install wrk"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y wrk
fi
[[ -d node_modules/undici ]] || { log "npm ci"; npm ci; }
if [[ ${BENCH_SKIP_BUILD:-} != 1 ]]; then
  log "npm run build"
  npm run build --silent || { [[ -f dist/cli/main.js ]] || die "build failed"; echo "attack bench: build failed; using the existing dist/" >&2; }
elif [[ -f dist/cli/main.js && -n $(find src -name '*.ts' ! -name '*.test.ts' -newer dist/cli/main.js -print -quit) ]]; then
  echo "attack bench: note: src/ has files newer than dist/ (this run uses dist/ as built)" >&2
fi
[[ -f dist/cli/main.js ]] || die "no dist/: run npm run build"
SOLVER=$ROOT/dist/shield/challenge/solve.js
[[ -f $SOLVER ]] || echo "attack bench: $SOLVER is missing: the under-attack clients cannot solve the challenge" >&2
outpost_rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n $(git status --porcelain -- src 2>/dev/null) ]] && outpost_rev+=" + uncommitted changes in src/"

# The flood's sockets, and the edge's twins of them, need descriptors.
ulimit -n 20000 2>/dev/null || echo "attack bench: could not raise the open-file limit to 20000 ($(ulimit -n))" >&2

# ---------------------------------------------------------------- processes

PIDS=() # every process we started, stopped in reverse order on exit
LAST_PID=
source "$BENCH/lib/procs.sh"
trap stop_all EXIT
trap 'exit 130' INT TERM

for p in $ORIGIN_PORT $IDLE_ORIGIN_PORT $EDGE_PORT $EDGE_ADMIN $IDLE_OFF_PORT $IDLE_OFF_ADMIN $IDLE_ON_PORT $IDLE_ON_ADMIN; do
  port_free "$p" || die "port $p is already in use (another run?)"
done
rm -rf "$WORK"
mkdir -p "$WORK"
: >"$RESULTS"

# ---------------------------------------------------------------- addresses and configs

LEGIT_ADDRS=127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9
# FLOOD_ADDRS addresses from 127.0.1.0 on: 127.0.1.0–127.0.1.255, 127.0.2.0–…
((FLOOD_ADDRS >= 1 && FLOOD_ADDRS <= 65024)) || die "ATTACK_FLOOD_ADDRS must be 1..65024"
FLOOD_LIST=$(awk -v n="$FLOOD_ADDRS" 'BEGIN { for (i = 0; i < n; i++) printf "%s127.0.%d.%d", (i ? "," : ""), 1 + int(i / 256), i % 256 }')

# Counted per 200 ms (GCRA: a burst of a fifth of the per-second rate), so the flood's burst at
# the onset (addresses × burst) stays under the origin's budget; per second it is the same rate.
RATE_BURST=$(( (RATE_LIMIT + 4) / 5 ))
RATE_RULE="{ match: \"*/api/*\", key: ip, requests: $RATE_BURST, period: 200ms, action: block, timeout: $RATE_TIMEOUT }"
SEC_OFF='{ level: "off" }'
SEC_LIMITS="{ level: medium, rateLimits: [$RATE_RULE] }"
SEC_UNDER_ATTACK="{ level: under_attack, challenge: { difficulty: $DIFFICULTY }, rateLimits: [$RATE_RULE] }"
# The idle cost: the same machinery, with a limit the single wrk client never reaches.
SEC_IDLE_ON="{ level: medium, rateLimits: [{ match: \"*/api/*\", key: ip, requests: 1000000, period: 1s, action: block, timeout: $RATE_TIMEOUT }] }"

# edge_config FILE PORT ADMIN ORIGIN_PORT SECURITY
edge_config() {
  cat >"$1" <<EOF
pop: { id: bench, region: bench }
listen: { http: 127.0.0.1:$2, admin: 127.0.0.1:$3 }
workers: 2
log: { level: warn, access: false }
limits: { clientConnections: $CLIENT_CONNECTIONS, clientConnectionRate: $CLIENT_CONNECTION_RATE }
pools:
  app: { origins: [{ name: app, address: "http://127.0.0.1:$4" }] }
loadBalancers: [{ hostname: "*", defaultPools: [app] }]
rules:
  - { match: "*/api/*", cache: bypass }
security: $5
EOF
  node bin/outpost.js validate -c "$1" >"$1.validate" 2>&1 || { sed 's/^/  /' "$1.validate" >&2; die "Outpost does not accept $1"; }
}

# start_edge NAME PORT ADMIN ORIGIN_PORT SECURITY: sets EDGE_PID
EDGE_PID=
start_edge() {
  edge_config "$WORK/$1.yaml" "$2" "$3" "$4" "$5"
  start "$1" node "$ROOT/bin/outpost.js" start -c "$WORK/$1.yaml"
  EDGE_PID=$LAST_PID
  node "$BENCH/lib/wait.mjs" http "http://127.0.0.1:$3/readyz" 30 "$LAST_PID" || die "Outpost ($1) did not become ready; see $WORK/$1.err"
}

# ---------------------------------------------------------------- scenarios

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "origin: $BUDGET req/s"
start origin node "$BENCH/attack/origin.mjs" --port $ORIGIN_PORT --budget "$BUDGET" --queue-ms "$QUEUE_MS" \
  --max-conns "$ORIGIN_MAX_CONNS" --stats-file "$WORK/origin-stats.json"
ORIGIN_PID=$LAST_PID
wait_tcp $ORIGIN_PORT

# scenario NAME LABEL SECURITY FLOOD(0|1) CHALLENGE(0|1)
scenario() {
  local name=$1 label=$2 sec=$3 flood=$4 ch=$5 args=()
  want "$name" || return 0
  log "($name) $label"
  start_edge "edge-$name" $EDGE_PORT $EDGE_ADMIN $ORIGIN_PORT "$sec"
  ((flood)) && args+=(--flood-addrs "$FLOOD_LIST" --flood-rate "$FLOOD_RATE" --flood-procs "$FLOOD_PROCS" --flood-conns "$FLOOD_CONNS" --flood-depth "$FLOOD_DEPTH")
  ((ch)) && args+=(--challenge)
  fg node "$BENCH/attack/run.mjs" --name "$name" --label "$label" --config "$sec" \
    --edge "http://127.0.0.1:$EDGE_PORT" --admin "http://127.0.0.1:$EDGE_ADMIN" --edge-pid "$EDGE_PID" \
    --origin-pid "$ORIGIN_PID" --origin-stats "$WORK/origin-stats.json" --budget "$BUDGET" \
    --legit-addrs "$LEGIT_ADDRS" --legit-rate "$LEGIT_RATE" --solver "$SOLVER" \
    --warmup "$WARMUP" --duration "$DURATION" --out "$RESULTS" --raw "$WORK/raw-$name.json" "${args[@]}" ||
    echo "attack bench: scenario $name failed; see above and $WORK/edge-$name.err" >&2
  stop "$EDGE_PID"
  sleep 1 # the origin's queue drains
}

scenario 1 "no attack, shield off" "$SEC_OFF" 0 0
scenario 2 "no attack, shield on" "$SEC_LIMITS" 0 0
scenario 3 "attack, shield off" "$SEC_OFF" 1 0
scenario 4 "attack, rate limits" "$SEC_LIMITS" 1 0
scenario 5 "attack, under attack" "$SEC_UNDER_ATTACK" 1 1
stop "$ORIGIN_PID"

# ---------------------------------------------------------------- idle cost

if want idle; then
  log "idle cost: wrk through the shield off and on"
  start idle-origin node "$BENCH/attack/origin.mjs" --port $IDLE_ORIGIN_PORT --budget 0 --max-conns "$ORIGIN_MAX_CONNS"
  IDLE_ORIGIN_PID=$LAST_PID
  wait_tcp $IDLE_ORIGIN_PORT
  start_edge idle-off $IDLE_OFF_PORT $IDLE_OFF_ADMIN $IDLE_ORIGIN_PORT "$SEC_OFF"
  OFF_PID=$EDGE_PID
  start_edge idle-on $IDLE_ON_PORT $IDLE_ON_ADMIN $IDLE_ORIGIN_PORT "$SEC_IDLE_ON"
  ON_PID=$EDGE_PID
  fg node "$BENCH/attack/idle.mjs" --off "http://127.0.0.1:$IDLE_OFF_PORT/api/idle" --off-pid "$OFF_PID" \
    --on "http://127.0.0.1:$IDLE_ON_PORT/api/idle" --on-pid "$ON_PID" --reps "$IDLE_REPS" --duration "$DURATION" --out "$RESULTS" ||
    echo "attack bench: the idle-cost run failed; see above" >&2
  stop "$ON_PID"
  stop "$OFF_PID"
  stop "$IDLE_ORIGIN_PID"
fi

# ---------------------------------------------------------------- report

[[ -s $RESULTS ]] || die "no results"
report=$WORK/report.md
{
  echo "## Attack: legitimate clients beside a flood, shield off and on: $(date -u)"
  echo
  echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load average before the run: $LOAD_AT_START"
  echo "- command: \`$COMMAND\`"
  echo "- versions: node $(node -v), outpost $outpost_rev (dist/ as built), wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
  echo "- origin: $BUDGET req/s budget (one server, $(awk -v b="$BUDGET" 'BEGIN { printf "%.2f", 1000 / b }') ms a request, queue ≤ ${QUEUE_MS} ms, then 503; ≤ $ORIGIN_MAX_CONNS connections); edge: Outpost, 2 workers, access log off, limits.clientConnections $CLIENT_CONNECTIONS, limits.clientConnectionRate $CLIENT_CONNECTION_RATE /s (per client per worker), upstream.maxConnectionsPerOrigin 0 (the default: no limit), \`*/api/*\` cache bypass"
  echo "- legit: $LEGIT_RATE req/s to /api/ from 127.0.0.2–127.0.0.9 ($(awk -v r="$LEGIT_RATE" 'BEGIN { printf "%g", r / 8 }')/s each), undici, 8 keep-alive connections each, browser User-Agent, timeout 10 s; flood: $FLOOD_RATE req/s (${FLOOD_FACTOR}× budget) to /api/ from $FLOOD_ADDRS addresses from 127.0.1.0 ($(awk -v r="$FLOOD_RATE" -v n="$FLOOD_ADDRS" 'BEGIN { printf "%g", r / n }')/s each), $FLOOD_CONNS sockets each, pipelined ≤ $FLOOD_DEPTH, $FLOOD_PROCS processes, no cookies"
  echo "- rate limit: $RATE_LIMIT req/s per IP on \`*/api/*\` ($RATE_BURST per 200 ms), block $RATE_TIMEOUT; challenge difficulty $DIFFICULTY; ${WARMUP} s warm-up, ${DURATION} s measured per scenario"
  echo
  node "$BENCH/attack/report.mjs" "$RESULTS"
} >"$report"

echo
cat "$report"
if [[ ${BENCH_RECORD:-} == 1 ]]; then
  { echo; cat "$report"; } >>"$BENCH/RESULTS.md"
  echo
  echo "(appended to bench/RESULTS.md)"
else
  echo
  echo "(in $report; BENCH_RECORD=1 appends it to bench/RESULTS.md)"
fi
exit 0
