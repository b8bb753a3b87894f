#!/usr/bin/env bash
# test_runner.sh — the sweep runner's acceptance checks on tests/sweeps/tiny.cfg:
#   1. rank invariance: -np 1, -np 2 and -np 4 (oversubscribed) give bitwise-equal cell
#      metrics and curves (tests/compare_results.py);
#   2. kill -9 of the whole job at several points (during pretraining, during cells, after
#      the cells before assembly) and of a single rank, then the same command: the final
#      results equal the uninterrupted run's;
#   3. the artifact cache: a second sweep sharing sizes pretrains nothing; a changed
#      finetuning setting recomputes ceilings but reuses pretrained models; a changed
#      pretraining setting pretrains anew.
# Needs $W2SWEEP (the binary) and $MPIEXEC; prints "N passed, M failed".
set -u
src=${W2SWEEP_SOURCE_DIR:?}
w2=${W2SWEEP:?}
. "$(dirname "$0")/mpilaunch.sh"
work=$(mktemp -d /tmp/w2test-runner.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
check() { # check "what" command...
  local what=$1
  shift
  if "$@" >"$work/last.log" 2>&1; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "NOT OK: $what"
    tail -20 "$work/last.log"
  fi
}
cmp_results() { /usr/bin/python3 "$src/tests/compare_results.py" "$1" "$2"; }
run() { # run NP NAME [extra args]: a sweep into $work/NAME.h5 with its own cache
  local np=$1 name=$2
  shift 2
  $(w2_mpi "$np") "$w2" run "$cfg" --output "$work/$name.h5" \
    --cache "$work/cache-$name" --quiet "$@"
}
if ! /usr/bin/python3 -c "import h5py" 2>/dev/null; then
  echo "SKIP: /usr/bin/python3 has no h5py (needed to compare results files)"
  exit 77
fi

# a slower variant of tiny.cfg: more pretraining, so kills land mid-run
cfg="$work/tiny.cfg"
sed -e 's/examples_per_param = 1.0; min_examples = 512; max_examples = 2048;/examples_per_param = 40.0; min_examples = 4096; max_examples = 40000;/' \
  "$src/tests/sweeps/tiny.cfg" >"$cfg"
check "slow variant of tiny.cfg is valid" "$w2" check "$cfg"

# 1. rank invariance
check "run on 1 rank" run 1 np1
check "run on 2 ranks" run 2 np2
check "run on 4 ranks" run 4 np4
check "np1 == np2 bitwise" cmp_results "$work/np1.h5" "$work/np2.h5"
check "np1 == np4 bitwise" cmp_results "$work/np1.h5" "$work/np4.h5"
check "status reports a complete sweep" sh -c "'$w2' status '$work/np2.h5' | grep -q 'complete'"
check "export has a header and 48 rows" sh -c "test \$('$w2' export '$work/np2.h5' --csv | wc -l) -eq 49"

# 2. kill -9 and resume
kill_when() { # kill_when NAME WHAT N: start a 2-rank run, kill -9 all of it once WHAT
  local name=$1 what=$2 n=$3
  rm -rf "$work/$name.h5" "$work/$name.h5.parts" "$work/cache-$name"
  # job control: the background job is its own process group (pgid = its pid), so one
  # kill reaches mpirun and every rank it started
  set -m
  $(w2_mpi 2) "$w2" run "$cfg" --output "$work/$name.h5" \
    --cache "$work/cache-$name" --quiet >"$work/$name.log" 2>&1 &
  local pid=$! t=0
  set +m
  while kill -0 $pid 2>/dev/null && [ $t -lt 3000 ]; do
    local c
    case $what in
      pretrain) c=$(ls "$work/cache-$name/pretrained" 2>/dev/null | grep -vc tmp) ;;
      cells) c=$(ls "$work/$name.h5.parts/cells" 2>/dev/null | grep -vc tmp) ;;
      rank) c=$(ls "$work/$name.h5.parts/cells" 2>/dev/null | grep -vc tmp) ;;
    esac
    [ "${c:-0}" -ge "$n" ] && break
    sleep 0.01
    t=$((t + 1))
  done
  if [ "$what" = rank ]; then
    pkill -9 -f "w2sweep run $cfg --output $work/$name.h5" -n # the newest rank only
  else
    kill -9 -- -$pid 2>/dev/null
  fi
  wait $pid 2>/dev/null
  # nothing of the killed run may survive into the resumed one
  pkill -9 -f -- "--output $work/$name.h5" 2>/dev/null
  while pgrep -f -- "--output $work/$name.h5" >/dev/null; do sleep 0.05; done
  local done_before
  done_before=$(ls "$work/$name.h5.parts/cells" 2>/dev/null | grep -vc tmp)
  echo "killed $name after $what>=$n: $done_before cells were done"
}
for point in "pretrain 1" "cells 1" "cells 20" "cells 48" "rank 10"; do
  set -- $point
  name="kill_$1_$2"
  kill_when "$name" "$1" "$2"
  check "$name: resumed run succeeds" run 2 "$name"
  check "$name: resumed == uninterrupted" cmp_results "$work/np1.h5" "$work/$name.h5"
  check "$name: no temporary files left in the cell store" \
    sh -c "! ls '$work/$name.h5.parts/cells' | grep -q tmp"
done
# a rerun of a finished sweep recomputes nothing
check "rerun of a finished sweep does no work" sh -c "$(w2_mpi 2) '$w2' run '$cfg' \
  --output '$work/np2.h5' --cache '$work/cache-np2' --quiet | grep -q ': 0 jobs done, [0-9]* already done, 0 failed'"
# plan knows what is there: a finished sweep takes no time, --cold counts every job again;
# every finished job recorded the CPU seconds its worker spent (what plan --calibrate fits)
njobs=$("$w2" plan "$cfg" --cold | sed -n 's/^sweep .*: \([0-9]*\) jobs$/\1/p')
check "plan of a finished sweep: all $njobs jobs already done, 0 s" sh -c "'$w2' plan '$cfg' -n 2 \
  --output '$work/np2.h5' --cache '$work/cache-np2' >'$work/plan.txt' && [ -n '$njobs' ] &&
  grep -q '^  already done  *$njobs ' '$work/plan.txt' &&
  grep -q 'estimated wall time on 2 ranks: 0 s' '$work/plan.txt'"
check "plan --cold of a finished sweep counts every job" sh -c "'$w2' plan '$cfg' -n 2 --cold --jobs \
  --output '$work/np2.h5' --cache '$work/cache-np2' >'$work/plan.txt' &&
  ! grep -q 'already done' '$work/plan.txt' && ! grep -q ' done\$' '$work/plan.txt' &&
  [ \$(grep -c '  seconds ' '$work/plan.txt') -eq $njobs ]"
printf 'machine = "m";\n' >"$work/bad_tp.cfg"
check "plan with a bad throughput model: exit 2, one line naming it, no estimate" sh -c "
  '$w2' plan '$cfg' --throughput '$work/bad_tp.cfg' >'$work/plan.out' 2>'$work/plan.err'; rc=\$?
  [ \$rc -eq 2 ] && [ ! -s '$work/plan.out' ] && [ \$(wc -l <'$work/plan.err') -eq 1 ] &&
  grep -q 'bad_tp.cfg' '$work/plan.err'"
check "status records carry the job's CPU seconds" sh -c "awk '/^cpu /{ if (\$2 > 0) ok = 1 } END { exit !ok }' \
  '$work/np2.h5.parts/status/pretrain__t24__s0.txt'"

# 3. the artifact cache
cp -r "$work/cache-np2" "$work/cache-shared"
shared() { $(w2_mpi 2) "$w2" run "$1" --output "$work/$2.h5" --cache "$work/cache-shared" >"$work/$2.log" 2>&1; }
sed -e 's/strong = \["t8", "t24"\];/strong = ["t24"];/' -e 's/name = "tiny";/name = "tiny2";/' "$cfg" >"$work/sub.cfg"
check "plan of a sweep sharing sizes counts its cached models as done" sh -c "'$w2' plan '$work/sub.cfg' \
  --jobs --output '$work/sub.h5' --cache '$work/cache-shared' | grep '^  pretrain/' >'$work/pre.txt' &&
  [ -s '$work/pre.txt' ] && ! grep -v ' done\$' '$work/pre.txt'"
check "a sweep sharing sizes runs" shared "$work/sub.cfg" sub
check "... and pretrains nothing" sh -c "! grep -q 'pretrained' '$work/sub.log'"
check "... and recomputes no ceiling" sh -c "! grep -q '  ceiling ' '$work/sub.log'"
sed -e 's/finetune = { epochs = 2.0; batch = 16; };/finetune = { epochs = 3.0; batch = 16; };/' "$work/sub.cfg" >"$work/ft.cfg"
check "a changed finetuning setting runs" shared "$work/ft.cfg" ft
check "... reuses pretrained models" sh -c "! grep -q 'pretrained' '$work/ft.log'"
check "... and recomputes ceilings" grep -q "  ceiling " "$work/ft.log"
sed -e 's/pretrain = { epochs = 2.0;/pretrain = { epochs = 1.0;/' "$work/sub.cfg" >"$work/pt.cfg"
check "a changed pretraining setting runs" shared "$work/pt.cfg" pt
check "... and pretrains anew" grep -q "pretrained" "$work/pt.log"

# 3b. a malformed blocking variable is refused up front: one line naming it, exit 2, no output
W2SWEEP_BLOCK=64k $(w2_mpi 1) "$w2" run "$src/tests/sweeps/tiny.cfg" --output "$work/badenv.h5" \
  --cache "$work/cache-badenv" >"$work/badenv.out" 2>"$work/badenv.err"
rc=$?
check "W2SWEEP_BLOCK=64k: exit 2 (got $rc), one error line naming it, nothing written" sh -c \
  "[ $rc -eq 2 ] && [ \$(grep -c '^w2sweep: error: environment variable W2SWEEP_BLOCK=.64k.' \
  '$work/badenv.err') -eq 1 ] && [ \$(grep -c 'w2sweep: error' '$work/badenv.err') -eq 1 ] && \
  [ ! -e '$work/badenv.h5' ] && [ ! -e '$work/badenv.h5.parts' ] && [ ! -e '$work/cache-badenv' ]"

# 4. a size that exceeds the per-rank memory limit runs on a rank group (2x2 ScaLAPACK grid,
# 4x4 blocks so that every matrix really is spread over the four ranks)
sed -e 's/^eval_points = 4;/eval_points = 4;\nrunner = { rank_memory_gb = 0.00002; };/' \
  "$src/tests/sweeps/tiny.cfg" >"$work/groups.cfg"
check "the planner puts t24 on 4-rank groups" sh -c "'$w2' plan '$work/groups.cfg' -n 4 --jobs | grep -q 'pretrain/t24/s0 .*ranks 4'"
check "a sweep with rank groups completes" sh -c "W2SWEEP_BLOCK=4 $(w2_mpi 4) '$w2' run \
  '$work/groups.cfg' --output '$work/groups.h5' --cache '$work/cache-groups' --quiet | grep -q '48 of 48 cells'"
check "1-rank sweep of the same config" sh -c "$(w2_mpi 1) '$w2' run '$src/tests/sweeps/tiny.cfg' \
  --output '$work/tiny1.h5' --cache '$work/cache-tiny1' --quiet"
check "group results agree with 1-rank results (accuracies within 1 point)" /usr/bin/python3 -c "
import h5py, numpy as np
k = lambda r: (r['task'], r['seed'], r['weak_size'], r['strong_size'], r['method'])
a = sorted(h5py.File('$work/groups.h5')['summary'][()], key=k)
b = sorted(h5py.File('$work/tiny1.h5')['summary'][()], key=k)
assert len(a) == len(b) == 48
for f in ('ceiling_acc', 'student_acc', 'student_best_acc'):
    d = max(abs(x[f] - y[f]) for x, y in zip(a, b))
    assert d <= 0.01, (f, d)
"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
