#!/bin/bash
# test_extend.sh — sweeps that extend (issue 13): a finished cell is reused when ITS settings
# hash (pipeline.h w2_pipe_cell_hash) matches, whatever else changed in the sweep file.
#   a comment added                          -> 0 cells computed
#   one method and one seed added            -> exactly the new cells computed
#   conf's alpha_max changed                 -> exactly the conf cells computed again
#   the extended results == a fresh run of the final file (bitwise, compare_results.py)
#   every row says what produced it: method_kind, method_settings, m_alpha_max, config_hash
#   another sweep (another name) still cannot take the work directory
. "$(dirname "$0")/testlib.sh" extend
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cfg() { # cfg FILE SEEDS METHODS [EXTRA]
  cat >"$1" <<CFG
name = "extend";
seeds = $2;
world = { seed = 3; latent_dim = 4; input_dim = 12; render_depth = 2; pretrain_targets = 24; };
data = { n_a = 100; n_b = 100; n_test = 100; };
tasks = ( "linear" );
sizes = ( { name = "t4"; width = 4; depth = 1; }, { name = "t8"; width = 8; depth = 1; } );
weak = ["t4"];
strong = ["t8"];
methods = ( $3 );
pretrain = { epochs = 1.0; batch = 32; examples_per_param = 1.0; min_examples = 256; max_examples = 512; };
finetune = { epochs = 1.0; batch = 16; };
eval_points = 3;
$4
CFG
}
run() { "$W2" run "$1" --output "$T/r.h5" --cache "$T/cache" --quiet >"$T/run.log" 2>&1; }
computed() { grep -q "^cells: $1 computed, $2 reused$" "$T/run.log" || { cat "$T/run.log"; false; }; }

cfg "$T/s.cfg" "[0]" '"naive", { name = "conf"; alpha_max = 0.5; }'
check "first run" run "$T/s.cfg"
check "... computes its 2 cells" computed 2 0
cfg "$T/s.cfg" "[0]" '"naive", { name = "conf"; alpha_max = 0.5; }' "# a comment"
check "a comment added: the run goes on" run "$T/s.cfg"
check "... and computes 0 cells" computed 0 2
cfg "$T/s.cfg" "[0, 1]" '"naive", { name = "conf"; alpha_max = 0.5; }, "kl"'
check "one method and one seed added" run "$T/s.cfg"
check "... computes exactly the 4 new cells" computed 4 2
cfg "$T/s.cfg" "[0, 1]" '"naive", { name = "conf"; alpha_max = 0.25; }, "kl"'
check "alpha_max changed" run "$T/s.cfg"
check "... computes exactly the 2 conf cells again" computed 2 4
check "a fresh run of the final file" "$W2" run "$T/s.cfg" --output "$T/fresh.h5" --cache "$T/cache" --quiet
check "... equals the extended results bitwise" $PY "$(dirname "$0")/compare_results.py" "$T/r.h5" "$T/fresh.h5"
check "rows say what produced them" $PY -c '
import h5py, json, sys
s = h5py.File(sys.argv[1], "r")["summary"][:]
assert len(s) == 6, len(s)
for r in s:
    kind, js = r["method_kind"].decode(), json.loads(r["method_settings"].decode())
    assert js["kind"] == kind and r["config_hash"] != 0 and r["supervisor_kind"] == b"trained"
    assert r["oracle"] == 0 and r["unsup"] == 0
    if kind == "conf": assert js["alpha_max"] == 0.25 == r["m_alpha_max"], (js, r["m_alpha_max"])
    else: assert r["m_alpha_max"] != r["m_alpha_max"]  # NaN: not a setting of the kind
assert len(set(s["config_hash"])) == 6
' "$T/r.h5"
sed -i 's/^name = "extend";/name = "other";/' "$T/s.cfg"
check "another sweep cannot take the work directory" sh -c '! "$0" run "$1" --output "$2/r.h5" --cache "$2/cache" --quiet' "$W2" "$T/s.cfg" "$T"
finish
