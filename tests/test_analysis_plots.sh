#!/usr/bin/env bash
# analysis/plots.py on synthetic results files:
#   1. after `w2sweep fit`, every figure type is written as a real PNG of readable size;
#   2. a file with only the naive method: the figures needing other methods, and the fit
#      figures (no /fits yet), are skipped with a note; exit 0;
#   3. unusable inputs: exit 2 with one line on stderr.
# Needs $W2SWEEP and /usr/bin/python3 with h5py and matplotlib; exit 77 (skip) without them.
set -uo pipefail

PY=/usr/bin/python3
SRC=${W2SWEEP_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
W=${W2SWEEP:?W2SWEEP must point at the w2sweep binary}
PLOTS=$SRC/analysis/plots.py
$PY -c "import h5py, matplotlib, numpy" 2>/dev/null ||
  { echo "SKIP: /usr/bin/python3 lacks h5py or matplotlib"; exit 77; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export MPLCONFIGDIR=$T/mpl # matplotlib's cache: not in $HOME on CI
pass=0
fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "NOT OK: $1"; fi; }

# PNG signature and IHDR width/height; prints "W H" or nothing
png_size() {
  $PY - "$1" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read(24)
if b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR":
    print(*struct.unpack(">II", b[16:24]))
EOF
}

# ---- 1. every figure type from a complete file
$PY "$SRC/analysis/make_synthetic_results.py" "$T/r.h5" --tasks 1 --noise-supervisor >/dev/null
"$W" fit "$T/r.h5" --boot 200 >/dev/null 2>"$T/err"
rc=$?
check "fit exits 0 ($(cat "$T/err"))" "[ $rc -eq 0 ]"
$PY "$PLOTS" "$T/r.h5" --out "$T/figs" >"$T/out" 2>"$T/err"
rc=$?
check "plots.py exits 0 (got $rc: $(head -3 "$T/err"))" "[ $rc -eq 0 ]"
check "no skip notes for a complete file: $(grep note "$T/out" | head -2)" "! grep -q skipping '$T/out'"
for fig in fig3 fig4 fig5 fig7 fig8 fig11 scaling pgrfit; do
  p=$T/figs/${fig}_taskA.png
  sz=$(png_size "$p" 2>/dev/null)
  w=${sz% *}
  h=${sz#* }
  # at least 1000 px wide and 500 px tall at 150 dpi: labels stay legible in a README
  check "$fig is a PNG of readable size (got '$sz')" "[ -n '$sz' ] && [ $w -ge 1000 ] && [ $h -ge 500 ]"
  check "$fig is not blank ($(stat -c %s "$p" 2>/dev/null) bytes)" "[ \$(stat -c %s '$p') -gt 30000 ]"
done

# ---- 2. only naive cells, no /fits: skips with notes, still exit 0
$PY "$SRC/analysis/make_synthetic_results.py" "$T/n.h5" --tasks 1 --methods naive >/dev/null
$PY "$PLOTS" "$T/n.h5" --out "$T/n" >"$T/out" 2>"$T/err"
rc=$?
check "naive-only file: exit 0 (got $rc: $(head -2 "$T/err"))" "[ $rc -eq 0 ]"
for what in "Fig. 4 for taskA: no 'bootstrap' cells" "Fig. 5 for taskA: no 'conf' cells" \
  "Fig. 11 for taskA: no linear-probe methods" "scaling fits for taskA: no fits/scaling/taskA" \
  "PGR fits for taskA: no fits/pgr/taskA"; do
  check "note: skipping $what" "grep -qF \"skipping $what\" '$T/out'"
done
check "naive-only file: fig3, fig7, fig8 written" \
  "[ -s '$T/n/fig3_taskA.png' ] && [ -s '$T/n/fig7_taskA.png' ] && [ -s '$T/n/fig8_taskA.png' ]"
check "naive-only file: no fig5" "[ ! -e '$T/n/fig5_taskA.png' ]"

# ---- 3. unusable inputs
echo "text" >"$T/text.h5"
$PY -c "import h5py; h5py.File('$T/plain.h5','w')['x'] = 1"
for f in missing text plain; do
  $PY "$PLOTS" "$T/$f.h5" --out "$T/x" >/dev/null 2>"$T/err"
  rc=$?
  check "$f.h5: exit 2, one line 'plots.py: error: ...' (rc $rc: $(cat "$T/err"))" \
    "[ $rc -eq 2 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q '^plots.py: error: .*$f.h5' '$T/err'"
done
$PY "$PLOTS" "$T/r.h5" --out "$T/x" --task nosuch >/dev/null 2>"$T/err"
rc=$?
check "unknown --task: exit 2" "[ $rc -eq 2 ] && grep -q \"no task 'nosuch'\" '$T/err'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
