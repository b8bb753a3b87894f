#!/usr/bin/env bash
# test_fuzz.sh BUILD_DIR — a bounded libFuzzer run of the sweep-file parser
# (tests/fuzz/fuzz_sweepcfg.c), seeded with every sweep file of the repository and the
# config tests' files: 0 crashes, 0 hangs (> 10 s per input), 0 leaks, 0 sanitizer reports.
# Builds the harness with clang in BUILD_DIR/fuzz (W2SWEEP_FUZZ=ON); exit 77 without clang.
# W2SWEEP_FUZZ_SECONDS sets the run's length (CI: 45). A long run, e.g. one CPU-hour:
#   W2SWEEP_FUZZ_SECONDS=3600 W2SWEEP_FUZZ_KEEP=/tmp/corpus bash tests/test_fuzz.sh build-test
# (the grown corpus is kept in W2SWEEP_FUZZ_KEEP; a failing input is written to the log).
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=${1:?usage: test_fuzz.sh BUILD_DIR}/fuzz
secs=${W2SWEEP_FUZZ_SECONDS:-45}
command -v clang >/dev/null || { echo "SKIP: no clang (apt-get install clang)"; exit 77; }
cmake -S "$SRC" -B "$B" -DCMAKE_C_COMPILER=clang -DW2SWEEP_FUZZ=ON -DW2SWEEP_BUILD_BENCH=OFF \
  -DBUILD_TESTING=OFF >"$B.configure.log" 2>&1 || { cat "$B.configure.log"; exit 1; }
cmake --build "$B" -j2 --target fuzz_sweepcfg >"$B.build.log" 2>&1 || { tail -30 "$B.build.log"; exit 1; }
corpus=${W2SWEEP_FUZZ_KEEP:-$(mktemp -d /tmp/w2fuzz-corpus.XXXXXX)}
mkdir -p "$corpus"
cp "$SRC"/sweeps/*.cfg "$SRC"/tests/sweeps/*.cfg "$SRC"/tests/configs/*.cfg "$corpus"/ 2>/dev/null
work=$(mktemp -d /tmp/w2fuzz.XXXXXX)
trap 'rm -rf "$work"; [ -n "${W2SWEEP_FUZZ_KEEP:-}" ] || rm -rf "$corpus"' EXIT
cd "$work"
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$SRC/tests/fuzz/lsan.supp \
  "$B/fuzz_sweepcfg" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus" >"$work/fuzz.log" 2>&1
rc=$?
grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb" "$work/fuzz.log"
echo "corpus: $(ls "$corpus" | wc -l) inputs"
if [ $rc -ne 0 ] || ls crash-* leak-* timeout-* oom-* >/dev/null 2>&1; then
  echo "NOT OK: the fuzzer found a failing input (exit $rc):"
  grep -E "ERROR|SUMMARY|Test unit written|Base64" "$work/fuzz.log" | head -20
  exit 1
fi
echo "fuzz_sweepcfg: $secs s, 0 crashes, 0 hangs, 0 leaks"
