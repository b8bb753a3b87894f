#!/usr/bin/env bash
# test_readers.sh — hostile input files, each a regression test (issue 14; the first four found
# by the fuzz harnesses of tests/fuzz/):
#   status / fit / merge's /health: a root attribute that is an array, not one value, was read
#      into one int (a stack overflow under AddressSanitizer): now one line, exit 2;
#   16. export wrote string columns cut to 32 bytes: a /summary of longer (S64) or
#      variable-length strings is exported whole;
#   16. an lzf-compressed data file (h5py's filter, absent from HDF5 itself) was "corrupt":
#      now the filter's name and what to do;
#   13. a sweep file holding a NUL byte, and a size too large for its ranks (check's memory
#      check): the errors name their line;
#   16. a sweep file of 50,000 keys took 18 s (minutes under AddressSanitizer) to refuse:
#      refused by the prescan, in well under a second.
# Needs $W2SWEEP; exit 77 when /usr/bin/python3 has no h5py.
set -uo pipefail
. "$(dirname "$0")/testlib.sh" readers
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

# ---- a results file: every /summary column; strings of the given dtype ----------------------
$PY - "$T" <<'PY'
import sys, h5py, numpy as np
T = sys.argv[1]
cols = ["task", "seed", "weak_size", "strong_size", "method", "weak_acc", "ceiling_acc",
        "student_acc", "student_best_acc", "pgr", "pgr_best", "gap", "gap_se", "pgr_status",
        "agree_weak_wrong", "weak_flops", "strong_flops", "agree", "agree_weak_right",
        "student_auroc", "student_ece", "weak_params", "strong_params", "wall_s",
        "ceiling_ft_acc", "ceiling_lp_acc", "ceiling_is_probe", "recipe_lr", "recipe_epochs",
        "recipe_anchor_decay", "recipe_body_lr_scale", "recipe_head_init", "weak_recipe_lr",
        "weak_recipe_epochs"]
strs = {"task", "weak_size", "strong_size", "method", "pgr_status"}
long_task = "a_task_name_of_forty_five_bytes_0123456789ab"
for name, st in (("s64", "S64"), ("vlen", h5py.string_dtype())):
    dt = [(c, st if c in strs else "<u8" if c == "seed" else "<f8") for c in cols]
    a = np.zeros(2, dtype=dt)
    for i in range(2):
        for c in cols:
            if c in strs:
                v = {"task": long_task, "weak_size": "t2", "strong_size": "t4",
                     "method": "naive_with_a_long_method_name_x", "pgr_status": ""}[c]
                a[i][c] = v.encode() if st == "S64" else v
        a[i]["seed"] = i
        a[i]["pgr"] = 0.5
    with h5py.File("%s/%s.h5" % (T, name), "w") as f:
        f["summary"] = a
        f.attrs["cells_expected"] = np.int32(2)
# an array where one value belongs
with h5py.File(T + "/arr.h5", "w") as f:
    f["summary"] = np.zeros(1)
    for k in ("complete", "cells_expected", "cells_present", "schema_version"):
        f.attrs[k] = np.arange(64, dtype=np.int32)
# a compressed data file (h5py's lzf; compressible values, or lzf stores the chunk raw)
X = np.repeat(np.eye(4, 3, dtype=np.float32), 16, axis=0)
with h5py.File(T + "/lzf.h5", "w") as f:
    f.create_dataset("X", data=X, chunks=(64, 3), compression="lzf")
    f["y"] = np.repeat(np.array([0, 1, 0, 1], np.int8), 16)
PY

one_line "status: an attribute that is an array is an error" "complete must be a single value" 2 \
  "$W2" status "$T/arr.h5"
one_line "fit: a schema_version that is an array is an error" "schema_version must be a single value" 2 \
  "$W2" fit "$T/arr.h5" --no-write
for k in s64 vlen; do
  check "16: export of $k strings" "$W2" export "$T/$k.h5" --csv -o "$T/$k.csv"
  check "16: ... a 45-byte task name whole ($k)" grep -q "^a_task_name_of_forty_five_bytes_0123456789ab,1,t2,t4,naive_with_a_long_method_name_x," "$T/$k.csv"
done

# ---- a data file compressed with a filter HDF5 lacks ------------------------------------------
cat >"$T/lzf.cfg" <<CFG
name = "lzf";
seeds = [0];
data = { n_a = 20; n_b = 20; n_test = 20; };
tasks = ( { name = "f"; kind = "file"; file = "lzf.h5"; } );
sizes = ( { name = "t2"; width = 2; depth = 1; }, { name = "t4"; width = 4; depth = 1; } );
weak = ["t2"];
strong = ["t4"];
CFG
one_line "16: an lzf data file: the filter is named, not 'corrupt'" \
  "lzf.cfg:4: tasks\[0\] ('f'): .*lzf.h5: /X is compressed with HDF5 filter 32000 ('lzf'), which is not available here" 2 \
  "$W2" check "$T/lzf.cfg"

# ---- sweep files: a NUL byte, 50,000 keys -------------------------------------------------------
printf 'name = "x";\n# fine so far\nseeds = [0];\0\n' >"$T/nul.cfg"
one_line "13: a NUL byte is refused at its line" "nul.cfg:3: contains a NUL byte" 2 "$W2" check "$T/nul.cfg"
$PY -c "
import sys
with open(sys.argv[1], 'w') as f:
    f.write('name = \"k\";\n')
    for i in range(50000): f.write('key_%05d = %d;\n' % (i, i))
" "$T/keys.cfg"
cat >"$T/huge.cfg" <<CFG
name = "huge";
seeds = [0];
tasks = ( "linear" );
sizes = ( { name = "t4"; width = 4; depth = 1; },
          { name = "big"; width = 65536; depth = 32; ranks = 1; } );
weak = ["t4"];
strong = ["big"];
runner = { rank_memory_gb = 8.0; };
CFG
one_line "13: a size that cannot run is named at its line" "huge.cfg:5: size 'big' needs .* it needs a group of 512 ranks" 2 \
  "$W2" check "$T/huge.cfg"
t0=$(date +%s%N)
one_line "16: 50,000 keys ($(($(stat -c %s "$T/keys.cfg") / 1000)) KB) are refused" "keys.cfg:5001: more than 5000 settings" 2 \
  timeout 60 "$W2" check "$T/keys.cfg"
ms=$((($(date +%s%N) - t0) / 1000000))
check "16: ... in under 10 s (took $ms ms; was minutes under ASan)" test "$ms" -lt 10000
finish
