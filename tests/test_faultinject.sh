#!/usr/bin/env bash
# test_faultinject.sh — the runner under injected faults (issue 14, "a fault-injection test"),
# one stage at a time, on the smallest sweep: each fault gives a clear message (one line, or
# one per failed attempt of a job), a non-zero exit, no corrupt or half-written output, no
# temporary file left, and the same command, the fault gone, resumes to whole results.
# test_faults.sh covers a full disk (10), truncated cells, checkpoints and cached results (7)
# and unwritable standard output (12); this adds what was missing:
#   read-only places (an immutable directory or file, chattr +i: root ignores permission
#   bits): the output directory (the run lock, first thing), the cache (pretraining), the work
#   directory's cells (each cell's write), the results file (assembly's rename);
#   allocation failure (AddressSanitizer builds, as CI's: allocations over 1 MB return NULL,
#   allocator_may_return_null): loading a data file.
# Needs $W2SWEEP; exit 77 without h5py or chattr (a file system without immutable files).
set -uo pipefail
. "$(dirname "$0")/testlib.sh" faultinject
mkdir -p "$T/probe" && chattr +i "$T/probe" 2>/dev/null && ! touch "$T/probe/x" 2>/dev/null || {
  chattr -i "$T/probe" 2>/dev/null
  echo "SKIP: no immutable directories here (chattr +i)"
  exit 77
}
chattr -i "$T/probe"
trap 'chattr -R -i "$T" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
# w2sweep's own error lines (a sanitizer's warnings are not the program's output)
errors() { grep -v "AddressSanitizer" "$T/err.log" | grep -c "^w2sweep"; }
# fault WHAT PATTERN LINES command...: exit 1, LINES error lines, the first matching PATTERN
fault() {
  local what=$1 pat=$2 lines=$3
  shift 3
  "$@" >"$T/out.log" 2>"$T/err.log"
  local rc=$?
  if [ "$rc" -eq 1 ] && [ "$(errors)" -eq "$lines" ] && grep -q -- "$pat" "$T/err.log"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "NOT OK: $what (exit $rc, want 1; $(errors) error lines, want $lines)"
    head -n 4 "$T/err.log"
  fi
}
notmp() { test -z "$(find "$T" -name '*.tmp.*' 2>/dev/null)"; }
ncells() { $PY -c "import h5py,sys; f=h5py.File(sys.argv[1],'r'); print(len(f['summary']), f.attrs['complete'])" "$1"; }
cat >"$T/s.cfg" <<CFG
name = "fi";
seeds = [0];
world = { seed = 3; latent_dim = 4; input_dim = 12; render_depth = 2; pretrain_targets = 24; };
data = { n_a = 100; n_b = 100; n_test = 100; };
tasks = ( "linear" );
sizes = ( { name = "t4"; width = 4; depth = 1; }, { name = "t8"; width = 8; depth = 1; } );
weak = ["t4"];
strong = ["t8"];
methods = ( "naive" );
pretrain = { epochs = 1.0; batch = 32; examples_per_param = 1.0; min_examples = 256; max_examples = 512; };
finetune = { epochs = 1.0; batch = 16; };
eval_points = 2;
CFG
run() { "$W2" run "$T/s.cfg" --quiet "$@"; }

# ---- the output directory: the run lock -----------------------------------------------------
mkdir -p "$T/o1" && chattr +i "$T/o1"
fault "read-only output directory: refused" "o1/r.h5.lock: cannot create the run lock" 1 \
  run --output "$T/o1/r.h5" --cache "$T/c1"
check "... before computing anything" test ! -e "$T/c1"
chattr -i "$T/o1"
check "... and the same command then runs" run --output "$T/o1/r.h5" --cache "$T/c1"
check "... to whole results" test "$(ncells "$T/o1/r.h5")" = "1 1"

# ---- the cache: pretraining's checkpoint ----------------------------------------------------
mkdir -p "$T/c2" && chattr +i "$T/c2"
fault "read-only cache: refused" "cannot create directory .*c2/pretrained" 1 \
  run --output "$T/o2/r.h5" --cache "$T/c2"
check "... no results file, no temporary file" sh -c 'test ! -e "$0/o2/r.h5"' "$T"
check "... (none anywhere)" notmp
chattr -i "$T/c2"
check "... and the same command then runs" run --output "$T/o2/r.h5" --cache "$T/c2"
check "... to whole results" test "$(ncells "$T/o2/r.h5")" = "1 1"

# ---- the work directory: a cell's file --------------------------------------------------------
run --output "$T/o3/r.h5" --cache "$T/c2" --no-assemble >/dev/null 2>&1
rm -f "$T"/o3/r.h5.parts/cells/*.h5
chattr +i "$T/o3/r.h5.parts/cells"
fault "read-only cells directory: the cell fails, once per attempt" "cells/cell__linear.*: cannot create file" 2 \
  run --output "$T/o3/r.h5" --cache "$T/c2" --max-attempts 2
check "... the results file says it is partial" test "$(ncells "$T/o3/r.h5")" = "0 0"
check "... no temporary file" notmp
chattr -i "$T/o3/r.h5.parts/cells"
check "... and the same command then resumes" run --output "$T/o3/r.h5" --cache "$T/c2"
check "... to whole results" test "$(ncells "$T/o3/r.h5")" = "1 1"

# ---- the results file: assembly's rename --------------------------------------------------------
cp "$T/o3/r.h5" "$T/before.h5"
rm -f "$T"/o3/r.h5.parts/cells/*.h5 # one cell to recompute, then assemble
chattr +i "$T/o3/r.h5"
fault "an immutable results file: assembly refused" "o3/r.h5: cannot rename the finished file into place" 1 \
  run --output "$T/o3/r.h5" --cache "$T/c2"
check "... the old results intact" cmp "$T/o3/r.h5" "$T/before.h5"
check "... no temporary file" notmp
chattr -i "$T/o3/r.h5"
check "... and the same command then assembles" run --output "$T/o3/r.h5" --cache "$T/c2"
check "... whole results" test "$(ncells "$T/o3/r.h5")" = "1 1"

# ---- allocation failure: loading a data file (AddressSanitizer builds) -------------------------
if case "$(ldd "$W2")" in *libasan*) true ;; *) false ;; esac; then
  $PY -c "
import h5py, numpy as np, sys
X = np.random.default_rng(0).normal(size=(40000, 8)).astype(np.float32)  # 1.28 MB
with h5py.File(sys.argv[1], 'w') as f:
    f['X'] = X
    f['y'] = (X[:, 0] > 0).astype(np.int8)
" "$T/big.h5"
  sed 's/tasks = ( "linear" );/tasks = ( { name = "big"; kind = "file"; file = "big.h5"; } );/' \
    "$T/s.cfg" >"$T/b.cfg"
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=1 \
    fault "allocations over 1 MB fail: out of memory, exit 1 (not bad input)" \
    "b.cfg:5: tasks\[0\] ('big'): .*out of memory allocating 1280000 bytes" 1 \
    "$W2" run "$T/b.cfg" --output "$T/o5/r.h5" --cache "$T/c5" --quiet
  check "... nothing written" sh -c 'test ! -e "$0/o5" && test ! -e "$0/c5"' "$T"
  check "... and with memory the sweep checks" "$W2" check "$T/b.cfg"
else
  echo "(allocation failure: not an AddressSanitizer build, skipped)"
fi
finish
