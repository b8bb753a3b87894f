#!/usr/bin/env bash
# test_userdata.sh — file tasks end to end (data/FORMAT.md), tiny and fast:
#   1. files of 1, 16, 57 and 784 columns load, pretrain (masked reconstruction on the rows
#      outside the test pool) and train: each ceiling beats its shuffled-label control by
#      12 points, the 57-column ceiling beats the majority class; a file and its control
#      share X, so they share their pretrained models (content keys, not file names);
#   2. /pretrain is used: adding /pretrain/X, then /pretrain/Y, gives new pretrained models
#      (new cache keys, reconstruction head of d outputs, then K target outputs) and new
#      results;
#   3. `check` and `run` report a file with too few rows at its task's line, exit 2, and
#      write nothing;
#   4. flipping a file task's labels and rerunning recomputes its cells: the results equal
#      a fresh run's on the flipped file (issue 14, item 2).
# Needs $W2SWEEP and /usr/bin/python3 with h5py (else exit 77); prints "N passed, M failed".
set -u
src=${W2SWEEP_SOURCE_DIR:?}
w2=${W2SWEEP:?}
py=/usr/bin/python3
if ! $py -c "import h5py" 2>/dev/null; then
  echo "SKIP: /usr/bin/python3 has no h5py"
  exit 77
fi
work=$(mktemp -d /tmp/w2test-userdata.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
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
sweep() { # sweep NAME TASKS: a tiny sweep file NAME.cfg over the given task list
  cat >"$1.cfg" <<CFG
name = "$1";
seeds = [0];
data = { n_a = 80; n_b = 120; n_test = 120; };
tasks = (
$2
);
sizes = ( { name = "w4"; width = 4; depth = 1; }, { name = "w16"; width = 16; depth = 1; } );
weak = ["w4"];
strong = ["w16"];
methods = ( "naive" );
pretrain = { epochs = 1.0; batch = 32; examples_per_param = 0.1; min_examples = 256; max_examples = 512; };
finetune = { epochs = 10.0; batch = 16; lr = 0.01; };
eval_points = 2;
output = "out/$1.h5";
cache = "cache";
CFG
}
csv() { "$w2" export "$1" --csv; }

# ---- 1. four widths against shuffled-label controls -------------------------------------
$py "$src/tests/make_userdata.py" . || exit 1
tasks=""
for d in 1 16 57 784; do
  tasks="$tasks{ name = \"d$d\"; kind = \"file\"; file = \"d$d.h5\"; },
{ name = \"ctrl$d\"; kind = \"file\"; file = \"ctrl$d.h5\"; },
"
done
sweep widths "${tasks%,
}"
check "check accepts the four widths" "$w2" check widths.cfg
check "plan: one pretraining job per (size, seed, distinct data)" sh -c \
  "'$w2' plan widths.cfg --jobs --rate 1e9 | grep -c '^  pretrain/' | grep -qx 8"
check "pretraining jobs are named after the first task of each data" sh -c \
  "'$w2' plan widths.cfg --jobs --rate 1e9 | grep -q '^  pretrain/w16/s0/d784 ' &&
   ! '$w2' plan widths.cfg --jobs --rate 1e9 | grep -q '^  pretrain/.*ctrl'"
check "run the four widths" "$w2" run widths.cfg --quiet
check "ceilings beat the shuffled-label controls" $py - <<PY
import csv, subprocess
rows = {r["task"]: r for r in csv.DictReader(subprocess.run(["$w2", "export", "out/widths.h5",
        "--csv"], capture_output=True, text=True, check=True).stdout.splitlines())}
for d in (1, 16, 57, 784):
    real, ctrl = float(rows["d%d" % d]["ceiling_acc"]), float(rows["ctrl%d" % d]["ceiling_acc"])
    print(d, real, ctrl)
    assert real >= ctrl + 0.12, (d, real, ctrl)
import h5py
y = h5py.File("d57.h5", "r")["y"][:]
major = max(y.mean(), 1 - y.mean())
assert float(rows["d57"]["ceiling_acc"]) > major, (rows["d57"]["ceiling_acc"], major)
PY
check "a file and its control share pretrained models: 2 sizes x 4 inputs" sh -c \
  "ls cache/pretrained/*.h5 | wc -l | grep -qx 8"
check "pretrained models have the file's width" $py - <<'PY'
import glob, h5py
dims = sorted(int(h5py.File(p, "r").attrs["d_in"]) for p in glob.glob("cache/pretrained/*.h5"))
assert dims == [1, 1, 16, 16, 57, 57, 784, 784], dims
for p in glob.glob("cache/pretrained/*.h5"):
    a = h5py.File(p, "r").attrs
    assert a["d_out"] == a["d_in"], (p, a["d_out"])   # masked reconstruction head
PY

# ---- 2. /pretrain is used and keyed by its content ---------------------------------------
cp d16.h5 p16.h5
sweep pre '{ name = "p16"; kind = "file"; file = "p16.h5"; }'
npre() { ls cache/pretrained/*.h5 | wc -l; }
n0=$(npre)
check "run on p16 (same X as d16: pretrained models reused)" "$w2" run pre.cfg --quiet
check "no new pretrained model for a copy of d16" test "$(npre)" -eq "$n0"
cp out/pre.h5 pre_none.h5
$py - <<'PY'
import h5py, numpy as np
rng = np.random.default_rng(5)
with h5py.File("p16.h5", "a") as f:
    f["pretrain/X"] = rng.normal(size=(300, 16)).astype(np.float32)
PY
check "run with /pretrain/X" "$w2" run pre.cfg --quiet
check "/pretrain/X: 2 new pretrained models" test "$(npre)" -eq $((n0 + 2))
cp out/pre.h5 pre_x.h5
check "/pretrain/X changes the results" sh -c "! $py '$src/tests/compare_results.py' pre_none.h5 pre_x.h5"
$py - <<'PY'
import h5py, numpy as np
with h5py.File("p16.h5", "a") as f:
    X = f["pretrain/X"][:]
    f["pretrain/Y"] = (X[:, :3] > 0).astype(np.float32)
PY
check "run with /pretrain/Y" "$w2" run pre.cfg --quiet
check "/pretrain/Y: 2 more pretrained models" test "$(npre)" -eq $((n0 + 4))
check "/pretrain/Y: models predict its 3 columns" $py - <<'PY'
import glob, h5py
outs = sorted(int(h5py.File(p, "r").attrs["d_out"]) for p in glob.glob("cache/pretrained/*.h5"))
assert outs.count(3) == 2, outs
PY
check "/pretrain/Y changes the results" sh -c "! $py '$src/tests/compare_results.py' pre_x.h5 out/pre.h5"

# ---- 3. a short file: check and run report it at the task's line -------------------------
$py - <<'PY'
import h5py, numpy as np
with h5py.File("short.h5", "w") as f:
    f["X"] = np.zeros((100, 4), np.float32)
    f["y"] = (np.arange(100) % 2).astype(np.int8)
PY
sweep short '{ name = "d16"; kind = "file"; file = "d16.h5"; },
{ name = "short"; kind = "file"; file = "short.h5"; }'
line=$(grep -n '"short"' short.cfg | cut -d: -f1)
"$w2" check short.cfg >check.out 2>check.err
rc=$?
check "check: exit 2 for a short file" test $rc -eq 2
check "check: the error is at the task's line" grep -q \
  "^short.cfg:$line: tasks\[1\] ('short'): short.h5 has 100 labelled rows but the splits need n_a + n_b + n_test = 80 + 120 + 120 = 320" check.err
"$w2" run short.cfg >run.out 2>run.err
rc=$?
check "run: exit 2 for a short file" test $rc -eq 2
check "run: the same line" grep -q "short.cfg:$line: tasks\[1\] ('short')" run.err
check "run: nothing written" test ! -e out/short.h5 -a ! -e out/short.h5.parts

# a soft label and generative finetuning on a file task: also at the task's line
$py - <<'PY'
import h5py, numpy as np
with h5py.File("soft.h5", "w") as f:
    f["X"] = np.zeros((400, 2), np.float32)
    f["y"] = np.where(np.arange(400) == 17, 0.3, 1.0)
PY
sweep soft '{ name = "soft"; kind = "file"; file = "soft.h5"; }'
line=$(grep -n '"soft"' soft.cfg | cut -d: -f1)
"$w2" check soft.cfg >check.out 2>check.err
check "check: a soft label at the task's line" grep -q \
  "^soft.cfg:$line: tasks\[0\] ('soft'): soft.h5: /y\[17\] = 0.3.* is not a 0/1 label" check.err
sweep gen '{ name = "d16"; kind = "file"; file = "d16.h5"; }'
sed -i 's|methods = ( "naive" );|methods = ( { name = "u"; kind = "naive"; unsup = true; } );|' gen.cfg
"$w2" check gen.cfg >check.out 2>check.err
rc=$?
check "check: generative finetuning on a file task is refused" test $rc -eq 2
check "check: ... saying why" grep -q "generative finetuning needs a built-in task" check.err

# ---- 4. flipped labels: cells recomputed (issue 14, item 2) ------------------------------
cp d16.h5 flip.h5
sweep flip '{ name = "flip"; kind = "file"; file = "flip.h5"; }'
check "run on flip.h5" "$w2" run flip.cfg --quiet
cp out/flip.h5 flip_before.h5
$py - <<'PY'
import os, h5py
st = os.stat("flip.h5")
with h5py.File("flip.h5", "a") as f:
    f["y"][...] = 1 - f["y"][:]
os.utime("flip.h5", ns=(st.st_atime_ns, st.st_mtime_ns))   # same size, same mtime
PY
"$w2" run flip.cfg --quiet >rerun.out 2>&1
rc=$?
check "rerun after flipping the labels" test $rc -eq 0
check "the rerun says why it recomputes" grep -q "1 finished cells of task 'flip' will be computed again" rerun.out
cp flip.h5 fresh.h5
sweep fresh '{ name = "flip"; kind = "file"; file = "fresh.h5"; }'
sed -i 's|cache = "cache";|cache = "cache-fresh";|' fresh.cfg
check "a fresh run on the flipped file" "$w2" run fresh.cfg --quiet
check "the rerun's cells equal the fresh run's" $py "$src/tests/compare_results.py" out/flip.h5 out/fresh.h5
check "and differ from before the flip" sh -c "! $py '$src/tests/compare_results.py' flip_before.h5 out/flip.h5"
check "a third run recomputes nothing" sh -c "'$w2' run flip.cfg --quiet | grep -q '0 jobs done, 5 already done'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
