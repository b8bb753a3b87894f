#!/usr/bin/env bash
# test_checks.sh — known-answer checks, recipe selection and the saliency knob, end to end
# on tests/sweeps/saliency_tiny.cfg (a world small enough for CI):
#   1. /health holds the (a)-(d) rows; (a) the ground-truth supervisor's student has PGR
#      within 0.1 of 1 and (b) reproduces the ceiling: both pass, and /health@passed = 1;
#   2. a sabotaged student recipe (checks must fail loudly): almost no finetuning while
#      the ceiling is the ground-truth probe, so the ground-truth student misses the
#      ceiling: /health@passed = 0 and run prints the warning;
#   3. the chosen recipes are stored with every cell, never the test split's choice: every
#      cell's recipe_lr is one of the grid's values;
#   4. the ceiling is the better on validation of finetuning and the ground-truth probe,
#      and is within 0.5 points of the probe's test accuracy or above it;
#   5. raising world.saliency from 0 to 0.9 raises the naive student's margin over the
#      30 %-noise supervisor by more than 3 points;
#   6. generative finetuning (unsup) helps where task inputs are shifted (world.shift_regimes);
#   7. check (f): the "hi" sweep edited to add checks.pretrain_control and min_pretrain_gain
#      reuses every cell, trains only the two control ceilings (t48 from initialisation),
#      writes them to /models as ceiling_init, and /health's f_pretrain_gain row is the
#      mean of ceiling - ceiling_init from /models; pretraining on the world is real latent
#      knowledge, so it gives the ceiling more than 5 points in each seed and (f) passes a
#      bar of 10; a bar of 100 fails the sweep and the warning names (f), nothing recomputed.
# Needs $W2SWEEP; prints "N passed, M failed".
set -u
src=${W2SWEEP_SOURCE_DIR:?}
w2=${W2SWEEP:?}
work=$(mktemp -d /tmp/w2test-checks.XXXXXX)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "NOT OK: $*"; }
mk() { # mk NAME SALIENCY [extra sed]
  sed -e "s/SALIENCY/$2/" ${3:+-e "$3"} "$src/tests/sweeps/saliency_tiny.cfg" >"$work/$1.cfg"
  printf 'output = "%s/%s.h5";\ncache = "%s/cache";\n' "$work" "$1" "$work" >>"$work/$1.cfg"
}
mk lo 0.0
mk hi 0.9
for n in lo hi; do
  "$w2" run "$work/$n.cfg" >"$work/$n.log" 2>&1 || { bad "run $n"; tail -20 "$work/$n.log"; }
done
grep -q "known-answer checks (a) and (b) pass" "$work/hi.log" && ok || bad "run prints the checks' verdict"
read -r -d '' PY <<'EOP'
import sys, h5py, numpy as np
path, what = sys.argv[1], sys.argv[2]
with h5py.File(path) as f:
    h = f["health"][:]
    passed = int(f["health"].attrs["passed"])
    s = f["summary"][:]
dec = lambda a: np.array([x.decode() for x in a])
chk, sup, meth = dec(h["check"]), dec(h["supervisor"]), dec(h["method"])
if what == "passed":
    print(passed)
elif what == "rows":
    print(",".join(sorted(set(chk))))
elif what == "a":
    r = h[chk == "a_gt_pgr"][0]; print(r["mean"])
elif what == "margin":
    r = h[(chk == "c_margin") & (sup == "check_u30") & (meth == "naive")][0]; print(r["mean"])
elif what == "lrs":
    print(" ".join(sorted(set("%g" % x for x in s["recipe_lr"]))))
elif what == "ceiling":
    # ceiling_acc >= lp - 0.5 points, and ceiling is one of the two
    worst = np.min(s["ceiling_acc"] - s["ceiling_lp_acc"])
    is_one = np.all((s["ceiling_acc"] == s["ceiling_ft_acc"]) | (s["ceiling_acc"] == s["ceiling_lp_acc"]))
    print("%d %.4f" % (int(is_one), worst))
EOP
q() { "$py" -c "$PY" "$@"; }
[ "$(q "$work/hi.h5" passed)" = 1 ] && ok || bad "checks pass on a sound recipe"
[ "$(q "$work/hi.h5" rows)" = "a_gt_pgr,b_gt_minus_ceiling,c_margin,d_conf_minus_naive" ] && ok ||
  bad "health rows: $(q "$work/hi.h5" rows)"
a=$(q "$work/hi.h5" a)
"$py" -c "import sys; sys.exit(abs($a - 1) > 0.1)" && ok || bad "(a) PGR of the GT student $a"
[ "$(q "$work/hi.h5" lrs)" = "0.001 0.003" ] || [ "$(q "$work/hi.h5" lrs)" = "0.001" ] ||
  [ "$(q "$work/hi.h5" lrs)" = "0.003" ] && ok || bad "recipes from the grid: $(q "$work/hi.h5" lrs)"
read -r one worst <<<"$(q "$work/hi.h5" ceiling)"
[ "$one" = 1 ] && ok || bad "the ceiling is the finetuned model or the probe"
"$py" -c "import sys; sys.exit($worst < -0.005)" && ok || bad "ceiling below the GT probe by $worst"
lo=$(q "$work/lo.h5" margin)
hi=$(q "$work/hi.h5" margin)
"$py" -c "import sys; sys.exit(not ($hi - $lo > 3))" && ok ||
  bad "saliency raises the noise margin: $lo at saliency 0, $hi at 0.9"
echo "margin over a 30 % noise supervisor: saliency 0: $lo, saliency 0.9: $hi points"
# a sabotaged student recipe (almost no finetuning, random head) while the ceiling is the
# ground-truth probe: the GT student misses the ceiling, and (b) must say so
mk sab 0.9 's/^finetune = .*/finetune = { epochs = 0.01; batch = 32; lr = 1e-5; };/; s/^recipes = .*/recipes = { select = false; probe_ceiling = true; };/'
"$w2" run "$work/sab.cfg" >"$work/sab.log" 2>&1
[ "$(q "$work/sab.h5" passed)" = 0 ] && ok || bad "a broken recipe fails the checks"
grep -q "WARNING: known-answer checks" "$work/sab.log" && ok || bad "run warns when checks fail"
# 6. unsup (generative finetuning on the task's inputs) changes something measurable: with
#    half of the rendering regimes unseen in pretraining (world.shift_regimes = 8) it lifts
#    the ceiling by more than 1 point over its gain on the unshifted world
for sh in 0 8; do
  mk "sh$sh" 0.5 "s/task_dim = 2;/task_dim = 2; shift_regimes = $sh;/; s/^methods = .*/methods = ( \"naive\", { name = \"un\"; kind = \"naive\"; unsup = true; } ); unsup = { epochs = 5.0; batch = 32; lr = 1e-3; };/; s/^checks = .*//"
  "$w2" run "$work/sh$sh.cfg" >"$work/sh$sh.log" 2>&1 || { bad "run shift $sh"; tail -5 "$work/sh$sh.log"; }
done
gain() {
  "$py" -c "
import h5py
m = h5py.File('$1')['models'][:]
acc = lambda r: m[m['role'] == r]['test_acc'].mean()
print(100 * (acc(b'ceiling_unsup') - acc(b'ceiling')))"
}
g0=$(gain "$work/sh0.h5")
g8=$(gain "$work/sh8.h5")
echo "unsup's gain on the ceiling: unshifted $g0, 8 of 16 regimes unseen $g8 points"
"$py" -c "import sys; sys.exit(not ($g8 - $g0 > 1))" && ok || bad "unsup adapts to shifted inputs ($g0 vs $g8)"
# 7. check (f) on the finished "hi" sweep, edited
gainf() {
  "$py" -c "
import h5py, numpy as np
with h5py.File('$work/hi.h5') as f:
    m, h, passed = f['models'][:], f['health'][:], int(f['health'].attrs['passed'])
dec = lambda a: np.array([x.decode() for x in a])
role, size, chk = dec(m['role']), dec(m['size']), dec(h['check'])
pre = {int(r['seed']): r['test_acc'] for r in m[(role == 'ceiling') & (size == 't48')]}
init = {int(r['seed']): r['test_acc'] for r in m[(role == 'ceiling_init') & (size == 't48')]}
g = [100 * (pre[k] - init[k]) for k in sorted(init)]
r = h[chk == 'f_pretrain_gain']
print(len(init), min(g) if g else 'nan', int(len(r) == 1 and abs(r[0]['mean'] - np.mean(g)) < 1e-9),
      r[0]['pass'] if len(r) else 'none', passed)"
}
for bar in 10 100; do
  sed -i "s/^checks = .*/checks = { noise = [0.3]; pretrain_control = true; min_pretrain_gain = $bar; };/" "$work/hi.cfg"
  "$w2" run "$work/hi.cfg" >"$work/f$bar.log" 2>&1 || { bad "run (f) $bar"; tail -5 "$work/f$bar.log"; }
  read -r n lo same fpass passed <<<"$(gainf)"
  echo "check (f), bar $bar: $n controls, smallest gain $lo points, row = mean: $same, pass $fpass, sweep $passed"
  [ "$n" = 2 ] && [ "$same" = 1 ] && ok || bad "(f) row from 2 control ceilings ($n, $same)"
  if [ "$bar" = 10 ]; then
    grep -q "^cells: 0 computed, 12 reused" "$work/f10.log" && grep -q "2 jobs done" "$work/f10.log" &&
      ok || bad "adding (f) reuses every cell and trains 2 controls: $(grep -E '^(cells|finished)' "$work/f10.log")"
    "$py" -c "import sys; sys.exit(not ($lo > 5))" && [ "$fpass" = 1 ] && [ "$passed" = 1 ] && ok ||
      bad "pretraining gives t48's ceiling > 5 points per seed and passes 10 ($lo, $fpass, $passed)"
    grep -q "known-answer checks (a), (b) and (f) pass" "$work/f10.log" && ok || bad "run prints (f)'s pass"
    "$w2" check "$work/hi.cfg" | grep -q "; 2 control ceilings of t48 from initialisation (check (f))" &&
      ok || bad "check counts the control ceilings: $("$w2" check "$work/hi.cfg")"
  else
    grep -q "0 jobs done" "$work/f100.log" && [ "$fpass" = 0 ] && [ "$passed" = 0 ] &&
      grep -q "WARNING: known-answer checks (a)/(b)/(f) FAILED" "$work/f100.log" && ok ||
      bad "a bar of 100 fails (f) and the sweep without recomputing ($fpass, $passed)"
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
