#!/usr/bin/env bash
# test_outputs.sh — what the runner and export write is right and nothing is lost (issue 14):
#   1. 64-bit seeds: seeds = [0L, 4294967296L] give two distinct seeds in /summary, /models,
#      /grid (no NaN cell) and the CSV export, and the figures' loader reads them back;
#   2. outputs that would destroy inputs are refused, exit 2, one line, the input unchanged:
#      `output` (or --output) naming the sweep file (also as ./path or a symlink), and
#      `export -o` naming its own results file;
#   3. `export --csv > /dev/full` fails (exit 1, one line) instead of exiting 0.
# Needs $W2SWEEP and $W2SWEEP_SOURCE_DIR; exit 77 when /usr/bin/python3 has no h5py.
set -uo pipefail
SRC=${W2SWEEP_SOURCE_DIR:?}
. "$(dirname "$0")/testlib.sh" outputs
# the smallest sweep: one task, one pair, one method, two seeds (a second on one core)
sweep() { # sweep FILE SEEDS [extra line]
  cat >"$1" <<CFG
name = "outputs";
seeds = $2;
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
${3:-}
CFG
}

# ---- 1. 64-bit seeds --------------------------------------------------------------------
sweep "$T/s64.cfg" "[0L, 4294967296L]"
check "run with seeds [0, 2^32]" "$W2" run "$T/s64.cfg" --output "$T/s64.h5" --cache "$T/cache" --quiet
check "/summary, /models and /grid keep both 64-bit seeds" $PY - "$T/s64.h5" <<'PYEOF'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
want = {0, 4294967296}
got = sorted(int(x) for x in f["summary"]["seed"])
assert set(got) == want and len(got) == 2, "summary seeds %s" % got
assert {int(x) for x in f["models"]["seed"]} == want, "models seeds %s" % list(f["models"]["seed"])
assert sorted(int(x) for x in f["grid/seed"][:]) == sorted(want)
acc = f["grid/student_acc"][:]
assert acc.shape[1] == 2 and not np.isnan(acc).any(), "grid has NaN cells: %s" % acc
z = f["sizes"][:]  # an MLP ladder: family "mlp", no heads or context
assert len(z) and all(r["family"] == b"mlp" and r["heads"] == 0 and r["ctx"] == 0 for r in z), z
PYEOF
check "export --csv writes the 64-bit seed" bash -c "'$W2' export '$T/s64.h5' --csv | cut -d, -f2 | sort | tr '\n' ' ' | grep -qx '0 4294967296 seed '"
check "the figures' loader reads 64-bit seeds" $PY -c "
import sys; sys.path.insert(0, '$SRC/analysis'); import plots
s = plots.load('$T/s64.h5')[1]['seed']
assert sorted(int(x) for x in s) == [0, 4294967296], s"

# ---- 2. outputs that destroy inputs --------------------------------------------------------
refused() { # refused WHAT INPUT command...: exit 2, one line on stderr, INPUT unchanged
  local what=$1 input=$2
  shift 2
  cp "$input" "$T/before"
  "$@" >"$T/out.log" 2>"$T/err.log"
  local rc=$?
  if [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/err.log")" -eq 1 ] && grep -q "itself" "$T/err.log" &&
     cmp -s "$input" "$T/before"; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "NOT OK: $what (exit $rc)"
    head -n 3 "$T/err.log"
  fi
}
sweep "$T/self.cfg" "[0]" "output = \"$T/self.cfg\";"
refused "output = the sweep file" "$T/self.cfg" "$W2" run "$T/self.cfg" --quiet --cache "$T/cache"
refused "--output ./sweep file" "$T/self.cfg" bash -c "cd '$T' && '$W2' run self.cfg --output ./self.cfg --cache cache"
ln -s self.cfg "$T/link.h5"
refused "--output a symlink to the sweep file" "$T/self.cfg" "$W2" run "$T/self.cfg" --output "$T/link.h5" --cache "$T/cache"
refused "export -o onto its results file" "$T/s64.h5" "$W2" export "$T/s64.h5" --csv -o "$T/../$(basename "$T")/s64.h5"
check "export -o elsewhere still works" "$W2" export "$T/s64.h5" --csv -o "$T/s64.csv"

# ---- 3. a write that fails is an error ------------------------------------------------------
if [ -w /dev/full ]; then
  "$W2" export "$T/s64.h5" --csv >/dev/full 2>"$T/err.log"
  rc=$?
  if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err.log")" -eq 1 ] && grep -q "cannot write" "$T/err.log"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "NOT OK: export --csv > /dev/full exits $rc"
    cat "$T/err.log"
  fi
fi

finish
