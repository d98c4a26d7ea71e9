#!/usr/bin/env bash
# Builds SeisVault and starts seisvaultd on an embedded RocksDB store in
# ./seisvault-data (or $SEISVAULT_DATA_DIR), then sends sample data in through
# the real ingest path: a station key is made (./seisvault-data/sample-station),
# authorized for every station, and `seisvault push` sends the miniSEED files
# of ../shared/testdata/miniseed (or $SEISVAULT_SAMPLES), or synthetic records
# when that folder is absent. The server keeps running in the foreground;
# stop it with Ctrl-C. Extra arguments go to seisvaultd.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
build=${SEISVAULT_BUILD_DIR:-build}
data=${SEISVAULT_DATA_DIR:-seisvault-data}
samples=${SEISVAULT_SAMPLES:-../shared/testdata/miniseed}
mkdir -p "$data"
rm -f "$data/ingest.endpoint"

"$build/server/seisvaultd" --data-dir "$data" "$@" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server' INT TERM

for _ in $(seq 1 100); do
  [[ -f "$data/ingest.endpoint" ]] && break
  kill -0 $server 2>/dev/null || { echo "run.sh: seisvaultd did not start" >&2; exit 1; }
  sleep 0.1
done
endpoint=$(cat "$data/ingest.endpoint")
station="$data/sample-station"

# The sample station signs its batches; one made by an older run.sh gets
# its signing key now.
if [[ ! -f "$station.key" || ! -f "$station.sign" ]]; then
  if [[ -f "$station.key" ]]; then
    "$build/client/seisvault" keygen --signing-only "$station" >/dev/null
  else
    "$build/client/seisvault" keygen "$station" >/dev/null
  fi
  "$build/client/seisvault" authorize --data-dir "$data" --key "$station.pub" --stations '*.*' \
    --comment "sample data from scripts/run.sh" >/dev/null
  kill -HUP $server
  sleep 0.5
fi

inputs=()
if [[ -d "$samples" ]]; then
  while IFS= read -r -d '' f; do inputs+=("$f"); done \
    < <(find "$samples" -maxdepth 1 -type f ! -name '*.md' ! -name '*.tsv' -print0 | sort -z)
else
  "$build/bench/seisvault-make-records" --channels 20 --records 2000 --out "$data/synthetic.mseed"
  inputs=("$data/synthetic.mseed")
fi

echo "run.sh: pushing ${#inputs[@]} sample file(s) to $endpoint (some corpus files are corrupt on purpose: their rejections are expected)"
"$build/client/seisvault" push --server "$endpoint" --server-key "$data/server.pub" --key "$station" \
  "${inputs[@]}" || true
api=$(cat "$data/api.endpoint")
http=$(cat "$data/http.endpoint")
seedlink=$(cat "$data/seedlink.endpoint" 2>/dev/null || echo off)
echo "run.sh: seisvaultd is running (ingest $endpoint, query API $api, HTTP $http, SeedLink $seedlink). Try:"
echo "  $build/client/seisvault query --api $api channels"
echo "  curl 'http://$http/fdsnws/availability/1/extent'"
echo "Ctrl-C stops it."
wait $server
