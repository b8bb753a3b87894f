#!/usr/bin/env bash
# test_faults.sh — faults that once lost data or failed forever (issue 14), each a regression
# test on the smallest sweeps (a second or two each):
#   6. job-file names are one to one: sizes "a", "a__b", "c", "b__c" give four cells, not three;
#   7. a truncated cell file, cache checkpoint or cached weak result is recomputed, not
#      counted as done (the old runner failed on every rerun until it was deleted by hand);
#  13. errors are printed once, from one rank, with no trailing "unknown error" (2 ranks):
#      a bad sweep file, an assembly that fails; a cell file that is not one is recomputed;
#  11. known before compute, checked before compute: a sweep file over 64 KB runs (its text is
#      a dataset, no longer an attribute), an `output` ending in '/' or naming a directory is
#      refused by `check` and by `run` (exit 2, one line, nothing computed);
#   8. a second run of the same sweep refuses with one line naming the first (its pid), and
#      a stale lock (its run gone) is taken over;
#  15. SIGTERM says how many cells were finished and that the same command resumes, dies of
#      the signal, and leaves no lock behind;
#  12. a command whose output cannot be written (> /dev/full) exits 1 with one line;
#  10. a full disk (a file-size limit: writes fail with EFBIG) is an error, exit 1, not a
#      SIGSEGV in MPI_Finalize; no temporary file is left; the same command resumes;
#  14. `check` compares each size's memory per rank with the memory a rank will have: a
#      2 TB model on ranks = 1 under rank_memory_gb = 8 cannot run (exit 2, the group it
#      needs), with ranks chosen by the planner it trains on a group (said), and with no
#      limit set it is compared with this machine's memory (a note, exit 0);
#  16. a UTF-8 byte-order mark is read past; a size named "." is refused; a 900 KB name is
#      not echoed in full; temporary files a killed writer left beside the results file and in
#      the cache are removed (a live writer's are kept);
#   3. merge never mixes sweeps: shards of an edited sweep are refused, and so is
#      `merge --output` onto another sweep's results file (both left unchanged);
# Needs $W2SWEEP, $MPIEXEC and $W2SWEEP_SOURCE_DIR; exit 77 when /usr/bin/python3 has no h5py.
set -uo pipefail
. "$(dirname "$0")/testlib.sh" faults
. "$(dirname "$0")/mpilaunch.sh"
# one_line WHAT PATTERN RC command...: exits RC with exactly one stderr line matching PATTERN
one_line() {
  local what=$1 pat=$2 want=$3
  shift 3
  "$@" >"$T/out.log" 2>"$T/err.log"
  local rc=$?
  if [ "$rc" -eq "$want" ] && [ "$(wc -l <"$T/err.log")" -eq 1 ] && grep -q -- "$pat" "$T/err.log"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "NOT OK: $what (exit $rc, want $want)"
    head -n 4 "$T/err.log"
  fi
}
# sweep FILE [sizes] [weak] [strong] [extra line]: one task, one method, one seed
T48='{ name = "t4"; width = 4; depth = 1; }, { name = "t8"; width = 8; depth = 1; }'
W4='["t4"]'
S8='["t8"]'
sweep() {
  cat >"$1" <<CFG
name = "faults";
seeds = [0];
world = { seed = 3; latent_dim = 4; input_dim = 12; render_depth = 2; pretrain_targets = 24; };
data = { n_a = 100; n_b = 100; n_test = 100; };
tasks = ( "linear" );
sizes = ( ${2:-$T48} );
weak = ${3:-$W4};
strong = ${4:-$S8};
methods = ( "naive" );
pretrain = { epochs = 1.0; batch = 32; examples_per_param = 1.0; min_examples = 256; max_examples = 512; };
finetune = { epochs = 1.0; batch = 16; };
eval_points = 2;
${5:-}
CFG
}
ncells() { $PY -c "import h5py,sys; f=h5py.File(sys.argv[1],'r'); print(len(f['summary']))" "$1"; }
run() { "$W2" run "$@" --quiet; }

# ---- 6. job-file names are one to one -------------------------------------------------------
sweep "$T/col.cfg" '{ name = "a"; width = 4; depth = 1; }, { name = "a__b"; width = 4; depth = 1; },
  { name = "c"; width = 8; depth = 1; }, { name = "b__c"; width = 8; depth = 1; }' \
  '["a", "a__b"]' '["c", "b__c"]'
check "6: sizes a, a__b, c, b__c run" run "$T/col.cfg" --output "$T/col.h5" --cache "$T/cache"
check "6: four cells, four files" test "$(ls "$T/col.h5.parts/cells" | wc -l)-$(ncells "$T/col.h5" 2>/dev/null)" = 4-4

# ---- 7. truncated files are redone, not done -------------------------------------------------
sweep "$T/tr.cfg"
check "7: first run" run "$T/tr.cfg" --output "$T/tr.h5" --cache "$T/cache"
cell=$(ls "$T"/tr.h5.parts/cells/*.h5)
truncate -s 1000 "$cell"
check "7: a truncated cell file is recomputed" run "$T/tr.cfg" --output "$T/tr.h5" --cache "$T/cache"
check "7: ... and the results are whole" test "$(ncells "$T/tr.h5" 2>/dev/null)" = 1
rm -f "$cell"
for f in "$T"/cache/pretrained/t8-*.h5 "$T"/cache/weak/*.h5; do truncate -s 2000 "$f"; done
check "7: a truncated checkpoint and weak result are recomputed" run "$T/tr.cfg" --output "$T/tr.h5" --cache "$T/cache"
check "7: ... and the results are whole" test "$(ncells "$T/tr.h5" 2>/dev/null)" = 1

# ---- 3. merge never mixes sweeps -------------------------------------------------------------
sweep "$T/m.cfg"
check "3: shard 0/2" run "$T/m.cfg" --shard 0/2 --no-assemble --output "$T/m.h5.shards/c0.h5" --cache "$T/c3"
sweep "$T/m.cfg" "" "" "" "# edited after the first shard ran"
check "3: shard 1/2 of the edited sweep" run "$T/m.cfg" --shard 1/2 --no-assemble --output "$T/m.h5.shards/c1.h5" --cache "$T/c3"
one_line "3: merge refuses a shard of another version" "shard .*c0.h5.parts was run from another version" 2 \
  "$W2" merge "$T/m.cfg" --output "$T/m.h5" --cache "$T/c3"
check "3: ... and writes nothing" test ! -e "$T/m.h5"
cp "$T/col.h5" "$T/other.h5"
one_line "3: merge --output onto another sweep's results file is refused" "holds the results of sweep" 2 \
  "$W2" merge "$T/m.cfg" --output "$T/col.h5" --cache "$T/c3"
check "3: ... which is unchanged" cmp "$T/col.h5" "$T/other.h5"
rm -rf "$T/m.h5.shards/c0.h5.parts"
check "3: shard 0/2 rerun with the edited sweep" run "$T/m.cfg" --shard 0/2 --no-assemble --output "$T/m.h5.shards/c0.h5" --cache "$T/c3"
check "3: merge of this sweep's shards still works" "$W2" merge "$T/m.cfg" --output "$T/m.h5" --cache "$T/c3"
# issue 13: another version of the same sweep goes on, reusing the cells whose own settings
# hash matches (tests/test_extend.sh counts them); only merge insists on one text
check "3: ... and a run of another version of the sweep reuses its work directory" "$W2" run "$T/tr.cfg" --output "$T/m.h5" --cache "$T/c3" --quiet

# ---- 13. one error line, from one rank --------------------------------------------------------
errlines() { grep -c "w2sweep: error" "$T/err.log"; }
printf 'name = "x";\nseeds = [0;\n' >"$T/bad.cfg"
$(w2_mpi 2) "$W2" run "$T/bad.cfg" >/dev/null 2>"$T/err.log"
check "13: a bad sweep file under 2 ranks: one error line" test "$(errlines)" = 1
check "13: ... naming the line" grep -q "bad.cfg:2: " "$T/err.log"
sweep "$T/r2.cfg"
check "13: a run on 2 ranks" $(w2_mpi 2) "$W2" run "$T/r2.cfg" --output "$T/r2.h5" --cache "$T/c13" --quiet
$PY -c "import h5py,sys; h5py.File(sys.argv[1],'w').attrs['x']=1" "$(ls "$T"/c13/weak/*.h5)"
$(w2_mpi 2) "$W2" run "$T/r2.cfg" --output "$T/r2.h5" --cache "$T/c13" --quiet >/dev/null 2>"$T/err.log"
check "13: an assembly that fails on 2 ranks: one error line" test "$(errlines)" = 1
check "13: ... and no 'unknown error'" sh -c '! grep -q "unknown error" "$0"' "$T/err.log"
cell=$(ls "$T"/r2.h5.parts/cells/*.h5)
$PY -c "import h5py,sys; h5py.File(sys.argv[1],'w').attrs['x']=1" "$cell"
rm -rf "$T/c13/weak"
check "13: a cell file that is not a cell is recomputed" $(w2_mpi 2) "$W2" run "$T/r2.cfg" --output "$T/r2.h5" --cache "$T/c13" --quiet
check "13: ... and the results are whole" test "$(ncells "$T/r2.h5" 2>/dev/null)" = 1

# ---- 11. checked before compute ----------------------------------------------------------------
sweep "$T/big.cfg"
$PY -c "
import sys
with open(sys.argv[1], 'a') as f:
    for i in range(1200): f.write('# padding line %04d: a sweep file may hold up to 1 MB of text ...\n' % i)
" "$T/big.cfg"
check "11: a sweep file over 64 KB ($(stat -c %s "$T/big.cfg") bytes) runs" run "$T/big.cfg" --output "$T/big.h5" --cache "$T/cache"
check "11: ... and its text is stored whole" $PY -c "
import h5py, sys
t = h5py.File(sys.argv[1], 'r')['provenance/config_text'][()].decode()
assert t == open(sys.argv[2]).read(), len(t)" "$T/big.h5" "$T/big.cfg"
mkdir -p "$T/adir"
sweep "$T/slash.cfg" "" "" "" "output = \"$T/adir/\";"
one_line "11: check refuses output ending in '/'" "slash.cfg:13: output .* names a directory" 2 "$W2" check "$T/slash.cfg"
one_line "11: run refuses it before computing" "names a directory" 2 "$W2" run "$T/slash.cfg" --cache "$T/c11"
check "11: ... nothing computed" test ! -e "$T/c11"
one_line "11: run --output naming a directory is refused" "--output .* is a directory" 2 \
  "$W2" run "$T/tr.cfg" --output "$T/adir" --cache "$T/c11"
check "11: ... nothing computed" test ! -e "$T/c11"

# ---- 8 and 15. a concurrent run, a stale lock, SIGTERM ----------------------------------------
sweep "$T/long.cfg"
sed -i -e 's/^seeds = \[0\];/seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];/' \
  -e 's/n_a = 100; n_b = 100;/n_a = 1000; n_b = 1000;/' -e 's/finetune = { epochs = 1.0;/finetune = { epochs = 400.0;/' "$T/long.cfg"
"$W2" run "$T/long.cfg" --output "$T/long.h5" --cache "$T/c8" --quiet >/dev/null 2>"$T/first.err" &
first=$!
for _ in $(seq 600); do # until the first run holds the lock and has finished a cell
  [ -e "$T/long.h5.lock" ] && [ -n "$(ls "$T/long.h5.parts/cells" 2>/dev/null)" ] && break
  sleep 0.05
done
one_line "8: a second run of the same sweep refuses" "in use by another run (pid $first on" 2 \
  "$W2" run "$T/long.cfg" --output "$T/long.h5" --cache "$T/c8" --quiet
kill -TERM "$first"
wait "$first"
rc=$?
check "15: SIGTERM: the run dies of it (exit $rc)" test "$rc" = 143
check "15: ... saying what was finished and that the same command resumes" \
  grep -Eq "interrupted by SIGTERM: [1-9][0-9]* of 16 cells finished.*run the same command to resume" "$T/first.err"
check "15: ... and leaves no lock" test ! -e "$T/long.h5.lock"
sh -c 'exit 0' &
dead=$!
wait $dead
echo "$dead $(hostname) 2020-01-01T00:00:00Z" >"$T/tr.h5.lock"
check "8: a stale lock (its pid gone) is taken over" run "$T/tr.cfg" --output "$T/tr.h5" --cache "$T/cache"
check "8: ... and released" test ! -e "$T/tr.h5.lock"

# ---- 12. output that cannot be written -----------------------------------------------------------
if [ -w /dev/full ]; then
  for c in "status $T/tr.h5" "plan $T/tr.cfg" "check $T/tr.cfg"; do
    one_line "12: $c > /dev/full fails" "cannot write to standard output" 1 sh -c '"$0" $1 >/dev/full' "$W2" "$c"
  done
fi

# ---- 10. a full disk ---------------------------------------------------------------------------
sweep "$T/fz.cfg"
$(w2_mpi 1) sh -c "trap '' XFSZ; ulimit -f 30; exec '$W2' run '$T/fz.cfg' --output '$T/fz.h5' --cache '$T/c10' --quiet" \
  >/dev/null 2>"$T/err.log"
rc=$?
check "10: writes that fail: exit 1 (got $rc), not a crash" test "$rc" = 1
check "10: ... saying why" grep -q "cannot write: File too large" "$T/err.log"
check "10: ... leaving no temporary file" test -z "$(find "$T/c10" "$T/fz.h5.parts" -name '*.tmp.*')"
check "10: the same command then resumes" run "$T/fz.cfg" --output "$T/fz.h5" --cache "$T/c10"
check "10: ... to whole results" test "$(ncells "$T/fz.h5" 2>/dev/null)" = 1

# ---- 14. memory per rank -------------------------------------------------------------------------
BIG='{ name = "t4"; width = 4; depth = 1; }, { name = "big"; width = 65536; depth = 32; ranks = 1; }'
sweep "$T/huge.cfg" "$BIG" "" '["big"]' "runner = { rank_memory_gb = 8.0; };"
one_line "14: a size that does not fit its ranks cannot run" "size 'big' needs .* GB per rank on 1 rank, more than runner.rank_memory_gb (8 GB): it needs a group of 512 ranks" 2 \
  "$W2" check "$T/huge.cfg"
sweep "$T/huge.cfg" "${BIG/ ranks = 1;/}" "" '["big"]' "runner = { rank_memory_gb = 8.0; };"
check "14: with ranks chosen by the planner it trains on a group" sh -c '"$0" check "$1" | grep -q "size big: .* trains on a group of 512 ranks"' "$W2" "$T/huge.cfg"
sweep "$T/huge.cfg" "$BIG" "" '["big"]'
check "14: with no limit, compared with this machine's memory" sh -c '"$0" check "$1" | grep -q "more than this machine.s memory .*needs a group of"' "$W2" "$T/huge.cfg"

# ---- 16. smaller ones ---------------------------------------------------------------------
printf '\xEF\xBB\xBF' >"$T/bom.cfg"
cat "$T/tr.cfg" >>"$T/bom.cfg"
check "16: a UTF-8 byte-order mark is read past" "$W2" check "$T/bom.cfg"
sweep "$T/dot.cfg" '{ name = "."; width = 4; depth = 1; }, { name = "t8"; width = 8; depth = 1; }' '["."]'
one_line "16: a size named '.' is refused" "dot.cfg:6: sizes\[0\].name '.' is not a usable name" 2 "$W2" check "$T/dot.cfg"
$PY -c "import sys; open(sys.argv[1], 'w').write('name = \"' + 'x' * 900000 + '\";\n')" "$T/long.cfg"
sed -n '2,$p' "$T/tr.cfg" >>"$T/long.cfg"
one_line "16: a 900 KB name is not echoed in full" "too long" 2 "$W2" check "$T/long.cfg"
check "16: ... the line is short" test "$(wc -c <"$T/err.log")" -lt 200
h=$(hostname | tr './' '__')
sh -c 'exit 0' &
dead=$!
wait $dead
for f in "$T/tr.h5.tmp.$h.$dead" "$T/cache/weak/x.h5.tmp.$h.$dead" "$T/cache/weak/y.h5.tmp.$h.$$"; do : >"$f"; done
check "16: a rerun" run "$T/tr.cfg" --output "$T/tr.h5" --cache "$T/cache"
check "16: ... removes dead writers' temporary files" test ! -e "$T/tr.h5.tmp.$h.$dead" -a ! -e "$T/cache/weak/x.h5.tmp.$h.$dead"
check "16: ... and keeps a live writer's" test -e "$T/cache/weak/y.h5.tmp.$h.$$"

finish
