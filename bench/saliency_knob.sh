#!/usr/bin/env bash
# saliency_knob.sh — the saliency knob's table (bench/SALIENCY.md): sweeps/saliency.cfg with
# world.saliency and data.n_b varied, the largest strong size w256, naive and conf, 3 seeds,
# the known-answer checks on. Each variant is an ordinary sweep; the table is made from the
# results files by bench/saliency_table.py.
#
#   bench/saliency_knob.sh BUILD OUTDIR [SALIENCIES] [NBS]     e.g. build /tmp/knob "0 0.5 0.9" "1000"
set -euo pipefail
build=${1:?usage: saliency_knob.sh BUILD OUTDIR [SALIENCIES] [NBS]}
out=${2:?usage: saliency_knob.sh BUILD OUTDIR [SALIENCIES] [NBS]}
sals=${3:-"0 0.5 0.9"}
nbs=${4:-"1000 4000"}
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
for nb in $nbs; do
  for sal in $sals; do
    name="knob_s${sal}_nb${nb}"
    sed -e "s/^name = .*/name = \"$name\";/" \
        -e "s/saliency = 0.9;/saliency = $sal;/" \
        -e "s/n_b = 4000;/n_b = $nb;/" \
        -e 's/^strong = .*/strong = ["w256"];/' \
        -e '/{ name = "w128"; width = 128; depth = 2; },/d' \
        -e 's/{ name = "w512"; width = 512; depth = 2; }/{ name = "w256"; width = 256; depth = 2; }/' \
        -e 's/^  "lp_weak"$//' -e 's/alpha_warmup = 0.2; },/alpha_warmup = 0.2; }/' \
        "$src/sweeps/saliency.cfg" >"$out/$name.cfg"
    printf 'output = "%s/%s.h5";\ncache = "%s";\n' "$out" "$name" "${W2SWEEP_CACHE:-results/cache}" >>"$out/$name.cfg"
    "$build/w2sweep" check "$out/$name.cfg"
    "$build/w2sweep" run "$out/$name.cfg" --quiet >"$out/$name.log" 2>&1
  done
done
/usr/bin/python3 "$src/bench/saliency_table.py" "$out"/knob_*.h5
