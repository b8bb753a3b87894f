#!/bin/sh
# run_torch_student.sh — the PyTorch reference for students (issue 3's acceptance): the C
# student runs (bench/export_student, checked bit for bit against w2_pipe_cell) against the
# same students trained in PyTorch (bench/torch_student.py) from the exported data, initial
# weights, batch order and hyperparameters, for the naive and conf losses.
#
# Usage: bench/run_torch_student.sh BUILD_DIR [SWEEP [TASKS [WEAK [STRONG [SEED]]]]]
#   defaults: sweeps/quickstart.cfg, linear,nonlinear,sparse, w16, w256, 0
#   Configures BUILD_DIR as a Release build if it has no CMakeCache.txt, (re)builds
#   export_student, runs it for each task (comma list), then torch_student.py on all of
#   them, and prints Markdown (machine, date, command, tables, PASS/FAIL) to stdout; exit
#   status 1 when a threshold is missed, 3 when a C run differs from w2_pipe_cell's.
#   Paste it under "PyTorch reference for students" in bench/RESULTS.md.
# Environment (optional): CACHE (artifact cache dir; default: a temporary one, so the
#   pretraining is redone), KEEP (a directory to keep the exported files in), PYTHON
#   (/usr/bin/python3), VARIANTS (torch_student.py --variants).
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [SWEEP [TASKS [WEAK [STRONG [SEED]]]]]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=$1
sweep=${2:-$src/sweeps/quickstart.cfg}
tasks=${3:-linear,nonlinear,sparse}
weak=${4:-w16}
strong=${5:-w256}
seed=${6:-0}
PYTHON=${PYTHON:-/usr/bin/python3}
VARIANTS=${VARIANTS:-f32-manual,f32-optim,f64-manual}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

if [ ! -f "$sweep" ]; then
  echo "run_torch_student.sh: error: no sweep file '$sweep'" >&2
  exit 2
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
fi
cmake --build "$build" --target export_student -j2 >&2
"$PYTHON" -c 'import torch, h5py' 2>/dev/null || {
  echo "run_torch_student.sh: error: $PYTHON cannot import torch and h5py (apt install python3-torch python3-h5py)" >&2
  exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
out=${KEEP:-$tmp/out}
cache=${CACHE:-$tmp/cache}
mkdir -p "$out" "$cache"

t0=$(date +%s)
files=""
status=0
for t in $(echo "$tasks" | tr ',' ' '); do
  rc=0
  "$build/bench/export_student" "$sweep" --task "$t" --weak "$weak" --strong "$strong" \
    --seed "$seed" --out "$out" --cache "$cache" 2>"$tmp/export_$t.log" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    cat "$tmp/export_$t.log" >&2
    exit "$rc"
  fi
  [ "$rc" -eq 3 ] && status=3
  files="$files $out/$t.h5"
done
t1=$(date +%s)
rc=0
# shellcheck disable=SC2086
"$PYTHON" "$here/torch_student.py" $files --variants "$VARIANTS" --json "$tmp/cmp.json" \
  >"$tmp/torch.md" || rc=$?
t2=$(date +%s)
[ "$rc" -ne 0 ] && [ "$status" -eq 0 ] && status=$rc

model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
bt=$(grep '^CMAKE_BUILD_TYPE:' "$build/CMakeCache.txt" | cut -d= -f2)
cflags=$(grep '^CMAKE_C_FLAGS:' "$build/CMakeCache.txt" | cut -d= -f2-)
echo "- Machine: $model, $(getconf _NPROCESSORS_ONLN) CPUs online; 1 thread (OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1))"
echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- Build: $bt, CMAKE_C_FLAGS='$cflags'"
echo "- Command: bench/run_torch_student.sh $build $sweep $tasks $weak $strong $seed"
echo "- Wall time: C export (pretraining + weak + students + w2_pipe_cell re-runs) $((t1 - t0)) s, torch $((t2 - t1)) s"
echo
sed -n 's/^  \(pretrained\|weak \|export \)/- C: \1/p' "$tmp"/export_*.log | sed 's/  */ /g'
echo
cat "$tmp/torch.md"
exit "$status"
