#!/bin/bash
# test_registry.sh — a method is one file (issue 13): the test-only kind `test_hard`
# (src/methods/test_hard.c, registered only in the test build) goes through check, plan,
# run, export and the figures with no other edit; and the figures pick methods by kind, so
# a conf named conf_a05 still draws Fig. 5 and a naive named base Fig. 3.
. "$(dirname "$0")/testlib.sh" registry
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
src=${W2SWEEP_SOURCE_DIR:-$(dirname "$0")/..}
cat >"$T/s.cfg" <<CFG
name = "registry";
seeds = [0, 1];
world = { seed = 3; latent_dim = 4; input_dim = 12; render_depth = 2; pretrain_targets = 24; };
data = { n_a = 150; n_b = 150; n_test = 200; };
tasks = ( "linear" );
sizes = ( { name = "t4"; width = 4; depth = 1; }, { name = "t24"; width = 24; depth = 2; } );
weak = ["t4"];
strong = ["t24"];
methods = ( { name = "base"; kind = "naive"; }, { name = "conf_a05"; kind = "conf"; alpha_max = 0.5; },
            { name = "hard"; kind = "test_hard"; threshold = 0.6; } );
pretrain = { epochs = 2.0; batch = 32; examples_per_param = 1.0; min_examples = 512; max_examples = 2048; };
finetune = { epochs = 2.0; batch = 16; };
eval_points = 3;
CFG
"$W2" check -v "$T/s.cfg" >"$T/check.log" 2>&1
if grep -qE "is not a method kind|unknown key 'threshold'" "$T/check.log"; then
  echo "SKIP: this build has no test-only methods (W2SWEEP_TEST_METHODS=OFF)"
  exit 77
fi
check "check accepts the test-only kind" grep -q "hard: test_hard, threshold 0.6" "$T/check.log"
sed 's/threshold = 0.6/threshold = 1.5/' "$T/s.cfg" >"$T/bad.cfg"
check "its setting is range-checked at its line" sh -c '"$0" check "$1" 2>&1 | grep -q "bad.cfg:10: methods\[2\].threshold must be in (0, 1) (got 1.5)"' "$W2" "$T/bad.cfg"
check "plan counts its cells" sh -c '"$0" plan "$1" | grep -q "cells  *6 "' "$W2" "$T/s.cfg"
check "run" "$W2" run "$T/s.cfg" --output "$T/r.h5" --cache "$T/cache" --quiet
check "its rows say what produced them" $PY -c '
import h5py, json, sys
s = h5py.File(sys.argv[1], "r")["summary"][:]
h = s[s["method"] == b"hard"]
assert len(h) == 2 and all(h["method_kind"] == b"test_hard") and all(h["m_threshold"] == 0.6)
assert json.loads(h["method_settings"][0].decode()) == {"kind": "test_hard", "unsup": 0, "threshold": 0.6}
c = s[s["method"] == b"conf_a05"]
assert all(c["method_kind"] == b"conf") and all(c["m_alpha_max"] == 0.5)
' "$T/r.h5"
check "export has its rows and kind" sh -c '"$0" export "$1" --csv | grep -c ",hard,.*test_hard" | grep -qx 2' "$W2" "$T/r.h5"
check "figures: Fig. 3 of the test method" $PY "$src/analysis/plots.py" "$T/r.h5" --out "$T/fig" --method hard
check "... drawn" test -s "$T/fig/fig3_linear.png"
check "figures by kind: conf_a05 draws Fig. 5 against the naive named base" test -s "$T/fig/fig5_linear.png"
finish
