#!/usr/bin/env bash
# Fuzzes SeisVault's parsers of hostile input with libFuzzer, under
# AddressSanitizer and UndefinedBehaviorSanitizer (docs/testing.md).
#
#   scripts/fuzz.sh [TARGET|all] [--time SECONDS | --runs N] [--keep-going]
#
# TARGET is one of the names in `targets` below (default: all, one after the
# other). --time gives each target SECONDS (default 60); --runs N stops each
# after N executions instead. --keep-going runs libFuzzer in fork mode and
# goes on after a crash (a campaign that must not stop at the first finding);
# without it a target stops at its first crash, leak or timeout.
#
# Configures and builds ./build-fuzz (clang, -fsanitize=fuzzer + address +
# undefined), builds the seed corpora from ../shared/testdata/miniseed
# (or $SEISVAULT_TESTDATA) with fuzz_make_seeds plus the hand-written seeds
# of fuzz/seeds/ (build-fuzz/fuzz/generated-seeds/, made afresh each run),
# then runs each target. Under build-fuzz/fuzz/<target>/: corpus/ (kept
# between runs: a later run continues where this one ended), artifacts/ (the
# inputs of findings) and log. Prints executions, executions per second and
# findings per target; exits 1 if any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(record_validator batch_parser channel_selection time_parser spool_reader station_access_list record_splitter
         seedlink_session miniseed_repack seedlink_wire ledger bundle_manifest)

usage() {
  echo "usage: $0 [TARGET|all] [--time SECONDS | --runs N] [--keep-going]" >&2
  echo "targets: ${targets[*]}" >&2
  exit 2
}

which=all
limit=(-max_total_time=60)
keep_going=0
while (($#)); do
  case "$1" in
    --time) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage; limit=(-max_total_time="$2"); shift 2 ;;
    --runs) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || usage; limit=(-runs="$2"); shift 2 ;;
    --keep-going) keep_going=1; shift ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) which=$1; shift ;;
  esac
done
if [[ "$which" == all ]]; then
  selected=("${targets[@]}")
elif [[ " ${targets[*]} " == *" $which "* ]]; then
  selected=("$which")
else
  echo "fuzz.sh: unknown target '$which'" >&2
  usage
fi

bash scripts/install-deps.sh
if ! dpkg-query -W clang libclang-rt-14-dev >/dev/null 2>&1; then
  echo "fuzz.sh: installing clang and its sanitizer runtimes (clang, libclang-rt-14-dev)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi

testdata=${SEISVAULT_TESTDATA:-../shared/testdata/miniseed}
if [[ ! -d "$testdata" ]]; then
  echo "fuzz.sh: no miniSEED corpus at $testdata (set SEISVAULT_TESTDATA)" >&2
  exit 1
fi

build_dir=build-fuzz
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" \
  -DCMAKE_C_FLAGS="$sanitize" -DCMAKE_CXX_FLAGS="$sanitize" \
  -DSEISVAULT_BUILD_FUZZERS=ON -DSEISVAULT_BUILD_TESTS=OFF -DSEISVAULT_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" --target fuzzers --parallel "$(nproc)"

runs_dir=$build_dir/fuzz
rm -rf "$runs_dir/generated-seeds"
"$build_dir/fuzz/fuzz_make_seeds" "$testdata" "$runs_dir/generated-seeds"

# UBSan's findings are fatal (-fno-sanitize-recover) and come with a stack.
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}abort_on_error=0:detect_leaks=1

declare -A executions rate findings status
failed=0
for t in "${selected[@]}"; do
  dir=$runs_dir/$t
  mkdir -p "$dir/corpus" "$dir/artifacts"
  seed_dirs=()
  [[ -d "$runs_dir/generated-seeds/$t" ]] && seed_dirs+=("$runs_dir/generated-seeds/$t")
  [[ -d "fuzz/seeds/$t" ]] && seed_dirs+=("fuzz/seeds/$t")
  options=()
  ((keep_going)) && options=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
  # Words compared inside libmseed, where libFuzzer sees no coverage.
  [[ "$t" == record_validator || "$t" == record_splitter || "$t" == miniseed_repack ]] &&
    options+=(-dict=fuzz/miniseed.dict)
  # SeedLink's command words (seedlink_session).
  [[ "$t" == seedlink_session ]] && options+=(-dict=fuzz/seedlink.dict)
  before=$(find "$dir/artifacts" -type f | wc -l)
  echo "== fuzz_$t: ${limit[*]} ${options[*]} (log: $dir/log)"
  set +e
  # New interesting inputs go to the first directory, corpus/; the seed
  # directories are only read.
  "$build_dir/fuzz/fuzz_$t" "${limit[@]}" "${options[@]}" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" "$dir/corpus" "${seed_dirs[@]}" >"$dir/log" 2>&1
  rc=$?
  set -e
  after=$(find "$dir/artifacts" -type f | wc -l)
  # Final stats when libFuzzer printed them; otherwise (fork mode) the last
  # status line "#<executions>: ... exec/s <rate> ...".
  executions[$t]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
  rate[$t]=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -n 1)
  if [[ -z "${executions[$t]}" ]]; then
    last=$(grep -E '^#[0-9]+' "$dir/log" | tail -n 1 || true)
    executions[$t]=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$last")
    rate[$t]=$(sed -nE 's/.*exec\/s:? ([0-9]+).*/\1/p' <<<"$last")
  fi
  findings[$t]=$((after - before))
  status[$t]=$rc
  if ((rc != 0 || after > before)); then
    failed=1
    echo "   finding(s): see $dir/log and $dir/artifacts/"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*FUZZ_CHECK|.*runtime error)' "$dir/log" | head -n 5 | sed 's/^/   /' || true
  fi
done

echo
printf '%-20s %14s %10s %9s %5s\n' target executions exec/s findings exit
for t in "${selected[@]}"; do
  printf '%-20s %14s %10s %9s %5s\n' "$t" "${executions[$t]:-?}" "${rate[$t]:-?}" "${findings[$t]}" "${status[$t]}"
done
exit "$failed"
