#!/usr/bin/env bash
# Runs the kill-loop durability test (tests/server/ingest_e2e_test.cpp,
# "[kill-loop]") many times: in each run one `seisvault push` follows a
# growing file while seisvaultd is SIGKILLed at random moments and restarted,
# and every record must end up stored exactly once.
#
#   scripts/kill-loop.sh [RUNS] [KILLS]   # defaults: 100 runs, 20 kills each
#
# Builds first (scripts/build.sh). Prints one line per run (its seed is in
# the failure report) and exits 1 if any run failed; the logs of failed runs
# are kept in $SEISVAULT_BUILD_DIR/kill-loop/.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100}
kills=${2:-20}
bash scripts/build.sh
build=${SEISVAULT_BUILD_DIR:-build}
logs="$build/kill-loop"
mkdir -p "$logs"
failed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  if SEISVAULT_KILLS=$kills "$build/tests/server/server_test" "[kill-loop]" >"$logs/run-$i.log" 2>&1; then
    echo "run $i/$runs: ok ($kills kills, $(($(date +%s) - start)) s)"
    rm -f "$logs/run-$i.log"
  else
    echo "run $i/$runs: FAILED (log: $logs/run-$i.log)"
    failed=$((failed + 1))
  fi
done
echo "kill-loop: $((runs - failed))/$runs runs passed, $kills SIGKILLs each"
[[ $failed -eq 0 ]]
