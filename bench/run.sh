#!/usr/bin/env bash
# Side-by-side benchmark: origin direct vs nginx vs HAProxy vs Outpost, on one machine.
#
#   bash bench/run.sh            (or: npm run bench)
#
# Environment:
#   BENCH_DURATION=10    seconds per measured run (wrk and the WebSocket load)
#   BENCH_REPS=3         runs per measurement; the median run (by throughput) is reported
#   BENCH_WARMUP=2       seconds of wrk warm-up before each measurement (0 = none)
#   BENCH_SKIP_IDLE=1    skip the 10,000 idle WebSockets part
#   BENCH_IDLE_CONNS=10000  idle WebSocket count
#   BENCH_SKIP_OUTPOST=1 leave Outpost out (compare the peers only)
#   BENCH_SKIP_BUILD=1   do not run `npm run build` first (use the dist/ that is there)
#   BENCH_SKIP_HAPROXY=1 leave HAProxy out
#   OUTPOST_DIRS="A B"   measure the Outpost of each of these checkouts (built there unless
#                        BENCH_SKIP_BUILD=1), one after the other beside the same nginx run, each
#                        labelled with its commit; default: this checkout. A/B of two commits:
#                        `git worktree add /tmp/base REV`, link or install its node_modules, then
#                        OUTPOST_DIRS="/tmp/base $PWD" (a directory may appear twice: A B A B).
#
# Every server runs in the foreground of this script with its own config in bench/.work/,
# on 127.0.0.1 high ports, and is stopped on exit. Results are printed as markdown and
# appended to bench/RESULTS.md.
set -euo pipefail

# The command as typed (BENCH_* settings from the environment), for the results heading.
COMMAND=
for v in BENCH_DURATION BENCH_REPS BENCH_WARMUP BENCH_SKIP_IDLE BENCH_IDLE_CONNS BENCH_SKIP_OUTPOST BENCH_SKIP_BUILD BENCH_SKIP_HAPROXY OUTPOST_DIRS; do
  if [[ -n ${!v:-} ]]; then
    if [[ ${!v} == *' '* ]]; then COMMAND+="$v=\"${!v}\" "; else COMMAND+="$v=${!v} "; fi
  fi
done
if [[ ${npm_lifecycle_event:-} == bench ]]; then COMMAND+="npm run bench"; else COMMAND+="bash bench/run.sh"; fi

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
WORK=$BENCH/.work
RESULTS=$WORK/results.jsonl
export PATH=$PATH:/usr/sbin:/sbin

export BENCH_DURATION=${BENCH_DURATION:-10}
export BENCH_REPS=${BENCH_REPS:-3}
export BENCH_WARMUP=${BENCH_WARMUP:-2}
IDLE_CONNS=${BENCH_IDLE_CONNS:-10000}

# Ports (all on 127.0.0.1).
ORIGIN_PORT=18001   # nginx origin: /1k, /100k
ECHO_PORT=18002     # WebSocket echo origin
NGINX_PORT=18101    # nginx as reverse proxy
HAPROXY_PORT=18201  # HAProxy
OUTPOST_PORT=18080  # Outpost http listener
OUTPOST_ADMIN=19090 # Outpost admin listener (readyz)

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites

install_peers() {
  local missing=()
  command -v nginx >/dev/null || missing+=(nginx)
  command -v haproxy >/dev/null || missing+=(haproxy)
  command -v wrk >/dev/null || missing+=(wrk)
  if ((${#missing[@]})); then
    log "installing ${missing[*]} from Debian"
    [[ $EUID -eq 0 ]] || die "need root to apt-get install ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y nginx haproxy wrk
  fi
}

install_peers
[[ -d node_modules/ws ]] || { log "npm ci"; npm ci; }

OUTPOST=1
# The checkouts whose Outpost is measured, and a label for each (its commit when there are several).
read -r -a DIRS <<<"${OUTPOST_DIRS:-$ROOT}"
LABELS=()
for d in "${DIRS[@]}"; do
  [[ -d $d ]] || die "OUTPOST_DIRS: no directory $d"
  rev=$(git -C "$d" rev-parse --short HEAD 2>/dev/null || echo unknown)
  [[ -n $(git -C "$d" status --porcelain -- src 2>/dev/null) ]] && rev+="+changes"
  LABELS+=("$rev")
done
if [[ ${BENCH_SKIP_OUTPOST:-} == 1 ]]; then
  OUTPOST=0
elif [[ ${BENCH_SKIP_BUILD:-} != 1 ]]; then
  for d in $(printf '%s\n' "${DIRS[@]}" | sort -u); do
    log "npm run build ($d)"
    if ! (cd "$d" && npm run build --silent); then
      [[ -f $d/dist/cli/main.js ]] || die "build failed in $d and there is no dist/cli/main.js"
      echo "bench: build failed in $d; using the existing dist/" >&2
    fi
  done
fi
if ((OUTPOST)); then
  for d in "${DIRS[@]}"; do
    [[ -f $d/dist/cli/main.js ]] || die "no $d/dist/cli/main.js: run npm run build (or BENCH_SKIP_OUTPOST=1)"
  done
fi

# ---------------------------------------------------------------- processes

PIDS=()      # every server we started, stopped in reverse order on exit
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

cleanup() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    [[ -n ${PIDS[i]} ]] && stop "${PIDS[i]}"
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! node "$BENCH/lib/wait.mjs" tcp "127.0.0.1:$1" 0 2>/dev/null; }

# wait_tcp PORT: wait for the server started last to listen on PORT
wait_tcp() {
  node "$BENCH/lib/wait.mjs" tcp "127.0.0.1:$1" 20 "$LAST_PID" ||
    die "nothing listening on port $1; see the logs in $WORK"
}

for p in $ORIGIN_PORT $ECHO_PORT $NGINX_PORT $HAPROXY_PORT $OUTPOST_PORT $OUTPOST_ADMIN; do
  port_free "$p" || die "port $p is already in use"
done

rm -rf "$WORK"
mkdir -p "$WORK"
: >"$RESULTS"

# nginx's user directive only means something when the master runs as root; then keep root so
# the workers can read and write the work dir wherever the checkout is.
NGINX_USER=
[[ $EUID -eq 0 ]] && NGINX_USER='user root;'

# nginx_common DIR: the main-context lines every nginx instance here shares
nginx_common() {
  cat <<EOF
$NGINX_USER
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 8192; }
EOF
}
nginx_temp_paths() {
  cat <<EOF
  client_body_temp_path $1/tmp/body;
  proxy_temp_path $1/tmp/proxy;
  fastcgi_temp_path $1/tmp/fastcgi;
  uwsgi_temp_path $1/tmp/uwsgi;
  scgi_temp_path $1/tmp/scgi;
EOF
}

# ---------------------------------------------------------------- origins

start_origin() {
  local d=$WORK/origin
  mkdir -p "$d/www" "$d/tmp"
  # Bodies of exactly 1 KiB and 100 KiB: base64 of random bytes (3 bytes -> 4 characters).
  head -c 768 /dev/urandom | base64 -w0 >"$d/www/1k"
  head -c 76800 /dev/urandom | base64 -w0 >"$d/www/100k"
  {
    nginx_common "$d"
    echo 'worker_processes 1;'
    cat <<EOF
http {
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  # no tcp_nopush: with keep-alive it stalls a share of the 100 KiB responses for 40 ms
  open_file_cache max=16;
  open_file_cache_valid 1h;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
$(nginx_temp_paths "$d")
  server {
    listen 127.0.0.1:$ORIGIN_PORT backlog=4096;
    root $d/www;
    # The bench measures pass-through: no proxy may answer from a cache.
    add_header Cache-Control no-store;
  }
}
EOF
  } >"$d/nginx.conf"
  start origin nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf"
  ORIGIN_PID=$LAST_PID
  start ws-echo node "$BENCH/ws-echo.mjs" "$ECHO_PORT"
  ECHO_PID=$LAST_PID
  wait_tcp $ORIGIN_PORT
  wait_tcp $ECHO_PORT
}

# ---------------------------------------------------------------- proxies

# start_nginx WORKERS: nginx as reverse proxy for /1k, /100k and WebSockets on /ws
start_nginx() {
  local d=$WORK/nginx-$1
  mkdir -p "$d/tmp"
  {
    nginx_common "$d"
    echo "worker_processes $1;"
    cat <<EOF
http {
  access_log $d/access.log combined buffer=64k;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  proxy_buffers 16 16k;
  proxy_busy_buffers_size 32k;
$(nginx_temp_paths "$d")
  upstream origin {
    server 127.0.0.1:$ORIGIN_PORT;
    keepalive 64;
    keepalive_requests 1000000;
  }
  upstream ws_echo {
    server 127.0.0.1:$ECHO_PORT;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
    location /ws {
      proxy_pass http://ws_echo;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
  }
}
EOF
  } >"$d/nginx.conf"
  start "nginx-$1" nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf"
  PROXY_PID=$LAST_PID
  wait_tcp $NGINX_PORT
}

# start_haproxy THREADS
start_haproxy() {
  local d=$WORK/haproxy-$1
  mkdir -p "$d"
  cat >"$d/haproxy.cfg" <<EOF
global
  nbthread $1
  maxconn 8000
  log stdout format raw local0

defaults
  mode http
  log global
  option httplog
  option http-keep-alive
  option forwardfor
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 300s
  timeout tunnel 1h

frontend bench
  bind 127.0.0.1:$HAPROXY_PORT
  default_backend origin

backend origin
  server o1 127.0.0.1:$ORIGIN_PORT
EOF
  # stdout (the access log) goes to haproxy-N.out
  start "haproxy-$1" haproxy -db -f "$d/haproxy.cfg"
  PROXY_PID=$LAST_PID
  wait_tcp $HAPROXY_PORT
}

# start_outpost NAME WORKERS ORIGIN_PORT [CHECKOUT]
start_outpost() {
  local d=$WORK/$1
  mkdir -p "$d"
  cat >"$d/outpost.yaml" <<EOF
pop: { id: bench, region: local }
listen: { http: 127.0.0.1:$OUTPOST_PORT, admin: 127.0.0.1:$OUTPOST_ADMIN }
workers: $2
pools:
  origin:
    origins:
      - { name: o1, address: "http://127.0.0.1:$3" }
loadBalancers:
  - hostname: "*"
    defaultPools: [origin]
EOF
  # stdout (the JSON access log) goes to NAME.out
  start "$1" node "${4:-$ROOT}/bin/outpost.js" start -c "$d/outpost.yaml"
  PROXY_PID=$LAST_PID
  node "$BENCH/lib/wait.mjs" http "http://127.0.0.1:$OUTPOST_ADMIN/readyz" 30 "$LAST_PID" ||
    die "Outpost did not become ready; see $WORK/$1.err and $WORK/$1.out"
}

# ---------------------------------------------------------------- measurements

# bench_http SETUP VARIANT PORT PID: /1k and /100k through one running server
bench_http() {
  local payload
  for payload in 1k 100k; do
    node "$BENCH/http-bench.mjs" --setup "$1" --variant "$2" --payload "$payload" \
      --url "http://127.0.0.1:$3/$payload" --pid "$4" --out "$RESULTS"
  done
}

# bench_ws SETUP URL [PID]: the WebSocket ping-pong load
bench_ws() {
  local pid=()
  [[ -n ${3:-} ]] && pid=(--pid "$3")
  node "$BENCH/ws-load.mjs" --setup "$1" --url "$2" "${pid[@]}" --out "$RESULTS"
}

log "origins"
start_origin

log "HTTP: origin direct"
bench_http origin "direct" $ORIGIN_PORT "$ORIGIN_PID"

plural() { if (($1 == 1)); then echo "$1 $2"; else echo "$1 ${2}s"; fi; }

for n in 1 2; do
  log "HTTP: nginx, $(plural $n worker)"
  start_nginx $n
  bench_http nginx "$(plural $n worker)" $NGINX_PORT "$PROXY_PID"
  stop "$PROXY_PID"
done

if [[ ${BENCH_SKIP_HAPROXY:-} != 1 ]]; then
  for n in 1 2; do
    log "HTTP: HAProxy, nbthread $n"
    start_haproxy $n
    bench_http haproxy "nbthread $n" $HAPROXY_PORT "$PROXY_PID"
    stop "$PROXY_PID"
  done
fi

# label I: how the I-th checkout's Outpost is named in the results (nothing when there is one)
label() { ((${#DIRS[@]} > 1)) && echo ", ${LABELS[$1]}" || true; }

if ((OUTPOST)); then
  for n in 1 2; do
    for i in "${!DIRS[@]}"; do
      log "HTTP: Outpost, $(plural $n worker)$(label "$i")"
      start_outpost "outpost-http-$n-$i" $n $ORIGIN_PORT "${DIRS[i]}"
      bench_http outpost "$(plural $n worker)$(label "$i")" $OUTPOST_PORT "$PROXY_PID"
      stop "$PROXY_PID"
    done
  done
fi

log "WebSocket echo: direct"
bench_ws direct "ws://127.0.0.1:$ECHO_PORT/ws" "$ECHO_PID"

log "WebSocket echo: nginx, 2 workers"
start_nginx 2
bench_ws nginx "ws://127.0.0.1:$NGINX_PORT/ws" "$PROXY_PID"
stop "$PROXY_PID"

if ((OUTPOST)); then
  for i in "${!DIRS[@]}"; do
    log "WebSocket echo: Outpost, 2 workers$(label "$i")"
    start_outpost "outpost-ws-$i" 2 $ECHO_PORT "${DIRS[i]}"
    bench_ws "outpost$(label "$i")" "ws://127.0.0.1:$OUTPOST_PORT/ws" "$PROXY_PID"
    stop "$PROXY_PID"
  done

  if [[ ${BENCH_SKIP_IDLE:-} != 1 ]]; then
    log "Idle WebSockets: $IDLE_CONNS through Outpost, 2 workers"
    start_outpost outpost-idle 2 $ECHO_PORT "${DIRS[0]}"
    node "$BENCH/ws-idle.mjs" --url "ws://127.0.0.1:$OUTPOST_PORT/ws" --total "$IDLE_CONNS" \
      --procs 4 --pid "$PROXY_PID" --out "$RESULTS"
    stop "$PROXY_PID"
  fi
fi

# ---------------------------------------------------------------- report

outpost_rev=$(git -C "${DIRS[0]}" rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n $(git -C "${DIRS[0]}" status --porcelain -- src 2>/dev/null) ]] && outpost_rev+=" + uncommitted changes in src/"
((${#DIRS[@]} > 1)) && outpost_rev=$(printf '%s\n' "${LABELS[@]}" | awk '!s[$0]++' | paste -sd' ' | sed 's/ / and /g')

report=$WORK/report.md
{
  echo "## $(date -u)"
  echo
  echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "- command: \`$COMMAND\` (duration ${BENCH_DURATION}s, ${BENCH_REPS} rep(s), median run reported)"
  echo "- versions: node $(node -v), $(nginx -v 2>&1 | sed 's/^nginx version: //'), HAProxy $(haproxy -v | head -1 | awk '{print $3}'), wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), outpost $outpost_rev"
  echo
  node "$BENCH/report.mjs" "$RESULTS"
} >"$report"

if [[ ! -f $BENCH/RESULTS.md ]]; then
  cat >"$BENCH/RESULTS.md" <<'EOF'
# Benchmark results

Appended by `bash bench/run.sh` (see bench/README.md). Newest run last. Ratios are what matter:
wrk, the proxy and the origin share the same machine.
EOF
fi
{ echo; cat "$report"; } >>"$BENCH/RESULTS.md"
echo
cat "$report"
echo
echo "(appended to bench/RESULTS.md)"
