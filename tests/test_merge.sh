#!/usr/bin/env bash
# test_merge.sh — `w2sweep merge` without Slurm: tests/sweeps/tiny.cfg run as three shards the
# way cells.sbatch runs them (`run --shard i/3 --no-assemble --output SHARDS/cells-<i>.h5`, one
# shared cache), then merged:
#   * with shard 2 missing: exit 1, the file marked complete = 0 with 2/3 of the cells, the
#     missing cells listed;
#   * with all three: exit 0, bitwise equal to a plain `w2sweep run` (compare_results.py), the
#     cells hard-linked (same inode) rather than copied; merging again changes nothing;
#   * with no cell anywhere: exit 1 and nothing written;
#   * analysis/w2sweep_results.load() on the plain run's and the merged file: the documented
#     tables, the stored intervals equal to the cells' (tests/check_reader.py), and both
#     `run` and `merge` print that table.
# Needs $W2SWEEP and $W2SWEEP_SOURCE_DIR; exit 77 when /usr/bin/python3 has no h5py.
set -uo pipefail
SRC=${W2SWEEP_SOURCE_DIR:?}
. "$(dirname "$0")/testlib.sh" merge
cfg=$SRC/tests/sweeps/tiny.cfg
attr() { $PY -c "import h5py,sys; print(int(h5py.File(sys.argv[1],'r').attrs[sys.argv[2]]))" "$1" "$2"; }

check "reference run" sh -c '"$0" run "$1" --output "$2/ref.h5" --cache "$2/cache-ref" --quiet >"$2/ref.log" 2>&1' \
  "$W2" "$cfg" "$T"
# tiny.cfg: 2 tasks x 2 seeds x 2 weak (t4, noise30) x 2 strong (t8, t24) x 3 methods = 48
# cells, 24 (task, weak, strong, method) rows, 4 evaluation points each = 192 curve rows
reader() { $PY "$SRC/tests/check_reader.py" "$1" --cells 48 --summary 24 --curves 192 --printed "$2"; }
check "load() on a plain run's results, printed by run" reader "$T/ref.h5" "$T/ref.log"
for i in 0 1; do
  check "shard $i of 3" "$W2" run "$cfg" --shard "$i/3" --no-assemble --output "$T/out.h5.shards/cells-$i.h5" \
    --cache "$T/cache" --quiet
done

# partial
"$W2" merge "$cfg" --output "$T/out.h5" --cache "$T/cache" >"$T/partial.log" 2>&1
rc=$?
check "merge with a shard missing exits 1" test $rc = 1
check "... writes the file" test -f "$T/out.h5"
check "... marked complete = 0" test "$(attr "$T/out.h5" complete)" = 0
n2=$(find "$T/out.h5.shards" -path '*/cells/*.h5' | wc -l)
check "... with the cells of two shards" test "$(attr "$T/out.h5" cells_present)" = "$n2"
check "... listing the missing cells" grep -q 'missing cell/.*in no shard' "$T/partial.log"

# complete
check "shard 2 of 3" "$W2" run "$cfg" --shard 2/3 --no-assemble --output "$T/out.h5.shards/cells-2.h5" \
  --cache "$T/cache" --quiet
check "merge of all shards exits 0" sh -c '"$0" merge "$1" --output "$2/out.h5" --cache "$2/cache" >"$2/m1.log" 2>&1' "$W2" "$cfg" "$T"
check "... says complete" grep -q 'results: .* (complete)' "$T/m1.log"
check "merged == plain run (bitwise)" $PY "$SRC/tests/compare_results.py" "$T/ref.h5" "$T/out.h5"
check "merged file marked complete" test "$(attr "$T/out.h5" complete)" = 1
check "load() on the merged results, printed by merge" reader "$T/out.h5" "$T/m1.log"
one=$(ls "$T/out.h5.shards/cells-2.h5.parts/cells" | head -n 1)
check "cells are hard links, not copies" test "$(stat -c %i "$T/out.h5.shards/cells-2.h5.parts/cells/$one")" = \
  "$(stat -c %i "$T/out.h5.parts/cells/$one")"
check "merging again succeeds" sh -c '"$0" merge "$1" --output "$2/out.h5" --cache "$2/cache" >"$2/m2.log" 2>&1' "$W2" "$cfg" "$T"
check "... bringing nothing new" grep -q '(0 from 3 shard dirs' "$T/m2.log"
check "... and the same results" $PY "$SRC/tests/compare_results.py" "$T/ref.h5" "$T/out.h5"

# nothing to merge
"$W2" merge "$cfg" --output "$T/empty/x.h5" --cache "$T/cache" >"$T/empty.log" 2>&1
rc=$?
check "merge with no cells exits 1" test $rc = 1
check "... with one error line" test "$(grep -c '^w2sweep: error: merge: no finished cell' "$T/empty.log")" = 1
check "... and writes nothing" test ! -e "$T/empty"

finish
