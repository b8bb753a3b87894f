#!/usr/bin/env bash
# test_text_sweep.sh — the transformer family in the sweep runner (src/texttask.h,
# src/xfmodel.h) on tests/sweeps/text_tiny.cfg.
#   test_text_sweep.sh check   `check` refuses what a text sweep cannot run, each at its line
#                              (no WordNet needed: these are refused before it is read)
#   test_text_sweep.sh run     needs Debian's wordnet-base (skips without it): the whole
#                              pipeline on 2 ranks (results: /summary with PGR and its status,
#                              /curves, /health, /sizes priced as transformers), a size
#                              trained by a 2-rank group agrees, a changed class recomputes
#                              only its task's artifacts, a kill -9 mid-run then the same
#                              command gives bitwise the same results, and a too-small split
#                              is refused by `check` at the task's line; the dictionary corpus
#                              and the gloss input run, the corpus keys the pretraining; the
#                              sweep edited to ask checks (e) and (f) reuses every cell and
#                              fails them (f: its controls, trained from initialisation).
# Needs $W2SWEEP (the binary) and $MPIEXEC; prints "N passed, M failed".
set -u
src=${W2SWEEP_SOURCE_DIR:?}
mode=${1:?check or run}
. "$(dirname "$0")/mpilaunch.sh"
. "$(dirname "$0")/testlib.sh" text # W2, T, check, finish
w2=$W2
work=$T
cfg0="$src/tests/sweeps/text_tiny.cfg"
# refused NAME 'sed expression' LINE 'message part': check fails with exit 2 and one error
# line (warnings aside) "FILE:LINE: ...message part..."
refused() {
  local name=$1 expr=$2 line=$3 msg=$4
  sed -e "$expr" "$cfg0" >"$work/$name.cfg"
  check "check refuses $name at line $line" sh -c "
    '$w2' check '$work/$name.cfg' >'$work/$name.out' 2>'$work/$name.err'; rc=\$?
    [ \$rc -eq 2 ] && [ \$(grep -vc ': warning: ' '$work/$name.err') -eq 1 ] &&
    grep -q '^$work/$name.cfg:$line: .*$msg' '$work/$name.err'" || cat "$work/$name.err"
}
line_of() { grep -n "$1" "$cfg0" | head -1 | cut -d: -f1; }

if [ "$mode" = check ]; then
  lm=$(line_of '^methods = ')
  refused kl 's/"lp_weak" );/"lp_weak", "kl" );/' "$lm" "kind kl trains with a loss of its own"
  refused unsup 's/"lp_weak" );/"lp_weak", { name = "u"; kind = "naive"; unsup = true; } );/' "$lm" \
    "unsup = true (generative finetuning) needs world tasks"
  lx=$(line_of 'name = "x12"')
  refused mixed 's/{ name = "x12"; family = "transformer"; width = 12; depth = 1; heads = 2; ctx = 16; }/{ name = "x12"; width = 12; }/' \
    "$lx" "a sweep trains one model family"
  lt=$(line_of 'name = "plant"')
  refused worldtask 's/{ name = "plant";  kind = "text"; class = "plant"; }/"linear"/' "$lt" \
    "is not a text task; transformer sizes run text tasks"
  refused noclass 's/kind = "text"; class = "plant"; }/kind = "text"; }/' "$lt" \
    'has kind = "text" but no class'
  refused badclass 's/class = "plant"/class = "plants"/' "$lt" 'class must be one of'
  refused heads 's/width = 12; depth = 1; heads = 2;/width = 12; depth = 1; heads = 5;/' "$lx" \
    "heads = 5 does not divide width 12"
  refused noctx 's/heads = 2; ctx = 16; },$/heads = 2; },/' "$(line_of 'name = "x8"')" \
    "is a transformer: give heads = N and ctx = N"
  lf=$(line_of '^finetune = ')
  refused anchor 's/head_init = "probe"; };/head_init = "probe"; anchor_decay = 0.1; };/' "$lf" \
    "finetune.anchor_decay: the transformer family does not implement it"
  refused glossctx 's/class = "animal"; input = "word"; }/class = "animal"; input = "gloss"; }/' \
    "$(line_of 'name = "x8"')" 'has ctx = 16, but tasks\[0\] (.animal.) reads input = "gloss" (32 bytes): use ctx >= 32'
  refused badinput 's/input = "word"/input = "words"/' "$(line_of 'name = "animal"')" \
    'tasks\[0\].input must be one of word, gloss (got "words"; did you mean "word"?)'
  refused badcorpus 's|text = { max_per_class = 300; };|text = { max_per_class = 300; corpus = "dict"; };|' \
    "$(line_of '^text = ')" 'text.corpus must be one of wordnet, dictionary (got "dict")'
  refused nowordnet 's|text = { max_per_class = 300; };|text = { max_per_class = 300; wordnet = "/nonexistent"; };|' \
    "$(line_of '^text = ')" "no readable data.noun"
  # an MLP sweep may not name a text task, nor give an MLP size transformer keys
  printf 'sizes = ( { name = "a"; width = 4; }, { name = "b"; width = 8; ctx = 16; } );\nweak = ["a"];\nstrong = ["b"];\n' >"$work/mlpctx.cfg"
  check "ctx on an mlp size is refused at its line" sh -c "'$w2' check '$work/mlpctx.cfg' 2>&1 |
    grep -q '^$work/mlpctx.cfg:1: .*ctx applies only to family = \"transformer\"'"
  printf 'tasks = ( { name = "t"; kind = "text"; class = "food"; } );\nsizes = ( { name = "a"; width = 4; }, { name = "b"; width = 8; } );\nweak = ["a"];\nstrong = ["b"];\n' >"$work/mlptext.cfg"
  check "a text task with mlp sizes is refused at the task's line" sh -c "'$w2' check '$work/mlptext.cfg' 2>&1 |
    grep -q '^$work/mlptext.cfg:1: .*is a text task, which needs transformer sizes'"
  # plan prices a transformer sweep with the transformer family's time model by default
  # (src/throughput.h; bench/throughput_text.cfg), and says so when given an MLP one. The
  # sweep's words are drawn as `check` draws them: a stand-in database of 600 made-up nouns
  # in each of the five task classes (animal 05, plant 20, artifact 06, food 13, person 18) does.
  mkdir -p "$work/wn"
  awk 'BEGIN { n = 0; split("05 20 06 13 18", lex, " ");
    for (c = 1; c <= 5; c++) for (i = 0; i < 600; i++) {
      w = ""; x = n++; for (k = 0; k < 4; k++) { w = w sprintf("%c", 97 + x % 26); x = int(x / 26) }
      printf "%08d %s n 01 %s 0 000 | a made-up noun\n", n, lex[c], w } }' >"$work/wn/data.noun"
  for f in data.verb data.adj data.adv; do : >"$work/wn/$f"; done
  sed -e "s|text = { max_per_class = 300; };|text = { max_per_class = 0; wordnet = \"$work/wn\"; };|" \
    "$cfg0" >"$work/plan.cfg"
  check "plan of a text sweep reads bench/throughput_text.cfg (family transformer)" sh -c "
    env -u W2SWEEP_THROUGHPUT '$w2' plan '$work/plan.cfg' -n 2 --cold >'$work/plan.out' &&
    grep -q 'time model: .*throughput_text.cfg' '$work/plan.out' && ! grep -q WARNING '$work/plan.out'" ||
    cat "$work/plan.out"
  check "plan of a text sweep with the MLP model warns on its time-model line" sh -c "
    '$w2' plan '$work/plan.cfg' -n 2 --cold --throughput '$src/bench/throughput.cfg' >'$work/plan2.out' &&
    grep -q 'time model: .*WARNING: fitted on MLP jobs, this sweep trains transformers' '$work/plan2.out'" ||
    cat "$work/plan2.out"
  echo "$pass passed, $fail failed"
  [ $fail -eq 0 ]
  exit
fi

if [ ! -r /usr/share/wordnet/data.noun ]; then
  echo "SKIP: /usr/share/wordnet absent (bash .ci/deps.sh --test installs wordnet-base)"
  exit 77
fi
if ! /usr/bin/python3 -c "import h5py" 2>/dev/null; then
  echo "SKIP: /usr/bin/python3 has no h5py (needed to read the results)"
  exit 77
fi
cfg="$work/text_tiny.cfg"
cp "$cfg0" "$cfg"
run() { # run NP NAME: the sweep into $work/NAME.h5 with its own cache
  $(w2_mpi "$1") "$w2" run "$cfg" --output "$work/$2.h5" --cache "$work/cache-$2" --quiet
}
cmp_results() { /usr/bin/python3 "$src/tests/compare_results.py" "$1" "$2"; }
check "text_tiny.cfg is valid" "$w2" check "$cfg"
check "run on 2 ranks" run 2 np2
check "results: 20 cells, PGR, curves, health, sizes of transformers" /usr/bin/python3 - "$work/np2.h5" <<'EOF'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
s = f["summary"][:]
assert len(s) == 20, len(s)
tasks = sorted(set(s["task"]))
assert tasks == [b"animal", b"plant"], tasks
assert set(s["method"]) >= {b"naive", b"conf", b"lp_weak"}, set(s["method"])
for col in ("weak_acc", "ceiling_acc", "student_acc"):
    v = s[col]
    assert np.all((v >= 0) & (v <= 1)), (col, v)
# PGR is a number where the gap is defined and NaN with its reason where it is not
pgr, st = s["pgr"], s["pgr_status"]
assert np.all(np.isfinite(pgr) == (st == b"")), (pgr, st)
# every cell has a curve; lp_weak's is one point, finetuned students' eval_points = 4
c = f["curves"][:]
for r in s:
    k = (c["task"] == r["task"]) & (c["weak_size"] == r["weak_size"]) & \
        (c["strong_size"] == r["strong_size"]) & (c["method"] == r["method"])
    want = 1 if r["method"] == b"lp_weak" else 4
    assert k.sum() == want, (r["task"], r["weak_size"], r["strong_size"], r["method"], k.sum())
h = f["health"][:]
assert len(h) > 0
# (e): the ceiling's rise from x12 to x16, reported (no min_ceiling_rise), from the ceilings
e = h[h["check"] == b"e_ceiling_rise"]
assert sorted(e["task"]) == [b"animal", b"plant"], e
for r in e:
    assert r["supervisor"] == b"x12" and r["method"] == b"x16" and r["pass"] == -1, r
    ceil = {z: s[(s["task"] == r["task"]) & (s["strong_size"] == z)]["ceiling_acc"][0]
            for z in (b"x12", b"x16")}
    assert abs(r["mean"] - 100 * (ceil[b"x16"] - ceil[b"x12"])) < 1e-9, (r, ceil)
z = {r["name"]: r for r in f["sizes"][:]}
# a transformer's parameters: 256 C + ctx C + L (12 C^2 + 13 C) + 3 C + 1
for name, C in ((b"x8", 8), (b"x12", 12), (b"x16", 16)):
    want = 256 * C + 16 * C + (12 * C * C + 13 * C) + 3 * C + 1
    assert z[name]["params"] == want, (name, z[name]["params"], want)
    assert z[name]["family"] == b"transformer" and z[name]["heads"] == 2 and z[name]["ctx"] == 16, z[name]
    assert z[name]["pretrain_flops"] > 0
assert z[b"x8"]["pretrain_flops"] < z[b"x16"]["pretrain_flops"]
# the students of x16 start from a model that knows more than chance about bytes: the
# ceiling is a trained classifier, not a constant
assert np.all(s["ceiling_acc"] > 0.3), s["ceiling_acc"]
print("ok")
EOF
check "the corpus was built once in the cache" sh -c "ls '$work/cache-np2/text/' | grep -q '^wordnet-[0-9a-f]*\.txt\$'"
# the same sweep edited to ask a 100-point rise of its ceilings (checks.min_ceiling_rise):
# run again on its results reuses every cell and only the verdict changes, to a failure
cp "$work/np2.h5" "$work/np2_before.h5"
# edited NAME 'CHECKS KEYS': text_tiny.cfg with those keys added to `checks`, run on 2 ranks
# into np2.h5 (the sweep's own results and cache), log in NAME.log
edited() {
  sed -e "s/^checks = { noise = \[0.2\]; };/checks = { noise = [0.2]; $2 };/" "$cfg0" >"$work/$1.cfg" &&
    $(w2_mpi 2) "$w2" run "$work/$1.cfg" --output "$work/np2.h5" --cache "$work/cache-np2" \
      >"$work/$1.log" 2>&1
}
edited rise 'min_ceiling_rise = 100;'
rc=$?
check "a sweep edited to ask min_ceiling_rise = 100 fails (e), reusing every cell" sh -c "
  [ $rc -eq 0 ] && grep -q 'WARNING: known-answer checks (a)/(b)/(e) FAILED' '$work/rise.log' &&
  /usr/bin/python3 -c \"
import h5py, sys
f = h5py.File('$work/np2.h5', 'r'); h = f['health'][:]
e = h[h['check'] == b'e_ceiling_rise']
sys.exit(not (int(f['health'].attrs['passed']) == 0 and len(e) == 2 and
              all(r['pass'] == 0 and r['ref'] == 100 for r in e)))\" &&
  /usr/bin/python3 '$src/tests/compare_results.py' '$work/np2_before.h5' '$work/np2.h5'" ||
  tail -20 "$work/rise.log"
check "plots.py flags every figure of it and names the failed check (e)" sh -c "
  /usr/bin/python3 '$src/analysis/plots.py' '$work/np2.h5' --out '$work/rise_fig' >'$work/rise_fig.log' 2>&1 &&
  grep -q 'known-answer checks .*(e) failed (/health): every figure is flagged' '$work/rise_fig.log'" ||
  tail -5 "$work/rise_fig.log"

# check (f) on the same results: the text family's control (x16 trained from its
# initialisation, one job per task and seed, no pretraining) is computed, every cell is
# reused, /models gets the controls as ceiling_init, the f row is ceiling - control, and a
# 100-point bar fails it
edited gain 'min_ceiling_rise = 100; min_pretrain_gain = 100;'
rc=$?
check "edited again to ask min_pretrain_gain = 100: controls from init, (f) fails, cells reused" sh -c "
  [ $rc -eq 0 ] && grep -q '^cells: 0 computed, 20 reused' '$work/gain.log' &&
  grep -q 'ceiling  x16 .* from init' '$work/gain.log' &&
  grep -q 'WARNING: known-answer checks (a)/(b)/(e)/(f) FAILED' '$work/gain.log' &&
  /usr/bin/python3 -c \"
import h5py, sys
f = h5py.File('$work/np2.h5', 'r'); h, m = f['health'][:], f['models'][:]
init = m[m['role'] == b'ceiling_init']
pre = {r['task']: r['test_acc'] for r in m[(m['role'] == b'ceiling') & (m['size'] == b'x16')]}
r = h[h['check'] == b'f_pretrain_gain']
ok = (len(init) == 2 and all(init['size'] == b'x16') and len(r) == 2 and
      all(x['pass'] == 0 and x['ref'] == 100 and x['supervisor'] == b'init' and x['method'] == b'x16'
          and abs(x['mean'] - 100 * (pre[x['task']] - init[init['task'] == x['task']]['test_acc'][0])) < 1e-9
          for x in r) and int(f['health'].attrs['passed']) == 0)
sys.exit(not ok)\"" || tail -20 "$work/gain.log"
cp "$work/np2_before.h5" "$work/np2.h5" # the results without the controls, for what follows

# a rank group: x16 trained by 2 ranks together (a 1x2 ScaLAPACK grid); the transformer's
# results equal the single rank's to rounding (transformer.h), so the accuracies agree
sed -e 's/heads = 2; ctx = 16; }$/heads = 2; ctx = 16; ranks = 2; }/' "$cfg" >"$work/group.cfg"
check "x16 on a rank group" sh -c "grep -q 'ranks = 2' '$work/group.cfg' && $(w2_mpi 2) '$w2' run \
  '$work/group.cfg' --output '$work/group.h5' --cache '$work/cache-group' --quiet"
check "... gives the single rank's accuracies" /usr/bin/python3 - "$work/np2.h5" "$work/group.h5" <<'EOF'
import sys, h5py, numpy as np
k = lambda r: (r["task"], r["weak_size"], r["strong_size"], r["method"])
a, b = (sorted(h5py.File(f, "r")["summary"][:], key=k) for f in sys.argv[1:3])
assert len(a) == len(b) == 20
for x, y in zip(a, b):
    assert k(x) == k(y)
    for c in ("weak_acc", "ceiling_acc", "student_acc"):
        assert abs(x[c] - y[c]) <= 0.02, (k(x), c, x[c], y[c])
print("ok")
EOF

# the artifact cache: another class under the same task name recomputes that task's
# supervisors and ceilings and reuses the pretrained models (they do not depend on tasks).
# ("person": at max_per_class = 300, food's test split has 49 words outside the class, one
# short of a balanced 50 / 50, which `check` refuses.)
sed -e 's/class = "plant"; }/class = "person"; }/' "$cfg" >"$work/food.cfg"
check "a changed class runs on the same cache" sh -c "$(w2_mpi 2) '$w2' run '$work/food.cfg' \
  --output '$work/food.h5' --cache '$work/cache-np2' >'$work/food.log' 2>&1"
check "... pretrains nothing" sh -c "! grep -q 'pretrained' '$work/food.log'"
check "... recomputes the changed task's ceilings" grep -q "  ceiling .* plant " "$work/food.log"
check "... and reuses the other task's" sh -c "! grep -q '  ceiling .* animal ' '$work/food.log'"

# the dictionary corpus and the gloss input (texttask.h): new pretraining artifacts (their
# key covers the corpus) on the same cache, rows that are glosses, a complete sweep
sed -e 's/ctx = 16; }/ctx = 32; }/; s/input = "word"; }/input = "gloss"; }/' \
  -e 's/text = { max_per_class = 300; };/text = { max_per_class = 300; corpus = "dictionary"; };/' \
  "$cfg" >"$work/dict.cfg"
check "dictionary corpus + gloss input runs on the same cache" sh -c "grep -q 'corpus = \"dictionary\"' \
  '$work/dict.cfg' && grep -q 'input = \"gloss\"' '$work/dict.cfg' && $(w2_mpi 2) '$w2' run \
  '$work/dict.cfg' --output '$work/dict.h5' --cache '$work/cache-np2' >'$work/dict.log' 2>&1"
check "... pretrains every size anew" sh -c "[ \$(grep -c 'pretrained' '$work/dict.log') -eq 3 ]"
check "... and gives 20 cells with ceilings that learned" /usr/bin/python3 - "$work/dict.h5" <<'EOF'
import sys, h5py, numpy as np
s = h5py.File(sys.argv[1], "r")["summary"][:]
assert len(s) == 20 and np.all(s["ceiling_acc"] > 0.3), (len(s), s["ceiling_acc"])
print("ok")
EOF
sed -e 's/text = { max_per_class = 300; };/text = { max_per_class = 300; corpus = "dictionary"; };/' \
  "$cfg" >"$work/dictword.cfg"
check "the dictionary with the word input runs on the same cache" sh -c "$(w2_mpi 2) '$w2' run \
  '$work/dictword.cfg' --output '$work/dictword.h5' --cache '$work/cache-np2' >'$work/dictword.log' 2>&1"
check "... the corpus is in the pretraining key: its 3 sizes (as np2's) pretrained anew" sh -c \
  "[ \$(grep -c 'pretrained' '$work/dictword.log') -eq 3 ]"

# kill -9 of the whole job once some cells are done, then the same command
name=killed
set -m
$(w2_mpi 2) "$w2" run "$cfg" --output "$work/$name.h5" --cache "$work/cache-$name" --quiet \
  >"$work/$name.log" 2>&1 &
pid=$!
set +m
t=0
while kill -0 $pid 2>/dev/null && [ $t -lt 6000 ]; do
  c=$(ls "$work/$name.h5.parts/cells" 2>/dev/null | grep -vc tmp)
  [ "${c:-0}" -ge 4 ] && break
  sleep 0.01
  t=$((t + 1))
done
kill -9 -- -$pid 2>/dev/null
wait $pid 2>/dev/null
done_before=$(ls "$work/$name.h5.parts/cells" 2>/dev/null | grep -vc tmp)
echo "killed after ${done_before:-0} of 20 cells"
check "killed run left a partial sweep (the kill landed mid-run)" sh -c "[ ${done_before:-0} -ge 1 ] && [ ${done_before:-0} -lt 20 ]"
check "resumed run succeeds" run 2 "$name"
check "resumed == uninterrupted" cmp_results "$work/np2.h5" "$work/$name.h5"

# too few words for a split: refused by check at the task's line, before any work
sed -e 's/text = { max_per_class = 300; };/text = { max_per_class = 150; };/' "$cfg0" >"$work/few.cfg"
lt=$(grep -n 'name = "animal"' "$cfg0" | cut -d: -f1)
check "check refuses a split with too few words at the task's line" sh -c "
  ! '$w2' check '$work/few.cfg' >/dev/null 2>'$work/few.err' &&
  grep -q '^$work/few.cfg:$lt: tasks\[0\] (.animal.): .*split A (data.n_a) needs 80 words .*in the class' '$work/few.err'" || cat "$work/few.err"
finish
