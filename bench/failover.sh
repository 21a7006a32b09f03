#!/usr/bin/env bash
# Failover under load, Outpost and HAProxy in one run: two demo origins (a, b) behind the proxy,
# an open-loop load of GETs plus open WebSockets; origin a is SIGKILLed after 5 s, restarted
# 10 s later, and the run goes on 10 s more. Same scenario for Outpost (2 workers), HAProxy with
# its defaults and HAProxy with retries + redispatch + retry-on. See bench/README.md.
#
#   bash bench/failover.sh
#
# Environment:
#   FAILOVER_RATE=2000   GET requests per second (open loop)
#   FAILOVER_WS=1000     WebSockets (over 2 client processes)
#   FAILOVER_WARMUP=2    seconds of load before the measured run (left out of the figures)
#   FAILOVER_PRE=5 FAILOVER_DOWN=10 FAILOVER_POST=10   seconds before the kill, a down, after the restart
#   FAILOVER_ONLY=outpost|haproxy-default|haproxy-retry   one variant only (space separated list)
#   FAILOVER_SAMPLE_MS=100  how often the proxy's counters are read
#   FAILOVER_APPEND=0    print the tables only, do not append them to bench/RESULTS.md
#
# Every process runs in the background of this script with its config in bench/.work/failover/,
# on 127.0.0.1 ports 28001, 28002 (origins), 28080 + 29090 (Outpost), 28201 (HAProxy), and is
# stopped on exit. Results are printed as markdown and appended to bench/RESULTS.md.
set -euo pipefail

COMMAND=
for v in FAILOVER_RATE FAILOVER_WS FAILOVER_SAMPLE_MS FAILOVER_WARMUP FAILOVER_PRE FAILOVER_DOWN FAILOVER_POST FAILOVER_ONLY; do
  if [[ -n ${!v:-} ]]; then COMMAND+="$v=${!v} "; fi
done
COMMAND+="bash bench/failover.sh"

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
WORK=$BENCH/.work/failover
RESULTS=$WORK/results.jsonl
export PATH=$PATH:/usr/sbin:/sbin

RATE=${FAILOVER_RATE:-2000}
WS=${FAILOVER_WS:-1000}
WARMUP=${FAILOVER_WARMUP:-2}
PRE=${FAILOVER_PRE:-5}
DOWN=${FAILOVER_DOWN:-10}
POST=${FAILOVER_POST:-10}
VARIANTS=${FAILOVER_ONLY:-outpost haproxy-default haproxy-retry}

A_PORT=28001
B_PORT=28002
OUTPOST_PORT=28080
OUTPOST_ADMIN=29090
HAPROXY_PORT=28201

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'failover: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites

if ! command -v haproxy >/dev/null; then
  log "installing haproxy from Debian"
  [[ $EUID -eq 0 ]] || die "need root to apt-get install haproxy"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y haproxy
fi
[[ -d node_modules/ws && -d node_modules/undici ]] || { log "npm ci"; npm ci; }
if [[ ! -f dist/cli/main.js || ! -f dist/demo/origin.js ]]; then
  log "npm run build"
  npm run build --silent
fi
if [[ -n $(find src -name '*.ts' -newer dist/cli/main.js -print -quit) ]]; then
  echo "failover: note: src/ has files newer than dist/ (this run uses dist/ as built)" >&2
fi

# 1,000 WebSockets and their proxied twins per process need descriptors.
ulimit -n 20000 2>/dev/null || echo "failover: could not raise the open-file limit to 20000 ($(ulimit -n))" >&2

# ---------------------------------------------------------------- processes

PIDS=() # every process we started, stopped in reverse order on exit
LAST_PID=

# start NAME CMD...: run CMD in the background, stdout/stderr to $WORK/NAME.{out,err}
start() {
  local name=$1
  shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

source "$BENCH/lib/stop.sh"

# The restarted origin a is started by failover.mjs; its pid is in $WORK/*.pid.
stop_pidfiles() {
  local f pid i
  for f in "$WORK"/*.pid; do
    [[ -f $f ]] || continue
    pid=$(<"$f")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

cleanup() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    [[ -n ${PIDS[i]} ]] && stop "${PIDS[i]}"
  done
  stop_pidfiles
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! node "$BENCH/lib/wait.mjs" tcp "127.0.0.1:$1" 0 2>/dev/null; }
wait_tcp() {
  node "$BENCH/lib/wait.mjs" tcp "127.0.0.1:$1" 20 "$LAST_PID" || die "nothing listening on port $1; see the logs in $WORK"
}

for p in $A_PORT $B_PORT $OUTPOST_PORT $OUTPOST_ADMIN $HAPROXY_PORT; do
  port_free "$p" || die "port $p is already in use (another run?)"
done

rm -rf "$WORK"
mkdir -p "$WORK"
: >"$RESULTS"

# ---------------------------------------------------------------- origins and proxies

A_PID=
B_PID=
start_origins() {
  start "$1-origin-a" node "$BENCH/failover-origin.mjs" a $A_PORT
  A_PID=$LAST_PID
  wait_tcp $A_PORT
  disown "$A_PID" # SIGKILLed on purpose: no "Killed" job notice
  start "$1-origin-b" node "$BENCH/failover-origin.mjs" b $B_PORT
  B_PID=$LAST_PID
  wait_tcp $B_PORT
}

start_outpost() {
  cat >"$WORK/outpost.yaml" <<EOF
pop: { id: bench, region: eu-west }
listen: { http: 127.0.0.1:$OUTPOST_PORT, admin: 127.0.0.1:$OUTPOST_ADMIN }
workers: 2
log: { level: warn, access: false }
monitors: { hc: { type: http, path: /healthz, interval: 1s, timeout: 500ms, retries: 0, consecutiveDown: 1, consecutiveUp: 1 } }
pools:
  eu: { monitor: hc, origins: [{ name: a, address: "http://127.0.0.1:$A_PORT" }, { name: b, address: "http://127.0.0.1:$B_PORT" }] }
loadBalancers: [{ hostname: "*", defaultPools: [eu] }]
EOF
  start outpost node "$ROOT/bin/outpost.js" start -c "$WORK/outpost.yaml"
  PROXY_PID=$LAST_PID
  node "$BENCH/lib/wait.mjs" http "http://127.0.0.1:$OUTPOST_ADMIN/readyz" 30 "$LAST_PID" ||
    die "Outpost did not become ready; see $WORK/outpost.err and $WORK/outpost.out"
}

# start_haproxy NAME EXTRA_BACKEND_LINES
start_haproxy() {
  local cfg=$WORK/$1.cfg
  # The global and defaults sections are the minimum a config needs (timeouts, a connection
  # limit well above the 1,000 WebSockets + 512 HTTP connections (8,000: HAProxy then needs ~16,000
  # descriptors, under a 20,000 limit), a stats socket to read the counters); the failover
  # behaviour is HAProxy's default except for the lines in $2.
  cat >"$cfg" <<EOF
global
  maxconn 8000
  stats socket $WORK/$1.sock mode 600 level user

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h

frontend bench
  bind 127.0.0.1:$HAPROXY_PORT
  default_backend origins

backend origins
  balance roundrobin
  option httpchk GET /healthz
$2
  server a 127.0.0.1:$A_PORT check inter 1s fall 1 rise 1
  server b 127.0.0.1:$B_PORT check inter 1s fall 1 rise 1
EOF
  haproxy -c -q -f "$cfg" || die "invalid HAProxy config $cfg"
  start "$1" haproxy -db -f "$cfg"
  PROXY_PID=$LAST_PID
  wait_tcp $HAPROXY_PORT
}

# run_variant VARIANT LABEL URL COUNTERS
run_variant() {
  node "$BENCH/failover.mjs" --name "$2" --url "$3" --counters "$4" \
    --kill-pid "$A_PID" --origin-port $A_PORT --origin-log "$WORK/$1-origin-a2.err" --pidfile "$WORK/$1-origin-a2.pid" --raw "$WORK/$1-raw.json" \
    --rate "$RATE" --ws "$WS" --ws-procs 2 --sample-ms "${FAILOVER_SAMPLE_MS:-100}" --warmup "$WARMUP" --pre "$PRE" --down "$DOWN" --post "$POST" --out "$RESULTS" ||
    echo "failover: the $2 run failed; see above" >&2
  stop "$PROXY_PID"
  stop "$B_PID"
  stop "$A_PID" # already SIGKILLed: reaps it
  stop_pidfiles
}

for v in $VARIANTS; do
  case $v in
    outpost)
      log "Outpost (2 workers)"
      start_origins "$v"
      start_outpost
      run_variant "$v" "Outpost (2 workers)" "http://127.0.0.1:$OUTPOST_PORT" "outpost:http://127.0.0.1:$OUTPOST_ADMIN:eu/a"
      ;;
    haproxy-default)
      log "HAProxy, default failover settings"
      start_origins "$v"
      start_haproxy "$v" ""
      run_variant "$v" "HAProxy (defaults)" "http://127.0.0.1:$HAPROXY_PORT" "haproxy:$WORK/$v.sock:origins:a"
      ;;
    haproxy-retry)
      log "HAProxy, retries 3 + option redispatch + retry-on"
      start_origins "$v"
      start_haproxy "$v" "  retries 3
  option redispatch
  retry-on conn-failure empty-response response-timeout"
      run_variant "$v" "HAProxy (retries 3, redispatch, retry-on)" "http://127.0.0.1:$HAPROXY_PORT" "haproxy:$WORK/$v.sock:origins:a"
      ;;
    *) die "unknown variant $v (outpost, haproxy-default, haproxy-retry)" ;;
  esac
done

# ---------------------------------------------------------------- report

[[ -s $RESULTS ]] || die "no results"
outpost_rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n $(git status --porcelain -- src 2>/dev/null) ]] && outpost_rev+=" + uncommitted changes in src/"
report=$WORK/report.md
{
  echo "## Failover under load: $(date -u)"
  echo
  echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "- command: \`$COMMAND\`"
  echo "- versions: node $(node -v), HAProxy $(haproxy -v | head -1 | awk '{print $3}') (nbthread default = $(nproc)), outpost $outpost_rev (dist/ as built)"
  echo
  node "$BENCH/failover-report.mjs" "$RESULTS"
} >"$report"

echo
cat "$report"
echo
if [[ ${FAILOVER_APPEND:-1} != 0 ]]; then
  { echo; cat "$report"; } >>"$BENCH/RESULTS.md"
  echo "(appended to bench/RESULTS.md)"
fi
