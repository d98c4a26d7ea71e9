#!/usr/bin/env bash
# Builds seisvaultd and starts it on an embedded RocksDB store in
# ./seisvault-data (or $SEISVAULT_DATA_DIR), loading the sample miniSEED
# files of ../shared/testdata/miniseed when that folder exists.
# Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
build_dir=${SEISVAULT_BUILD_DIR:-build}
data_dir=${SEISVAULT_DATA_DIR:-seisvault-data}
samples=()
sample_dir=${SEISVAULT_SAMPLES:-../shared/testdata/miniseed}
if [[ -d "$sample_dir" ]]; then
  while IFS= read -r -d '' f; do samples+=(--load "$f"); done \
    < <(find "$sample_dir" -maxdepth 1 -type f ! -name '*.md' ! -name '*.tsv' -print0 | sort -z)
fi
exec "$build_dir/server/seisvaultd" --data-dir "$data_dir" "${samples[@]}" "$@"
