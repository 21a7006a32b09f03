# Sourced by bench scripts that start servers and load generators (attack.sh, cache.sh), after
# they set BENCH, WORK, a PIDS array and LAST_PID, and define die. Brings stop (lib/stop.sh).
source "$BENCH/lib/stop.sh"

# stop_all: every process started, in reverse order (for the EXIT trap)
stop_all() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    [[ -n ${PIDS[i]} ]] && stop "${PIDS[i]}"
  done
  return 0
}

# start NAME CMD...: run CMD in the background, stdout/stderr to $WORK/NAME.{out,err}
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

port_free() { ! node "$BENCH/lib/wait.mjs" tcp "127.0.0.1:$1" 0 2>/dev/null; }
# wait_tcp PORT: until something listens on 127.0.0.1:PORT (20 s), or the last started process dies
wait_tcp() { node "$BENCH/lib/wait.mjs" tcp "127.0.0.1:$1" 20 "$LAST_PID" || die "nothing listening on port $1; see the logs in $WORK"; }
