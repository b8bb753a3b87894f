#!/usr/bin/env bash
# analysis/plots.py on synthetic results files:
#   1. after `w2sweep fit`, every figure type is written as a real PNG of readable size, and
#      as PDF and SVG; no "nan" in any label; pgrfit has one panel per fitted method (no
#      empty panels); error bars are the stored /intervals, else the same 95 % t-interval;
#      fit parameters are printed at their interval's precision, "not identifiable" when
#      the interval spans orders of magnitude;
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
  check "$fig.pdf is a PDF" "[ \"\$(head -c 5 '${p%.png}.pdf' 2>/dev/null)\" = '%PDF-' ]"
  check "$fig.svg is an SVG" "grep -q '<svg' '${p%.png}.svg' 2>/dev/null"
done
# SVG text is kept as text (svg.fonttype none): no label, title, legend or box says "nan"
check "no 'nan' in any figure's text: $(grep -oiwl nan "$T"/figs/*.svg | head -3)" \
  "! grep -qiw nan '$T'/figs/*.svg"
nfit=$($PY -c "import h5py,sys; g=h5py.File(sys.argv[1])['fits/pgr/taskA']; print(sum(int(g[m].attrs['fitted']) for m in g))" "$T/r.h5")
naxes=$(grep -o 'id="axes_[0-9]*"' "$T/figs/pgrfit_taskA.svg" | sort -u | wc -l)
check "pgrfit: one panel per fitted method ($naxes axes, $nfit fits)" "[ '$nfit' -gt 0 ] && [ '$naxes' = '$nfit' ]"
# four fitted methods on a 3-column grid: no empty fifth and sixth panel
$PY "$SRC/analysis/make_synthetic_results.py" "$T/r4.h5" --tasks 1 --methods naive,conf,bootstrap,lp_weak >/dev/null
"$W" fit "$T/r4.h5" --boot 100 >/dev/null 2>&1
$PY "$PLOTS" "$T/r4.h5" --out "$T/figs4" >/dev/null 2>&1
nfit4=$($PY -c "import h5py,sys; g=h5py.File(sys.argv[1])['fits/pgr/taskA']; print(sum(int(g[m].attrs['fitted']) for m in g))" "$T/r4.h5")
naxes4=$(grep -o 'id="axes_[0-9]*"' "$T/figs4/pgrfit_taskA.svg" 2>/dev/null | sort -u | wc -l)
check "pgrfit with $nfit4 fitted methods: $naxes4 panels" "[ '$nfit4' = 4 ] && [ '$naxes4' = 4 ]"
$PY - "$SRC/analysis" "$T/r.h5" >"$T/units" 2>&1 <<'EOF2'
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import plots
f, rows = plots.load(sys.argv[2])
t = plots.Table(rows, "taskA")
w = t.weaks("naive")[0]
d = t.sel("naive", weak_size=w)
s0 = plots.order_by(set(d["strong_size"]), t.strong_flops)[0]
v = d["student_acc"][d["strong_size"] == s0]
x, y, e = t.curve("naive", w, "student_acc")
# without /intervals: mean and the 95 % t-interval (t(0.975, n-1) * sd / sqrt(n))
from scipy import stats
want = stats.t.ppf(0.975, len(v) - 1) * np.std(v, ddof=1) / np.sqrt(len(v))
assert len(v) >= 2 and abs(y[0] - v.mean()) < 1e-12 and abs(e[0] - want) < 2e-3 * want, (y[0], e[0], want)
# with /intervals: exactly the stored numbers
plots.INTERVALS[("taskA", w, s0, "naive")] = {"student_acc": 0.5, "student_acc_lo": 0.4,
                                             "student_acc_hi": 0.6}
x, y, e = t.curve("naive", w, "student_acc")
assert abs(y[0] - 0.5) < 1e-12 and abs(e[0] - 0.1) < 1e-12, (y[0], e[0])
class G:
    def __init__(self, **a): self.attrs = a
s = plots.fmt_ci(G(A=240.0, A_lo=0.00188, A_hi=5.22e20), "A")
assert s.startswith("not identifiable") and "23.4 decades" in s, s
assert plots.fmt_ci(G(alpha=0.29341, alpha_lo=0.1912, alpha_hi=0.4203), "alpha") == "0.29 [0.19, 0.42]"
assert plots.fmt_ci(G(E=0.03512, E_lo=0.0049, E_hi=0.0712), "E") == "0.035 [0.005, 0.071]"
for g in (G(p0=0.2, p0_lo=np.nan, p0_hi=np.nan), G(p0=np.nan, p0_lo=0.1, p0_hi=0.3),
          G(p0=0.2, p0_lo=0.1, p0_hi=np.nan)):
    assert "nan" not in plots.fmt_ci(g, "p0").lower(), plots.fmt_ci(g, "p0")
print("ok")
EOF2
check "intervals and parameter text: $(tail -n 2 "$T/units")" "grep -qx ok '$T/units'"

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
