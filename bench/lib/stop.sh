# Sourced by the bench scripts (directly, or through lib/procs.sh; they set BENCH and the PIDS array).
# stop PID: SIGTERM, wait up to 10 s, then SIGKILL whatever is left of its process tree
# (the main process if it ignored SIGTERM, or orphaned workers); forget it in PIDS.
stop() {
  local pid=$1 tree i p
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    tree=$(node "$BENCH/lib/proc.mjs" tree "$pid" 2>/dev/null || echo "$pid")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    # shellcheck disable=SC2086
    for p in $tree; do kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null; done
  fi
  wait "$pid" 2>/dev/null || true
  for i in "${!PIDS[@]}"; do
    [[ ${PIDS[i]} == "$pid" ]] && PIDS[i]=
  done
  return 0
}
