#!/usr/bin/env bash
# Builds everything, then runs the whole test suite through CTest.
# Exits non-zero when anything fails to build or any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
build_dir=${SEISVAULT_BUILD_DIR:-build}
ctest --test-dir "$build_dir" --output-on-failure --parallel "$(nproc)" --timeout 600
