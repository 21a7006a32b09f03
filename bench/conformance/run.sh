#!/usr/bin/env bash
# HTTP caching conformance: the independent cache-tests suite (https://cache-tests.fyi,
# github.com/http-tests/cache-tests) run against nginx, Varnish, Squid and Outpost, each as a
# shared cache in front of the suite's own test server, all on this machine's loopback.
#
#   bash bench/conformance/run.sh                  # all four
#   bash bench/conformance/run.sh outpost          # some of: nginx varnish squid outpost
#   CONFORMANCE_ID=freshness-max-age bash bench/conformance/run.sh outpost   # one test, verbose
#
# Environment:
#   CACHE_TESTS_DIR=DIR      use the suite checked out in DIR (its deps are npm-installed there)
#   CACHE_TESTS_GIT=DIR      else extract it from this bare git mirror
#                            (default: ../.mirror/http-tests+cache-tests/repo beside the checkout)
#                            else `npm pack http-cache-tests` (the npm release, maybe older)
#   CONFORMANCE_ID=ID        run only test ID against the proxies (request/response dump), save nothing
#   CONFORMANCE_SKIP_BUILD=1 use the existing dist/ for Outpost
#   CONFORMANCE_KEEP=1       keep the temporary directory (configs, logs) even on success
#   CONFORMANCE_OUTPOST_DIR=DIR  run the Outpost of another checkout (e.g. an older commit
#                            extracted with git archive, node_modules linked), built there
#   CONFORMANCE_OUTPOST_VERSION=TEXT  the version shown for it (default: git rev of the checkout)
#   CONFORMANCE_WORKERS=N    run Outpost with `workers: N` (default: the config's default, one per
#                            core); the result is saved as outpost-workers-N
#   CONFORMANCE_REPEAT=N     run the suite N times against each proxy, each run against a freshly
#                            started proxy; every run is kept in results/runs/NAME-K.json, the last
#                            is NAME.json, and RESULTS.md compares the runs test by test
#
# Raw results (the suite CLI's JSON) go to bench/conformance/results/NAME.json with NAME.meta.json
# beside (date, versions, command); summarize.mjs turns every result there into RESULTS.md.
# Outpost runs with outpost.yaml; while `outpost validate` rejects its cache:/rules: keys (the
# cache is not wired yet) it runs without them and its result is saved as outpost-before-cache.
set -euo pipefail

COMMAND=
for v in CACHE_TESTS_DIR CACHE_TESTS_GIT CONFORMANCE_ID CONFORMANCE_SKIP_BUILD CONFORMANCE_OUTPOST_DIR CONFORMANCE_WORKERS CONFORMANCE_REPEAT; do
  [[ -n ${!v:-} ]] && COMMAND+="$v=${!v} "
done
COMMAND+="bash bench/conformance/run.sh${*:+ $*}"

cd "$(dirname "$0")/../.."
ROOT=$PWD
BENCH=$ROOT/bench
CONF=$BENCH/conformance
export PATH=$PATH:/usr/sbin:/sbin

# Ports: the suite's server on 127.0.0.1, each proxy on its own loopback address.
SERVER_HOST=127.0.0.1
SERVER_PORT=28800
declare -A HOST=([nginx]=127.0.0.11 [varnish]=127.0.0.12 [squid]=127.0.0.13 [outpost]=127.0.0.14)
declare -A PORT=([nginx]=28811 [varnish]=28812 [squid]=28813 [outpost]=28814)
OUTPOST_ADMIN=28914

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'conformance: %s\n' "$*" >&2; exit 1; }

PROXIES=("$@")
((${#PROXIES[@]})) || PROXIES=(nginx varnish squid outpost)
for p in "${PROXIES[@]}"; do
  [[ -n ${PORT[$p]:-} ]] || die "unknown proxy '$p' (expected: nginx varnish squid outpost)"
done
has() { local p; for p in "${PROXIES[@]}"; do [[ $p == "$1" ]] && return 0; done; return 1; }

# ---------------------------------------------------------------- processes, cleanup

WORK=$(mktemp -d "${TMPDIR:-/tmp}/outpost-conformance.XXXXXX")
chmod 755 "$WORK" # squid and varnish drop root for their own users and must reach their dirs
PIDS=()
LAST_PID=
OK=0
source "$BENCH/lib/stop.sh"

cleanup() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    [[ -n ${PIDS[i]} ]] && stop "${PIDS[i]}"
  done
  if ((OK)) && [[ ${CONFORMANCE_KEEP:-} != 1 ]]; then
    rm -rf "$WORK"
  else
    echo "conformance: configs and logs kept in $WORK" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: CMD in the background, output to $WORK/NAME.{out,err}
start() {
  local name=$1
  shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

# fg CMD...: run CMD as a child we can stop (a signal's trap runs at once, not after CMD ends)
fg() {
  local p rc=0 i
  "$@" &
  p=$!
  PIDS+=("$p")
  wait "$p" || rc=$?
  for i in "${!PIDS[@]}"; do [[ ${PIDS[i]} == "$p" ]] && PIDS[i]=; done
  return $rc
}

wait_tcp() { # HOST:PORT
  node "$BENCH/lib/wait.mjs" tcp "$1" 20 "$LAST_PID" || die "nothing listening on $1; see the logs in $WORK"
}

port_free() { ! node "$BENCH/lib/wait.mjs" tcp "$1" 0 2>/dev/null; }

port_free "$SERVER_HOST:$SERVER_PORT" || die "port $SERVER_HOST:$SERVER_PORT is in use"
for p in "${PROXIES[@]}"; do
  port_free "${HOST[$p]}:${PORT[$p]}" || die "port ${HOST[$p]}:${PORT[$p]} is in use"
done

# fill TEMPLATE OUT NAME: the template with @DIR@, @LISTEN_HOST@… replaced
fill() {
  local user_line=
  [[ $EUID -eq 0 ]] && user_line='user root;'
  sed -e "s|@DIR@|$WORK/$3|g" -e "s|@LISTEN_HOST@|${HOST[$3]}|g" -e "s|@LISTEN_PORT@|${PORT[$3]}|g" \
    -e "s|@ORIGIN_HOST@|$SERVER_HOST|g" -e "s|@ORIGIN_PORT@|$SERVER_PORT|g" \
    -e "s|@ADMIN_PORT@|$OUTPOST_ADMIN|g" -e "s|@USER_LINE@|$user_line|g" "$1" >"$2"
}

# ---------------------------------------------------------------- the suite

SUITE=
SUITE_FROM=
if [[ -n ${CACHE_TESTS_DIR:-} ]]; then
  SUITE=$(cd "$CACHE_TESTS_DIR" && pwd)
  SUITE_FROM="directory $CACHE_TESTS_DIR"
  [[ -d $SUITE/.git ]] && SUITE_FROM+=" ($(git -C "$SUITE" rev-parse --short HEAD 2>/dev/null || echo '?'))"
else
  SUITE=$WORK/cache-tests
  mkdir -p "$SUITE"
  GIT_DIR_=${CACHE_TESTS_GIT:-$ROOT/../.mirror/http-tests+cache-tests/repo}
  if [[ -d $GIT_DIR_ ]] && git --git-dir="$GIT_DIR_" rev-parse --verify -q HEAD >/dev/null; then
    log "cache-tests from the git mirror"
    git --git-dir="$GIT_DIR_" archive HEAD | tar -x -C "$SUITE"
    SUITE_FROM="git $(git --git-dir="$GIT_DIR_" rev-parse --short HEAD) ($(git --git-dir="$GIT_DIR_" log -1 --format=%cs HEAD))"
  else
    log "cache-tests from npm (npm pack http-cache-tests)"
    (cd "$WORK" && npm pack --silent http-cache-tests >pack.txt)
    tar -xzf "$WORK/$(tail -1 "$WORK/pack.txt")" -C "$SUITE" --strip-components=1
    SUITE_FROM="npm"
  fi
fi
# the repository keeps the engine in test-engine/; older npm releases at the top
ENGINE=$SUITE/test-engine
[[ -d $ENGINE ]] || ENGINE=$SUITE
[[ -f $ENGINE/cli.mjs && -f $ENGINE/server/server.mjs && -f $SUITE/tests/index.mjs ]] || die "no cache-tests suite in $SUITE"
SUITE_VERSION=$(node -p "require('$SUITE/package.json').version")
if [[ ! -d $SUITE/node_modules/undici ]]; then
  log "npm install (the suite's dependencies)"
  (cd "$SUITE" && npm install --omit=dev --no-audit --no-fund --loglevel=error >"$WORK/npm-install.log" 2>&1) ||
    { cat "$WORK/npm-install.log" >&2; die "npm install in $SUITE failed"; }
fi

# ---------------------------------------------------------------- the proxies

need=()
has nginx && ! command -v nginx >/dev/null && need+=(nginx)
has varnish && ! command -v varnishd >/dev/null && need+=(varnish)
has squid && ! command -v squid >/dev/null && need+=(squid)
if ((${#need[@]})); then
  log "installing ${need[*]} from Debian"
  [[ $EUID -eq 0 ]] || die "need root to apt-get install ${need[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
fi

OUTPOST_MODE=
OUTPOST_DIR=$(cd "${CONFORMANCE_OUTPOST_DIR:-$ROOT}" && pwd)
if has outpost; then
  if [[ ${CONFORMANCE_SKIP_BUILD:-} != 1 ]]; then
    log "npm run build ($OUTPOST_DIR)"
    (cd "$OUTPOST_DIR" && npm run build --silent) ||
      { [[ -f $OUTPOST_DIR/dist/cli/main.js ]] || die "build failed"; echo "conformance: build failed; using the existing dist/" >&2; }
  fi
  [[ -f $OUTPOST_DIR/dist/cli/main.js ]] || die "no dist/cli/main.js in $OUTPOST_DIR: run npm run build"
fi

start_nginx() {
  local d=$WORK/nginx
  mkdir -p "$d/tmp" "$d/cache"
  fill "$CONF/nginx.conf" "$d/nginx.conf" nginx
  start nginx nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf"
}

start_varnish() {
  local d=$WORK/varnish
  mkdir -p "$d"
  fill "$CONF/varnish.vcl" "$d/default.vcl" varnish
  # the parameters of the suite's docker/serve.sh; -n: our own working directory
  start varnish varnishd -F -n "$d/n" -a "${HOST[varnish]}:${PORT[varnish]}" -f "$d/default.vcl" \
    -p default_ttl=0 -p default_grace=0 -p default_keep=3600 -s malloc,64M
}

start_squid() {
  local d=$WORK/squid
  mkdir -p "$d"
  fill "$CONF/squid.conf" "$d/squid.conf" squid
  # as root squid runs as its cache_effective_user (Debian: proxy), which writes the logs here
  [[ $EUID -eq 0 ]] && id proxy >/dev/null 2>&1 && chown -R proxy "$d"
  start squid squid -N -f "$d/squid.conf"
}

start_outpost() {
  local d=$WORK/outpost
  mkdir -p "$d"
  fill "$CONF/outpost.yaml" "$d/outpost.yaml" outpost
  [[ -n ${CONFORMANCE_WORKERS:-} ]] && echo "workers: $CONFORMANCE_WORKERS" >>"$d/outpost.yaml"
  OUTPOST_MODE=cache
  if ! node "$OUTPOST_DIR/bin/outpost.js" validate -c "$d/outpost.yaml" >"$d/validate.txt" 2>&1; then
    if grep -qiE 'cache|rules' "$d/validate.txt"; then
      echo "conformance: this Outpost rejects the cache:/rules: keys (the cache is not wired yet):" >&2
      sed 's/^/  /' "$d/validate.txt" >&2
      echo "conformance: running it without them; result saved as outpost-before-cache" >&2
      OUTPOST_MODE=before-cache
      # drop the top-level cache: and rules: blocks
      awk '/^(cache|rules):/ { skip = 1; next } /^[^ #]/ { skip = 0 } !skip' "$d/outpost.yaml" >"$d/outpost-nocache.yaml"
      mv "$d/outpost-nocache.yaml" "$d/outpost.yaml"
      node "$OUTPOST_DIR/bin/outpost.js" validate -c "$d/outpost.yaml" >&2 || die "the Outpost config is invalid even without cache:/rules:"
    else
      cat "$d/validate.txt" >&2
      die "the Outpost config is invalid"
    fi
  fi
  start outpost node "$OUTPOST_DIR/bin/outpost.js" start -c "$d/outpost.yaml"
  node "$BENCH/lib/wait.mjs" http "http://${HOST[outpost]}:$OUTPOST_ADMIN/readyz" 30 "$LAST_PID" ||
    die "Outpost did not become ready; see $WORK/outpost.err"
}

version_of() {
  case $1 in
    nginx) nginx -v 2>&1 | sed 's|^nginx version: ||' ;;
    varnish) varnishd -V 2>&1 | head -1 | sed -E 's/^varnishd \(([^ ]+) revision.*/\1/' ;;
    squid) echo "squid-$(squid -v | head -1 | awk '{print $4}')" ;;
    outpost)
      local rev
      if [[ -n ${CONFORMANCE_OUTPOST_VERSION:-} ]]; then echo "$CONFORMANCE_OUTPOST_VERSION"; return; fi
      if [[ -n ${OUTPOST_VERSION:-} ]]; then echo "$OUTPOST_VERSION"; return; fi
      rev=$(git -C "$OUTPOST_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
      [[ -n $(git -C "$OUTPOST_DIR" status --porcelain -- src 2>/dev/null) ]] && rev+=" + uncommitted changes in src/"
      echo "outpost $rev"
      ;;
  esac
}

# the version of what was built (the checkout may move on while the suite runs)
OUTPOST_VERSION=
has outpost && OUTPOST_VERSION=$(version_of outpost)

# ---------------------------------------------------------------- run

log "cache-tests $SUITE_VERSION ($SUITE_FROM): server on $SERVER_HOST:$SERVER_PORT"
start cache-tests-server env LISTEN_HOST=$SERVER_HOST npm_config_protocol=http \
  npm_config_port=$SERVER_PORT npm_config_pidfile="$WORK/cache-tests-server.pid" node --import "$CONF/loopback.mjs" "$ENGINE/server/server.mjs"
wait_tcp "$SERVER_HOST:$SERVER_PORT"

mkdir -p "$CONF/results"
REPEAT=${CONFORMANCE_REPEAT:-1}
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "CONFORMANCE_REPEAT must be a positive integer"
((REPEAT > 1)) && mkdir -p "$CONF/results/runs"
for p in "${PROXIES[@]}"; do
 for ((run = 1; run <= REPEAT; run++)); do
  log "$p on ${HOST[$p]}:${PORT[$p]}${CONFORMANCE_REPEAT:+ (run $run of $REPEAT)}"
  "start_$p"
  [[ $p == outpost ]] || wait_tcp "${HOST[$p]}:${PORT[$p]}"
  proxy_pid=$LAST_PID
  name=$p
  [[ $p == outpost && -n ${CONFORMANCE_WORKERS:-} ]] && name=outpost-workers-$CONFORMANCE_WORKERS
  [[ $p == outpost && $OUTPOST_MODE == before-cache ]] && name=outpost-before-cache
  # the runs of an earlier repeat of this proxy would be compared with this one's: start afresh
  ((REPEAT > 1 && run == 1)) && rm -f "$CONF/results/runs/$name"-*.json
  base="http://${HOST[$p]}:${PORT[$p]}"
  if [[ -n ${CONFORMANCE_ID:-} ]]; then
    fg bash -c 'cd "$1" && exec npm run --silent cli --base="$2" --id="$3"' _ "$SUITE" "$base" "$CONFORMANCE_ID"
  else
    started=$(date +%s)
    fg bash -c 'cd "$1" && exec npm run --silent cli --base="$2"' _ "$SUITE" "$base" >"$WORK/$name.json" 2>"$WORK/$name.cli.err" ||
      { tail "$WORK/$name.cli.err" >&2; die "the suite's CLI failed against $p"; }
    node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$WORK/$name.json" ||
      die "the CLI did not print JSON for $p; see $WORK/$name.json"
    cp "$WORK/$name.json" "$CONF/results/$name.json"
    ((REPEAT > 1)) && cp "$WORK/$name.json" "$CONF/results/runs/$name-$run.json"
    NAME=$name PROXY_VERSION=$(version_of "$p") SUITE_VERSION=$SUITE_VERSION SUITE_FROM=$SUITE_FROM \
      COMMAND=$COMMAND BASE=$base SECONDS_=$(($(date +%s) - started)) node -e '
        const e = process.env;
        const meta = { name: e.NAME, date: new Date().toISOString(), version: e.PROXY_VERSION,
          suite: `http-cache-tests ${e.SUITE_VERSION} (${e.SUITE_FROM})`, node: process.version,
          command: e.COMMAND, base: e.BASE, seconds: Number(e.SECONDS_) };
        require("fs").writeFileSync(process.argv[1], JSON.stringify(meta, null, 2) + "\n");
      ' "$CONF/results/$name.meta.json"
    echo "$name: $(node -p "const r = require('$WORK/$name.json'); const v = Object.values(r); v.filter((x) => x === true).length + ' of ' + v.length + ' true'")" >&2
  fi
  stop "$proxy_pid"
 done
done

if [[ -z ${CONFORMANCE_ID:-} ]]; then
  node "$CONF/summarize.mjs" --suite "$SUITE" --results "$CONF/results" --out "$CONF/RESULTS.md"
  log "wrote bench/conformance/RESULTS.md"
fi
OK=1
