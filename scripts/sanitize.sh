#!/usr/bin/env bash
# Builds SeisVault with sanitizers and runs its tests there (docs/testing.md).
#
#   scripts/sanitize.sh asan   # ASan + UBSan build in ./build-asan, the WHOLE CTest suite
#   scripts/sanitize.sh tsan   # TSan build in ./build-tsan, every suite but the benchmarks'
#                              # smoke runs: the pipeline (ingest, storage, server, the
#                              # clients against a real server) and the small rest
#
# Compilers: asan uses clang, whose UBSan writes its reports where log_path
# says (gcc 12's prints them on stderr when combined with ASan, so a child's
# report would be lost in a deleted temporary log) and checks a little more
# (-fsanitize=function); tsan uses gcc, the compiler scripts/build.sh and
# users build with, so the shipped compiler's code is sanitized too. Every
# process a test starts (seisvaultd, the seisvault CLI) is instrumented
# too; each writes its sanitizer reports to
# build-<mode>/sanitizer-logs/, and the run fails when any report is there,
# even from a child whose test passed. Exits non-zero on a build error, a
# failing test or any report. Extra arguments go to ctest (e.g. -R storage).
#
# Debian's libraries are not instrumented. For TSan that matters: it does
# not see the atomics and futexes that libzmq, gRPC and Abseil synchronize
# their threads with, so a buffer libzmq's I/O thread recv()s and hands to
# ours, or one gRPC's threads pass around, looks like a race (over 2,600
# reports in one run). ignore_noninstrumented_modules=1 makes TSan ignore the
# memory accesses of libc calls made from inside those libraries (recv,
# memcpy, close...) while still seeing their pthread locks; accesses made by
# SeisVault's code are all checked. (called_from_lib suppressions would hide
# the libraries' pthread locks too, which makes RocksDB's threads look
# racy.) No suppression file is needed: no report lies in a Debian library.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
shift || true
case "$mode" in
  asan)
    compilers=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++)
    flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    bench=ON  # the benchmarks' smoke runs are part of the suite
    ;;
  tsan)
    compilers=(-DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++)
    flags="-fsanitize=thread -fno-omit-frame-pointer"
    # The benchmarks push millions of records: under TSan's 5-15x slowdown
    # their smoke runs would take most of an hour and test nothing the
    # server suites do not.
    bench=OFF
    ;;
  *)
    echo "usage: $0 asan|tsan [ctest arguments]" >&2
    exit 2
    ;;
esac

bash scripts/install-deps.sh
if [[ "$mode" == asan ]] && ! dpkg-query -W clang libclang-rt-14-dev >/dev/null 2>&1; then
  echo "sanitize.sh: installing clang and its sanitizer runtimes (clang, libclang-rt-14-dev)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
build_dir=build-$mode
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${compilers[@]}" "${launcher[@]}" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" -DSEISVAULT_BUILD_BENCH=$bench >/dev/null
cmake --build "$build_dir" --parallel "$(nproc)"

logs=$(pwd)/$build_dir/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"
# ASan and UBSan share one report file per process (the last log_path wins).
export ASAN_OPTIONS="detect_leaks=1:log_path=$logs/report:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/report"
export TSAN_OPTIONS="log_path=$logs/tsan:ignore_noninstrumented_modules=1:second_deadlock_stack=1:history_size=4"

if [[ "$mode" == tsan ]]; then
  echo "sanitize.sh: tsan leaves out the benchmarks' smoke runs (too slow under TSan; asan runs them)" >&2
fi

set +e
ctest --test-dir "$build_dir" --output-on-failure --parallel "$(nproc)" --timeout 1200 "$@"
tests_rc=$?
set -e

reports=$(find "$logs" -type f | sort)
if [[ -n "$reports" ]]; then
  echo
  echo "sanitize.sh: $(wc -l <<<"$reports") process(es) wrote sanitizer reports:"
  for r in $reports; do
    echo "---- $r"
    cat "$r"
  done
fi
if ((tests_rc != 0)) || [[ -n "$reports" ]]; then
  echo "sanitize.sh $mode: FAILED (ctest exit $tests_rc, $(grep -c . <<<"$reports" || true) report file(s))" >&2
  exit 1
fi
echo "sanitize.sh $mode: every test passed, no sanitizer reports"
