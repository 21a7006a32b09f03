#!/usr/bin/env bash
# The Desk benchmark: visitors and operators over WebSockets, direct to two Desk nodes and through
# an Outpost edge, then a node killed under load (see bench/desk/run.mjs and bench/README.md).
#
#   bash bench/desk.sh                               # 5,000 visitors, ~4 min; report in bench/.work/desk/
#   BENCH_RECORD=1 bash bench/desk.sh                # …and append it to bench/RESULTS.md
#   DESK_VISITORS=200 DESK_DURATION=10 bash bench/desk.sh   # quick check
#
# Environment: DESK_VISITORS=5000, DESK_PERIOD=5000 (ms between a visitor's messages),
# DESK_DURATION=30 (s per run), DESK_PROCS=4 (visitor processes, from 127.0.0.2 on),
# DESK_ANSWERS=5 (answers per second per operator), DESK_ONLY="direct edge failover",
# BENCH_SKIP_BUILD=1. Needs redis-server (installed from Debian when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
COMMAND=
for v in DESK_VISITORS DESK_PERIOD DESK_DURATION DESK_PROCS DESK_ANSWERS DESK_ONLY BENCH_RECORD; do
  if [[ -n ${!v:-} ]]; then COMMAND+="$v=${!v} "; fi
done
export DESK_COMMAND="${COMMAND}bash bench/desk.sh"
if ! command -v redis-server >/dev/null; then
  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
fi
[[ ${BENCH_SKIP_BUILD:-} == 1 ]] || npm run build --silent
exec node bench/desk/run.mjs
