#!/usr/bin/env bash
# test_slurm_array.sh — `w2sweep slurm` + `w2sweep merge` against a real one-node Slurm
# (slurm/localslurm.sh: Debian's slurmctld, slurmd, munge on localhost):
#   1. tests/sweeps/tiny.cfg in array mode (artifacts array -> cells array -> merge, chained by
#      submit.sh with afterok), in a script directory whose path has a space, a quote and a '%'
#      (sbatch must read the quoted #SBATCH lines back verbatim); every element COMPLETED and
#      the merged results bitwise equal to `mpirun -n 2 w2sweep run` (tests/compare_results.py);
#   1b. tests/sweeps/text_tiny.cfg (the transformer family) the same way, when WordNet is
#      installed: equal to mpirun's result;
#   2. the same sweep as one MPI job (sweep.sbatch, srun --mpi=pmix, 2 ranks): equal as well;
#   3. interruption, on a slower variant of tiny.cfg (selftrain students: cells take seconds):
#      cells element 0 is requeued (scontrol requeue) and element 1 cancelled (scancel) while
#      they run; the merge job is then cancelled by Slurm (dependency never satisfied); a merge
#      by hand is partial (exit 1); element 0 restarts by itself, element 1 is resubmitted
#      (sbatch --array=1 cells.sbatch); both finish their slices without recomputing the cells
#      they had finished (same inode and mtime), and the merge equals mpirun's result.
# Exit 0 pass, 1 fail, 77 skip (no root, no Slurm binaries, Slurm does not start, no h5py).
# W2SWEEP_SLURM_REQUIRED=1 turns a skip into a failure (CI); W2SWEEP_SLURM_INSTALL=1 installs
# the packages when missing; W2SWEEP_SLURM_WAIT bounds each wait (s, default 120);
# W2SWEEP_KEEP_SLURM=1 keeps the state dir. Needs $W2SWEEP, $MPIEXEC, $W2SWEEP_SOURCE_DIR.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${W2SWEEP_SOURCE_DIR:-$HERE/..}
HARNESS=$SRC/slurm/localslurm.sh
W2=${W2SWEEP:?W2SWEEP (the w2sweep binary) must be set}
. "$(dirname "$0")/mpilaunch.sh"
PY=/usr/bin/python3
WAIT_S=${W2SWEEP_SLURM_WAIT:-120}
SD=""
T0=$SECONDS

skip() {
  if [ "${W2SWEEP_SLURM_REQUIRED:-0}" = 1 ]; then
    echo "FAIL: Slurm required (W2SWEEP_SLURM_REQUIRED=1) but: $*"
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}

dump_logs() {
  [ -n "$SD" ] && [ -d "$SD" ] || return 0
  local f
  for f in "$SD"/log/slurmctld.log "$SD"/log/slurmd.log; do
    [ -f "$f" ] && { echo "---- tail $f"; tail -n 10 "$f"; }
  done
  while IFS= read -r -d '' f; do
    echo "---- tail $f"
    tail -n 8 "$f"
  done < <(find "$SD/work" -path '*/logs/*.out' -print0 2>/dev/null)
  SLURM_CONF=$SD/etc/slurm.conf squeue -a 2>&1 || true
}

fail() {
  echo "FAIL: $*"
  dump_logs
  exit 1
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$SD" ]; then
    bash "$HARNESS" stop "$SD" >/dev/null 2>&1 || true
    if [ "${W2SWEEP_KEEP_SLURM:-0}" = 1 ]; then echo "state dir kept: $SD"; else rm -rf "$SD"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Not an outer Slurm job's environment (when the suite itself runs inside a cluster job).
while IFS='=' read -r v _; do
  case "$v" in SLURM_* | SBATCH_* | SRUN_* | SQUEUE_* | SINFO_*) unset "$v" ;; esac
done < <(env)

[ "$(id -u)" = 0 ] || skip "needs root to run slurmctld/slurmd/munged (uid=$(id -u))"
[ -f "$HARNESS" ] || fail "harness not found: $HARNESS"
[ -x "$W2" ] || fail "w2sweep binary not found: $W2"
$PY -c "import h5py, numpy" 2>/dev/null || skip "$PY has no h5py/numpy (needed to compare results)"
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 ||
   ! command -v munged >/dev/null 2>&1 || ! command -v sbatch >/dev/null 2>&1; then
  if [ "${W2SWEEP_SLURM_INSTALL:-0}" = 1 ]; then
    out=$(bash "$HARNESS" install 2>&1) || skip "install failed: $(echo "$out" | tail -n 1)"
  else
    skip "Slurm binaries not installed (set W2SWEEP_SLURM_INSTALL=1 or run slurm/localslurm.sh install)"
  fi
fi

SD=$(mktemp -d /tmp/w2slurm-array.XXXXXX)
out=$(bash "$HARNESS" start "$SD" 2>&1) ||
  skip "slurm did not start: $(echo "$out" | grep -v '^SLURM_CONF=' | tail -n 1)"
conf=$(echo "$out" | sed -n 's/^SLURM_CONF=//p' | tail -n 1)
{ [ -n "$conf" ] && [ -f "$conf" ]; } || fail "harness printed no SLURM_CONF (output: $out)"
export SLURM_CONF=$conf
echo "slurm up after $((SECONDS - T0))s"

W=$SD/work
mkdir -p "$W"
cd "$W"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1

# ---------------------------------------------------------------- helpers
wait_jobs() { # wait_jobs ID[,ID...]: until none is pending or running (array elements included)
  local t=$SECONDS
  while [ -n "$(squeue -h -j "$1" -o '%i' 2>/dev/null)" ]; do
    ((SECONDS - t < WAIT_S)) || fail "jobs $1 not finished after ${WAIT_S}s"
    sleep 0.5
  done
}
field() { scontrol -o show job "$1" 2>/dev/null | grep -o "$2=[^ ]*" | head -n 1 | cut -d= -f2; }
job_state() { field "$1" JobState; }
expect_state() { # expect_state JOB STATE
  local st
  st=$(job_state "$1")
  [ "$st" = "$2" ] || fail "job $1 is '$st' (expected $2; reason $(field "$1" Reason), exit $(field "$1" ExitCode))"
}
compare() { # compare REF.h5 OTHER.h5 WHAT
  local o
  o=$($PY "$SRC/tests/compare_results.py" "$1" "$2" 2>&1) || fail "$3: results differ from mpirun's: $(echo "$o" | head -n 5)"
  echo "  $3: $(echo "$o" | tail -n 1)"
}
ncells() { # finished cell files of a shard
  find "$1/cells" -maxdepth 1 -name '*.h5' ! -name '*.tmp.*' 2>/dev/null | wc -l
}
snapshot() { # name inode mtime of every finished cell of a shard
  find "$1/cells" -maxdepth 1 -name '*.h5' ! -name '*.tmp.*' -printf '%f %i %T@\n' 2>/dev/null | sort
}

# ---------------------------------------------------------------- 1. array mode on tiny.cfg
cfg=$SRC/tests/sweeps/tiny.cfg
t=$SECONDS
$(w2_mpi 2) "$W2" run "$cfg" --output "$W/ref.h5" --cache "$W/cache-ref" --quiet \
  >"$W/ref.log" 2>&1 || fail "mpirun reference run failed: $(tail -n 3 "$W/ref.log")"
echo "mpirun -n 2 reference: $((SECONDS - t))s"

# a script directory and an output path that need quoting in #SBATCH lines and in the shell
jobs="$W/jobs 100% 'q'"
res="$W/res dir/arr.h5"
"$W2" slurm "$cfg" --out "$jobs" --output "$res" --cache "$W/cache-arr" --cells-jobs 3 \
  --time 10:00 --ranks 2 >"$W/gen.log" 2>&1 || fail "w2sweep slurm failed: $(cat "$W/gen.log")"
for f in sweep.sbatch artifacts.sbatch cells.sbatch merge.sbatch submit.sh; do
  [ -x "$jobs/$f" ] || fail "$f not written (or not executable) in $jobs"
  bash -n "$jobs/$f" || fail "$f does not parse (bash -n)"
done
grep -q -- '--open-mode=append' "$jobs/cells.sbatch" || fail "cells.sbatch lacks --open-mode=append"
grep -q -- '--requeue' "$jobs/cells.sbatch" || fail "cells.sbatch lacks --requeue"

# submit_chain DIR WHAT: DIR/submit.sh, then wait for its three jobs; sets art, cel, mer
submit_chain() {
  local t=$SECONDS sub
  sub=$(bash "$1/submit.sh" 2>&1) || fail "$2 submit.sh failed: $sub"
  art=$(echo "$sub" | sed -n 's/^artifacts //p')
  cel=$(echo "$sub" | sed -n 's/^cells //p')
  mer=$(echo "$sub" | sed -n 's/^merge //p')
  [ -n "$art" ] && [ -n "$cel" ] && [ -n "$mer" ] || fail "$2 submit.sh printed no job ids: $sub"
  echo "submitted artifacts $art, cells $cel, merge $mer"
  wait_jobs "$art,$cel,$mer"
  echo "$2 array mode done in $((SECONDS - t))s"
}
submit_chain "$jobs" tiny
nart=$(sed -n 's/^#SBATCH --array=0-\([0-9]*\)$/\1/p' "$jobs/artifacts.sbatch")
[ -n "$nart" ] || fail "no --array line in artifacts.sbatch"
for k in $(seq 0 "$nart"); do expect_state "${art}_$k" COMPLETED; done
for k in 0 1 2; do expect_state "${cel}_$k" COMPLETED; done
expect_state "$mer" COMPLETED
# sbatch read the quoted paths back verbatim: the logs are where the scripts say
[ -s "$jobs/logs/cells-2.out" ] || fail "no log $jobs/logs/cells-2.out (quoted --output line misread?)"
ls "$jobs/logs/"merge-*.out >/dev/null 2>&1 || fail "no merge log in $jobs/logs"
grep -q 'complete' "$jobs/logs/"merge-*.out || fail "merge log does not say complete: $(cat "$jobs/logs/"merge-*.out)"
[ -f "$res" ] || fail "merged results $res missing"
compare "$W/ref.h5" "$res" "array mode ($((nart + 1)) artifact + 3 cell elements, merge)"

# ------------------------------------------- 1b. the transformer family in array mode (text)
# tests/sweeps/text_tiny.cfg (WordNet tasks, transformer sizes) through the same chain: the
# artifacts array pretrains on the corpus, the cells array trains, merge assembles; equal to
# mpirun's result. Skipped (said, not failed) without Debian's wordnet-base.
if [ -d /usr/share/wordnet ]; then
  tcfg=$SRC/tests/sweeps/text_tiny.cfg
  $(w2_mpi 2) "$W2" run "$tcfg" --output "$W/tref.h5" --cache "$W/cache-tref" --quiet \
    >"$W/tref.log" 2>&1 || fail "mpirun text reference run failed: $(tail -n 3 "$W/tref.log")"
  "$W2" slurm "$tcfg" --out "$W/tjobs" --output "$W/tres.h5" --cache "$W/cache-tarr" \
    --cells-jobs 2 --time 10:00 >"$W/tgen.log" 2>&1 || fail "w2sweep slurm (text) failed: $(cat "$W/tgen.log")"
  submit_chain "$W/tjobs" text
  for k in 0 1; do expect_state "${cel}_$k" COMPLETED; done
  expect_state "$mer" COMPLETED
  compare "$W/tref.h5" "$W/tres.h5" "text sweep (transformers) in array mode"
else
  echo "text sweep in array mode: skipped (no /usr/share/wordnet; bash .ci/deps.sh --test)"
fi

# ---------------------------------------------------------------- 2. one MPI job
t=$SECONDS
"$W2" slurm "$cfg" --out "$W/one" --output "$W/one/one.h5" --cache "$W/cache-one" --ranks 2 \
  >"$W/gen1.log" 2>&1 || fail "w2sweep slurm (one job) failed: $(cat "$W/gen1.log")"
one=$(sbatch --parsable "$W/one/sweep.sbatch") || fail "sbatch sweep.sbatch failed"
one=${one%%;*}
wait_jobs "$one"
expect_state "$one" COMPLETED
grep -q 'on 2 ranks' "$W/one/logs/sweep-$one.out" || fail "sweep.sbatch did not run on 2 ranks: $(tail -n 3 "$W/one/logs/sweep-$one.out")"
compare "$W/ref.h5" "$W/one/one.h5" "one-job mode (srun --mpi=pmix, 2 ranks)"
echo "one-job mode done in $((SECONDS - t))s"

# ---------------------------------------------------------------- 3. requeue, cancel, resume
# students trained by 100 rounds of self-training: cells take seconds, so elements can be
# caught mid-slice
slow=$W/slow.cfg
sed -e 's/^  "naive",/  { name = "naive"; kind = "selftrain"; iterations = 100; },/' -e 's/^finetune = { epochs = 2.0;/finetune = { epochs = 8.0;/' "$cfg" >"$slow"
grep -q selftrain "$slow" || fail "could not make the slow variant of tiny.cfg"
kj="$W/kill jobs"
kres=$W/kill/kill.h5
"$W2" slurm "$slow" --out "$kj" --output "$kres" --cache "$W/cache-kill" --cells-jobs 2 \
  --artifact-jobs 2 >"$W/gen2.log" 2>&1 || fail "w2sweep slurm (slow) failed: $(cat "$W/gen2.log")"
t=$SECONDS
sub=$(bash "$kj/submit.sh" 2>&1) || fail "submit.sh (slow) failed: $sub"
art=$(echo "$sub" | sed -n 's/^artifacts //p')
cel=$(echo "$sub" | sed -n 's/^cells //p')
mer=$(echo "$sub" | sed -n 's/^merge //p')
# the reference runs while the artifacts array does
# (in the background: run first, it would let the cells array finish before the loop below
# could interrupt it)
$(w2_mpi 2) "$W2" run "$slow" --output "$W/slowref.h5" --cache "$W/cache-slowref" \
  --quiet >"$W/slowref.log" 2>&1 &
refpid=$!
sh0=$kres.shards/cells-0.h5.parts
sh1=$kres.shards/cells-1.h5.parts
size0=$(sed -n 's/^# slice 0: \([0-9]*\) cells.*/\1/p' "$kj/cells.sbatch")
size1=$(sed -n 's/^# slice 1: \([0-9]*\) cells.*/\1/p' "$kj/cells.sbatch")
[ "$((size0 + size1))" = 48 ] || fail "slices of cells.sbatch hold $size0 + $size1 cells, not 48"
# requeue element 0 and cancel element 1 as soon as each has finished a few cells
rq=0 cx=0 tw=$SECONDS
while [ $rq = 0 ] || [ $cx = 0 ]; do
  ((SECONDS - tw < WAIT_S)) || fail "cells elements never ran (requeued=$rq cancelled=$cx)"
  if [ $rq = 0 ] && [ "$(ncells "$sh0")" -ge 3 ]; then
    [ "$(job_state "${cel}_0")" = RUNNING ] || fail "element ${cel}_0 not running with $(ncells "$sh0") cells done"
    scontrol requeue "${cel}_0" || fail "scontrol requeue ${cel}_0 failed"
    rq=1
  fi
  if [ $cx = 0 ] && [ "$(ncells "$sh1")" -ge 3 ]; then
    [ "$(job_state "${cel}_1")" = RUNNING ] || fail "element ${cel}_1 not running with $(ncells "$sh1") cells done"
    scancel "${cel}_1" || fail "scancel ${cel}_1 failed"
    cx=1
  fi
  sleep 0.1
done
# both stopped (no process of theirs left) before looking at what they had finished
tw=$SECONDS
until [ "$(job_state "${cel}_0")" = PENDING ] && [ "$(job_state "${cel}_1")" = CANCELLED ]; do
  ((SECONDS - tw < WAIT_S)) || fail "elements not stopped: ${cel}_0 $(job_state "${cel}_0"), ${cel}_1 $(job_state "${cel}_1")"
  sleep 0.2
done
snapshot "$sh0" >"$W/before0.txt"
snapshot "$sh1" >"$W/before1.txt"
n0=$(wc -l <"$W/before0.txt")
n1=$(wc -l <"$W/before1.txt")
echo "requeued element 0 after $n0/$size0 cells, cancelled element 1 after $n1/$size1 cells"
[ "$n0" -lt "$size0" ] || fail "element 0 had finished its slice before the requeue (cannot test resume)"
[ "$n1" -lt "$size1" ] || fail "element 1 had finished its slice before the cancel (cannot test resume)"
# element 0 restarts by itself, now (a requeued job otherwise waits ~2 min to be eligible).
# Release it only once slurmd has finished killing the old instance: released earlier, Slurm
# allocates it while the old step is still being torn down and refuses to launch it ("Job N
# already killed, do not launch batch job"), failing the element.
tw=$SECONDS
while pgrep -f -- "cells-0.h5" >/dev/null || pgrep -f "slurmstepd: \[$(scontrol show job "${cel}_0" |
  sed -n 's/.*JobId=\([0-9]*\) .*/\1/p' | head -n 1)\." >/dev/null; do
  ((SECONDS - tw < WAIT_S)) || fail "the requeued element's old processes never ended"
  sleep 0.2
done
sleep 1
scontrol update jobid="${cel}_0" StartTime=now || fail "cannot release the requeued element"
# the merge waits for an array that can no longer succeed: Slurm cancels it once element 0 ends
wait_jobs "$cel,$mer"
expect_state "${cel}_0" COMPLETED
expect_state "$mer" CANCELLED
[ ! -e "$kres" ] || fail "$kres exists although the merge job was cancelled"
# a merge by hand now is partial: exit 1, file marked incomplete, the missing cells listed
set +e
"$W2" merge "$slow" --output "$kres" --cache "$W/cache-kill" >"$W/partial.log" 2>&1
rc=$?
set -e
[ $rc = 1 ] || fail "partial merge exited $rc (expected 1): $(tail -n 3 "$W/partial.log")"
grep -q 'missing cell/' "$W/partial.log" || fail "partial merge lists no missing cell: $(cat "$W/partial.log")"
$PY -c "import h5py,sys; f=h5py.File(sys.argv[1],'r'); sys.exit(0 if f.attrs['complete']==0 else 1)" "$kres" ||
  fail "partial merge did not mark $kres complete = 0"
# element 1 is resubmitted alone, as README says
re=$(sbatch --parsable --array=1 "$kj/cells.sbatch") || fail "resubmitting element 1 failed"
re=${re%%;*}
wait_jobs "$re"
expect_state "${re}_1" COMPLETED
[ "$(field "${cel}_0" Restarts)" -ge 1 ] || fail "element 0 shows no restart"
grep -q '(restart 1)' "$kj/logs/cells-0.out" || fail "cells-0.out has no restart header (log not appended?)"
[ "$(ncells "$sh0")" = "$size0" ] || fail "element 0 finished $(ncells "$sh0") of $size0 cells"
[ "$(ncells "$sh1")" = "$size1" ] || fail "element 1 finished $(ncells "$sh1") of $size1 cells"
for k in 0 1; do
  sh=$sh0 size=$size0 before=$n0
  [ $k = 1 ] && sh=$sh1 size=$size1 before=$n1
  snapshot "$sh" >"$W/after$k.txt"
  lost=$(comm -23 "$W/before$k.txt" "$W/after$k.txt")
  [ -z "$lost" ] || fail "element $k recomputed or replaced cells it had finished: $(echo "$lost" | head -n 3)"
  # the resumed run computed exactly the missing cells (every artifact was in the cache)
  done_now=$(grep -o 'finished in [0-9.]* s: [0-9]* jobs done' "$kj/logs/cells-$k.out" | tail -n 1 |
    sed 's/.*: \([0-9]*\) jobs done/\1/')
  [ "$done_now" = "$((size - before))" ] ||
    fail "resumed element $k computed ${done_now:-?} jobs, expected the $((size - before)) missing cells"
done
m2=$(sbatch --parsable "$kj/merge.sbatch") || fail "sbatch merge.sbatch failed"
m2=${m2%%;*}
wait_jobs "$m2"
expect_state "$m2" COMPLETED
wait "$refpid" || fail "mpirun reference (slow) failed: $(tail -n 3 "$W/slowref.log")"
compare "$W/slowref.h5" "$kres" "after requeue + cancel/resubmit"
echo "interruption test done in $((SECONDS - t))s"

echo "slurm_array: PASS in $((SECONDS - T0))s"
