#!/usr/bin/env bash
# The programs the test suite drives for real, found or installed before it runs (`npm test` calls
# this first, so a newcomer types nothing else): Chromium (the challenge and Desk in a browser),
# PostgreSQL (the Desk store's contract suite starts a throwaway cluster of its own) and
# redis-server (the Desk atlas and cluster tests start and kill their own). On Debian or Ubuntu
# they are installed with apt-get, as root or through a sudo that asks no password; elsewhere the
# script names what is missing and stops.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0

as_root=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root=(sudo -n); else as_root=(missing-root); fi
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "${as_root[0]:-}" = missing-root ]; then
  echo "npm test needs ${missing[*]} on this machine; install them (Debian: sudo apt-get install -y ${missing[*]}) and run it again." >&2
  exit 1
fi

echo "npm test: installing ${missing[*]} with apt-get (once)…"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
# The cluster the postgresql package creates (and may start on :5432) is never used: the tests
# run their own. Drop it so it holds no port or memory.
if [[ " ${missing[*]} " == *" postgresql "* ]] && command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | while read -r version cluster _; do
    "${as_root[@]}" pg_dropcluster --stop "$version" "$cluster" || true
  done
fi
