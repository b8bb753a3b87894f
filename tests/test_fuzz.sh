#!/usr/bin/env bash
# test_fuzz.sh BUILD_DIR [HARNESS] — a bounded libFuzzer run of one harness of tests/fuzz/:
#   sweepcfg (default)  the sweep-file parser, seeded with every sweep file of the repository
#                       and the config tests' files;
#   dataset             the data-file loader (fuzz_dataset.c);
#   results             the results-file readers of status, export, fit and merge
#                       (fuzz_results.c).
# 0 crashes, 0 hangs (> 10 s per input), 0 leaks, 0 sanitizer reports. The two HDF5 harnesses
# build their files from the fuzzer's bytes (tests/fuzz/h5build.h); before fuzzing they read
# once every seed file of tests/fuzz/make_seeds.py as raw bytes (valid and odd data files;
# odd results-like files, and a results file and a cell file of a tiny sweep when the w2sweep
# binary, $W2SWEEP or BUILD_DIR/w2sweep, is there).
# Builds the harness with clang in BUILD_DIR/fuzz (W2SWEEP_FUZZ=ON); exit 77 without clang.
# W2SWEEP_FUZZ_SECONDS sets the run's length (CI: 40 per harness); W2SWEEP_FUZZ_TIMEOUT the
# wall-clock seconds an input may take before it counts as a hang (default 10; a long run on a
# shared machine wants 600: a process descheduled for longer than the timeout, as one at nice
# 19 behind other work can be, shows up as a hang; bench/RESULTS.md "The long runs"). The harnesses rewrite a
# file in the work directory for every input: put it on a tmpfs (TMPDIR=/dev/shm), or ext4's
# flush on truncate-and-rewrite leaves the sweep-file harness waiting on the disk (it got 11 %
# of a CPU at nice 19 on /tmp here). On Linux with autogroup, nice only orders processes of
# one session: for a low-priority long run also `echo 19 > /proc/PID/autogroup`. A long run, e.g. one
# CPU-hour per harness at the lowest priority, corpus and log kept:
#   W2SWEEP_FUZZ_SECONDS=9000 W2SWEEP_FUZZ_TIMEOUT=600 W2SWEEP_FUZZ_KEEP=/tmp/fz/dataset W2SWEEP_FUZZ_LOG=/tmp/fz/dataset.log \
#     nice -n 19 bash tests/test_fuzz.sh /tmp/fz/build dataset
# (a failing input is written beside the kept corpus, and its trace to the log; W2SWEEP_FUZZ_RAW=1 fuzzes the HDF5 harnesses on raw
# file bytes instead, which also exercises HDF5's own parser: bench/RESULTS.md).
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:?usage: test_fuzz.sh BUILD_DIR [sweepcfg|dataset|results]}
h=${2:-sweepcfg}
B=$BUILD/fuzz
secs=${W2SWEEP_FUZZ_SECONDS:-40}
PY=/usr/bin/python3
case $h in sweepcfg | dataset | results) ;; *) echo "unknown harness '$h'"; exit 2 ;; esac
command -v clang >/dev/null || { echo "SKIP: no clang (apt-get install clang)"; exit 77; }
if [ "$h" != sweepcfg ] && ! $PY -c "import h5py" 2>/dev/null; then
  echo "SKIP: $PY has no h5py (the seed files)"; exit 77
fi
mkdir -p "$B"
cmake -S "$SRC" -B "$B" -DCMAKE_C_COMPILER=clang -DW2SWEEP_FUZZ=ON -DW2SWEEP_BUILD_BENCH=OFF \
  -DBUILD_TESTING=OFF >"$B.configure.log" 2>&1 || { cat "$B.configure.log"; exit 1; }
cmake --build "$B" -j2 --target "fuzz_$h" >"$B.build-$h.log" 2>&1 || { tail -30 "$B.build-$h.log"; exit 1; }
corpus=${W2SWEEP_FUZZ_KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/w2fuzz-corpus.XXXXXX")}
mkdir -p "$corpus"
work=$(mktemp -d "${TMPDIR:-/tmp}/w2fuzz.XXXXXX")
trap 'rm -rf "$work"; [ -n "${W2SWEEP_FUZZ_KEEP:-}" ] || rm -rf "$corpus"' EXIT
log=${W2SWEEP_FUZZ_LOG:-$work/fuzz.log}
export ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$SRC/tests/fuzz/lsan.supp
# a failing input: in the work directory, or beside a kept corpus (it outlives the run)
art=$work/
[ -n "${W2SWEEP_FUZZ_KEEP:-}" ] && art=$(dirname "$corpus")/
opts=(-timeout="${W2SWEEP_FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art")
failed() { # failed WHAT RC: the fuzzer stopped on an input, or left one
  # 72: stopped by SIGINT (Ctrl-C, or a long run stopped at its CPU budget): not a finding
  if [ "$2" -eq 72 ] && grep -q "libFuzzer: run interrupted" "$log" &&
    ! ls "$art"crash-* "$art"leak-* "$art"timeout-* "$art"oom-* >/dev/null 2>&1; then
    echo "$1: interrupted (SIGINT), no failing input"
    return 1
  fi
  if [ "$2" -ne 0 ] || ls "$art"crash-* "$art"leak-* "$art"timeout-* "$art"oom-* >/dev/null 2>&1; then
    echo "NOT OK: $1 found a failing input (exit $2):"
    grep -E "ERROR|SUMMARY|fuzz:|Test unit written|Base64" "$log" | head -20
    grep -E "^ +#[0-9]+ " "$log" | grep -v "fuzzer::\|libc_start\|_start " | head -12
    return 0
  fi
  return 1
}
cd "$work"
if [ "$h" = sweepcfg ]; then
  cp "$SRC"/sweeps/*.cfg "$SRC"/tests/sweeps/*.cfg "$SRC"/tests/configs/*.cfg "$corpus"/ 2>/dev/null
  opts+=(-max_len=8192)
else
  # the seed files, read once as raw bytes (-runs=0: no mutation)
  seeds=$work/seeds
  if [ "$h" = dataset ]; then
    $PY "$SRC/tests/fuzz/make_seeds.py" data "$seeds" || exit 1
  else
    W2=${W2SWEEP:-$BUILD/w2sweep}
    real=()
    if [ -x "$W2" ]; then
      cat >"$work/seed.cfg" <<'CFG'
name = "fuzzseed";
seeds = [0, 1];
world = { seed = 3; latent_dim = 4; input_dim = 6; render_depth = 2; pretrain_targets = 8; };
data = { n_a = 60; n_b = 60; n_test = 60; };
tasks = ( "linear" );
sizes = ( { name = "t2"; width = 2; depth = 1; }, { name = "t4"; width = 4; depth = 1; },
          { name = "t6"; width = 6; depth = 1; } );
weak = ["t2", "t4"];
strong = ["t4", "t6"];
methods = ( "naive" );
pretrain = { epochs = 1.0; batch = 32; examples_per_param = 1.0; min_examples = 64; max_examples = 128; };
finetune = { epochs = 1.0; batch = 16; };
eval_points = 2;
CFG
      ASAN_OPTIONS=detect_leaks=0 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
        "$W2" run "$work/seed.cfg" --output "$work/r.h5" --cache "$work/cache" --quiet \
        >"$work/seed.log" 2>&1 || { echo "NOT OK: the seed sweep failed"; tail -5 "$work/seed.log"; exit 1; }
      real=("$work/r.h5" "$(ls "$work"/r.h5.parts/cells/*.h5 | head -1)")
    fi
    $PY "$SRC/tests/fuzz/make_seeds.py" results "$seeds" "${real[@]}" || exit 1
    opts+=(-close_fd_mask=3) # the commands print
  fi
  W2SWEEP_FUZZ_RAW=1 "$B/fuzz_$h" "${opts[@]}" -runs=0 "$seeds" >"$log" 2>&1
  rc=$?
  failed "fuzz_$h on the $(ls "$seeds" | wc -l) seed files" $rc && exit 1
  echo "fuzz_$h: the $(ls "$seeds" | wc -l) seed files (raw bytes) read: 0 crashes, 0 leaks"
  opts+=(-max_len=4096 -len_control=0)
fi
"$B/fuzz_$h" "${opts[@]}" -max_total_time="$secs" "$corpus" >>"$log" 2>&1
rc=$?
grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb" "$log" | tail -3
echo "corpus: $(ls "$corpus" | wc -l) inputs"
failed "fuzz_$h" $rc && exit 1
[ "$rc" -eq 72 ] && secs="fewer than $secs (interrupted)"
echo "fuzz_$h: $secs s, 0 crashes, 0 hangs, 0 leaks"
