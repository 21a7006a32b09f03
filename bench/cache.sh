#!/usr/bin/env bash
# Cache hits side by side: nginx (proxy_cache), Varnish and Outpost (its cache), each in front of
# the same origin, on one machine; then a coalescing check on each.
#
#   bash bench/cache.sh
#   BENCH_DURATION=5 BENCH_REPS=1 bash bench/cache.sh     # quick check
#
# Environment (the BENCH_* knobs are bench/run.sh's, read by http-bench.mjs):
#   BENCH_DURATION=10     seconds per measured wrk run (-t1 -c64, as bench/run.sh)
#   BENCH_REPS=3          wrk runs per measurement; the median run (by req/s) is reported
#   BENCH_WARMUP=2        seconds of wrk before each measurement (not measured)
#   BENCH_SKIP_BUILD=1    do not `npm run build` Outpost first
#   CACHE_SKIP_OUTPOST=1  nginx and Varnish only
#   CACHE_COALESCE_TOTAL=1000   concurrent requests in the coalescing check
#   CACHE_COALESCE_PROCS=4      client processes they come from
#   CACHE_COALESCE_REPS=3       repetitions of the check per proxy (fresh key each)
#   CACHE_ORIGIN_DELAY=200      ms the origin takes to answer the coalescing object
#   CACHE_MAX_LOAD=1.5    before starting, wait (up to CACHE_LOAD_WAIT=900 s) until the 1-min load
#                         average is under it; before each measurement, until the machine's CPU use
#                         over 3 s (our servers idle) is under CACHE_MAX_BUSY=0.5 cores and no
#                         vitest runs
#   CACHE_APPEND=0        print the report only, do not append it to bench/RESULTS.md
#   OUTPOST_DIRS="A B"    cache hits through the Outpost of each of these checkouts too (as in
#                         bench/run.sh; not built here, each needs its dist/), labelled with its
#                         commit; the first one also runs the coalescing check. Default: this one.
#
# Ports (127.0.0.1): origin 18301, nginx 18311 (and 18315: with proxy_cache_use_stale updating,
# coalescing check only), Varnish 18312, Outpost 18313 (admin 18323),
# Outpost with one worker for the coalescing check 18314 (admin 18324). Configs come from
# bench/cache-conf/, filled in under bench/.work/cache/ (gitignored; kept after the run, with the
# logs); nginx's cache lives in a temporary directory under /dev/shm (else $TMPDIR).
set -euo pipefail

COMMAND=
for v in BENCH_DURATION BENCH_REPS BENCH_WARMUP BENCH_SKIP_BUILD CACHE_SKIP_OUTPOST CACHE_COALESCE_TOTAL \
  CACHE_COALESCE_PROCS CACHE_COALESCE_REPS CACHE_ORIGIN_DELAY CACHE_MAX_LOAD CACHE_MAX_BUSY CACHE_APPEND OUTPOST_DIRS; do
  if [[ -n ${!v:-} ]]; then
    if [[ ${!v} == *' '* ]]; then COMMAND+="$v=\"${!v}\" "; else COMMAND+="$v=${!v} "; fi
  fi
done
COMMAND+="bash bench/cache.sh"

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
CONFDIR=$BENCH/cache-conf
WORK=$BENCH/.work/cache
RESULTS=$WORK/results.jsonl
export PATH=$PATH:/usr/sbin:/sbin

export BENCH_DURATION=${BENCH_DURATION:-10}
export BENCH_REPS=${BENCH_REPS:-3}
export BENCH_WARMUP=${BENCH_WARMUP:-2}
COALESCE_TOTAL=${CACHE_COALESCE_TOTAL:-1000}
COALESCE_PROCS=${CACHE_COALESCE_PROCS:-4}
COALESCE_REPS=${CACHE_COALESCE_REPS:-3}
ORIGIN_DELAY=${CACHE_ORIGIN_DELAY:-200}
MAX_LOAD=${CACHE_MAX_LOAD:-1.5}
LOAD_WAIT=${CACHE_LOAD_WAIT:-900}
MAX_BUSY=${CACHE_MAX_BUSY:-0.5}

ORIGIN_PORT=18301
NGINX_PORT=18311
NGINX_STALE_PORT=18315
VARNISH_PORT=18312
OUTPOST_PORT=18313
OUTPOST_ADMIN=18323
OUTPOST1_PORT=18314
OUTPOST1_ADMIN=18324
OUTPOST_DISK_PORT=18316
OUTPOST_DISK_ADMIN=18326

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'cache bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites

missing=()
command -v nginx >/dev/null || missing+=(nginx)
command -v varnishd >/dev/null || missing+=(varnish)
command -v wrk >/dev/null || missing+=(wrk)
if ((${#missing[@]})); then
  log "installing ${missing[*]} from Debian"
  [[ $EUID -eq 0 ]] || die "need root to apt-get install ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
[[ -d node_modules/undici ]] || { log "npm ci"; npm ci; }

OUTPOST=1
[[ ${CACHE_SKIP_OUTPOST:-} == 1 ]] && OUTPOST=0
if ((OUTPOST)) && [[ ${BENCH_SKIP_BUILD:-} != 1 ]]; then
  log "npm run build"
  npm run build --silent || { [[ -f dist/cli/main.js ]] || die "build failed"; echo "cache bench: build failed; using the existing dist/" >&2; }
fi
outpost_rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n $(git status --porcelain -- src 2>/dev/null) ]] && outpost_rev+=" + uncommitted changes in src/"

# ---------------------------------------------------------------- processes

PIDS=()
LAST_PID=
CACHE_DIR=
source "$BENCH/lib/procs.sh"
cleanup() {
  stop_all
  [[ -n $CACHE_DIR ]] && rm -rf "$CACHE_DIR"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for p in $ORIGIN_PORT $NGINX_PORT $NGINX_STALE_PORT $VARNISH_PORT $OUTPOST_PORT $OUTPOST_ADMIN $OUTPOST1_PORT $OUTPOST1_ADMIN; do
  port_free "$p" || die "port $p is already in use"
done
rm -rf "$WORK"
mkdir -p "$WORK"
chmod 755 "$WORK" # Varnish's child runs as its own user
: >"$RESULTS"
if [[ -d /dev/shm && -w /dev/shm ]]; then CACHE_DIR=$(mktemp -d /dev/shm/outpost-bench-cache.XXXXXX); else CACHE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/outpost-bench-cache.XXXXXX"); fi

# fill TEMPLATE OUT [KEY=VALUE...]: the template with @DIR@, @ORIGIN_PORT@, @KEY@… replaced
fill() {
  local in=$1 out=$2 kv args=()
  shift 2
  local user_line=
  [[ $EUID -eq 0 ]] && user_line='user root;'
  args=(-e "s|@USER_LINE@|$user_line|g" -e "s|@ORIGIN_PORT@|$ORIGIN_PORT|g" -e "s|@CACHE_DIR@|$CACHE_DIR|g")
  for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${args[@]}" "$in" >"$out"
}

# The edge must accept the cache config before anything starts.
if ((OUTPOST)); then
  fill "$CONFDIR/outpost.yaml" "$WORK/outpost.yaml" PORT=$OUTPOST_PORT ADMIN_PORT=$OUTPOST_ADMIN WORKERS=2 DISK_LINE=
  if ! node bin/outpost.js validate -c "$WORK/outpost.yaml" >"$WORK/validate.txt" 2>&1; then
    echo >&2
    echo "cache bench: this Outpost does not accept the cache config yet (bench/cache-conf/outpost.yaml):" >&2
    sed 's/^/  /' "$WORK/validate.txt" >&2
    if grep -qE '"(cache|rules)"' "$WORK/validate.txt"; then
      echo "cache bench: the edge does not support cache:/rules: yet (the cache is not wired in this build);" >&2
      echo "             measuring nginx and Varnish only. Run again once the cache has landed." >&2
      OUTPOST=0
    else
      die "the Outpost cache config is invalid"
    fi
  fi
fi

# ---------------------------------------------------------------- quiet machine

# cpu_busy: cores in use over the next 3 s, whoever uses them (from /proc/stat)
cpu_busy() {
  local a b
  a=$(head -1 /proc/stat)
  sleep 3
  b=$(head -1 /proc/stat)
  awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN {
    split(a, x); split(b, y); t = 0; i = 0
    for (k = 2; k <= 11; k++) t += y[k] - x[k]
    i = (y[5] - x[5]) + (y[6] - x[6])
    printf "%.2f", (t > 0 ? (t - i) / t * n : 0) }'
}

# wait_quiet [load]: until nothing else runs on the machine: no vitest, and either the 1-min load
# average under MAX_LOAD (with "load", before our own servers made any) or the CPU use over 3 s
# under MAX_BUSY cores (between measurements, while our servers idle; the load average would
# still count our own last run)
wait_quiet() {
  local waited=0 what busy ok
  while :; do
    busy=$(pgrep -fc 'vitest' || true)
    if [[ ${1:-} == load ]]; then
      what="load $(cut -d' ' -f1 /proc/loadavg)"
      awk -v l="${what#load }" -v m="$MAX_LOAD" 'BEGIN { exit !(l < m) }' && ok=1 || ok=0
    else
      what="$(cpu_busy) cores busy"
      awk -v l="${what%% *}" -v m="$MAX_BUSY" 'BEGIN { exit !(l < m) }' && ok=1 || ok=0
    fi
    if ((ok && busy == 0)); then return 0; fi
    if ((waited >= LOAD_WAIT)); then
      echo "cache bench: $what, $busy vitest process(es) after ${waited}s of waiting; going on (numbers noisier)" >&2
      NOISY+="$what at $(date -u +%H:%M); "
      return 0
    fi
    ((waited == 0)) && echo "cache bench: waiting for a quiet machine ($what, $busy vitest process(es))" >&2
    sleep 10
    waited=$((waited + 10))
  done
}
NOISY=

# ---------------------------------------------------------------- servers

wait_quiet load
log "origin and proxies"
start origin node "$BENCH/cache-origin.mjs" --port $ORIGIN_PORT --delay "$ORIGIN_DELAY"
wait_tcp $ORIGIN_PORT

mkdir -p "$WORK/nginx/tmp" "$CACHE_DIR/tmp" "$CACHE_DIR/zone"
fill "$CONFDIR/nginx.conf" "$WORK/nginx/nginx.conf" DIR="$WORK/nginx" PORT=$NGINX_PORT PORT_STALE=$NGINX_STALE_PORT
start nginx nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf"
NGINX_PID=$LAST_PID
wait_tcp $NGINX_PORT

mkdir -p "$WORK/varnish"
fill "$CONFDIR/varnish.vcl" "$WORK/varnish/default.vcl"
start varnish varnishd -F -n "$WORK/varnish/n" -a "127.0.0.1:$VARNISH_PORT" -f "$WORK/varnish/default.vcl" -s malloc,256m
VARNISH_PID=$LAST_PID
wait_tcp $VARNISH_PORT

# Further checkouts (OUTPOST_DIRS) listen on 18317, 18318… (admin 18327, 18328…).
read -r -a DIRS <<<"${OUTPOST_DIRS:-$ROOT}"
EXTRA_SETUPS=()
if ((OUTPOST)); then
  start outpost node "${DIRS[0]}/bin/outpost.js" start -c "$WORK/outpost.yaml"
  OUTPOST_PID=$LAST_PID
  node "$BENCH/lib/wait.mjs" http "http://127.0.0.1:$OUTPOST_ADMIN/readyz" 30 "$LAST_PID" ||
    die "Outpost did not become ready; see $WORK/outpost.err"
  for ((i = 1; i < ${#DIRS[@]}; i++)); do
    fill "$CONFDIR/outpost.yaml" "$WORK/outpost-dir$i.yaml" PORT=$((18316 + i)) ADMIN_PORT=$((18326 + i)) WORKERS=2 DISK_LINE=
    start "outpost-dir$i" node "${DIRS[i]}/bin/outpost.js" start -c "$WORK/outpost-dir$i.yaml"
    node "$BENCH/lib/wait.mjs" http "http://127.0.0.1:$((18326 + i))/readyz" 30 "$LAST_PID" ||
      die "Outpost of ${DIRS[i]} did not become ready; see $WORK/outpost-dir$i.err"
    EXTRA_SETUPS+=("outpost@$(git -C "${DIRS[i]}" rev-parse --short HEAD):$((18316 + i)):$LAST_PID")
  done
fi

origin_count() { curl -s "http://127.0.0.1:$ORIGIN_PORT/__count$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).count))'; }

# warm PORT PATH: fetch PATH through the proxy on 4 new connections (every worker sees it)
warm() {
  local i code
  for i in 1 2 3 4; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1$2")
    [[ $code == 200 ]] || die "warm-up of $2 on port $1 answered $code"
  done
}

# ---------------------------------------------------------------- cache hits

SETUPS=(nginx:$NGINX_PORT:$NGINX_PID varnish:$VARNISH_PORT:$VARNISH_PID)
if ((OUTPOST)); then
  if ((${#DIRS[@]} > 1)); then
    SETUPS+=("outpost@$(git -C "${DIRS[0]}" rev-parse --short HEAD):$OUTPOST_PORT:$OUTPOST_PID" "${EXTRA_SETUPS[@]}")
  else
    SETUPS+=(outpost:$OUTPOST_PORT:$OUTPOST_PID)
  fi
fi

for payload in 1k 100k; do
  for s in "${SETUPS[@]}"; do
    IFS=: read -r name port pid <<<"$s"
    log "cache hits: $name /$payload"
    warm "$port" "/$payload"
    wait_quiet
    before=$(origin_count "/$payload")
    variant="2 workers"
    [[ $name == varnish ]] && variant="default"
    [[ $name == outpost@* ]] && variant="2 workers, ${name#outpost@}"
    fg node "$BENCH/http-bench.mjs" --setup "$name" --variant "$variant" --payload "$payload" \
      --url "http://127.0.0.1:$port/$payload" --pid "$pid" --out "$RESULTS"
    after=$(origin_count "/$payload")
    echo "{\"kind\":\"origin\",\"setup\":\"$name\",\"payload\":\"$payload\",\"requests\":$((after - before))}" >>"$RESULTS"
  done
done

# ---------------------------------------------------------------- coalescing

if ((OUTPOST)); then
  fill "$CONFDIR/outpost.yaml" "$WORK/outpost-1.yaml" PORT=$OUTPOST1_PORT ADMIN_PORT=$OUTPOST1_ADMIN WORKERS=1 DISK_LINE=
  start outpost-1 node "$ROOT/bin/outpost.js" start -c "$WORK/outpost-1.yaml"
  node "$BENCH/lib/wait.mjs" http "http://127.0.0.1:$OUTPOST1_ADMIN/readyz" 30 "$LAST_PID" ||
    die "Outpost (1 worker) did not become ready; see $WORK/outpost-1.err"
  SETUPS+=(outpost-1:$OUTPOST1_PORT:$LAST_PID)
  # 2 workers over a disk tier they share: the supervisor lets one worker fill a key for the node.
  fill "$CONFDIR/outpost.yaml" "$WORK/outpost-disk.yaml" PORT=$OUTPOST_DISK_PORT ADMIN_PORT=$OUTPOST_DISK_ADMIN WORKERS=2 \
    "DISK_LINE=disk: { path: \"$CACHE_DIR/outpost-disk\", maxSize: 256MiB }"
  start outpost-disk node "$ROOT/bin/outpost.js" start -c "$WORK/outpost-disk.yaml"
  node "$BENCH/lib/wait.mjs" http "http://127.0.0.1:$OUTPOST_DISK_ADMIN/readyz" 30 "$LAST_PID" ||
    die "Outpost (2 workers, disk tier) did not become ready; see $WORK/outpost-disk.err"
  SETUPS+=(outpost-disk:$OUTPOST_DISK_PORT:$LAST_PID)
fi
# The coalescing check runs on the first checkout's Outpost only.
if ((OUTPOST && ${#DIRS[@]} > 1)); then
  SETUPS=("${SETUPS[@]:0:2}" "outpost:${SETUPS[2]#*:}" "${SETUPS[@]:3+${#EXTRA_SETUPS[@]}}")
fi
SETUPS=("${SETUPS[0]}" nginx-stale:$NGINX_STALE_PORT:$NGINX_PID "${SETUPS[@]:1}")
for s in "${SETUPS[@]}"; do
  IFS=: read -r name port pid <<<"$s"
  for ((rep = 1; rep <= COALESCE_REPS; rep++)); do
    log "coalescing: $name, $COALESCE_TOTAL requests for an expired object (run $rep/$COALESCE_REPS)"
    wait_quiet
    fg node "$BENCH/cache-coalesce.mjs" --setup "$name" --proxy "http://127.0.0.1:$port" \
      --origin "http://127.0.0.1:$ORIGIN_PORT" --path "/coalesce/$name-$rep" --total "$COALESCE_TOTAL" \
      --procs "$COALESCE_PROCS" --out "$RESULTS"
  done
done

# ---------------------------------------------------------------- report

report=$WORK/report.md
{
  echo "## Cache: $(date -u)"
  echo
  echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "- command: \`$COMMAND\` (wrk -t1 -c64, duration ${BENCH_DURATION}s, ${BENCH_REPS} rep(s), median run reported; coalescing: $COALESCE_TOTAL requests from $COALESCE_PROCS processes, $COALESCE_REPS runs)"
  echo "- versions: node $(node -v), $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(varnishd -V 2>&1 | head -1 | sed -E 's/^varnishd \(([^ ]+) revision.*/\1/'), wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), outpost $outpost_rev"
  [[ -n $NOISY ]] && echo "- the machine was busy during part of the run: $NOISY"
  echo
  node "$BENCH/cache-report.mjs" "$RESULTS" "$ORIGIN_DELAY"
} >"$report"

if [[ ${CACHE_APPEND:-1} != 0 ]]; then
  { echo; cat "$report"; } >>"$BENCH/RESULTS.md"
fi
echo
cat "$report"
[[ ${CACHE_APPEND:-1} != 0 ]] && echo && echo "(appended to bench/RESULTS.md)"
exit 0
