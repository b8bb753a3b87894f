#!/bin/sh
# calibrate.sh [RANKS] [OUT.cfg] — refits plan's throughput model (src/throughput.h) on this
# machine: runs bench/calibrate.cfg from an empty cache on RANKS ranks (default 2), one
# BLAS thread per rank, then `w2sweep plan --calibrate` fits the per-job CPU seconds and
# writes OUT.cfg (default bench/throughput.cfg, the model `plan` reads by default). On a
# cluster run it inside an allocation of one node (e.g. `srun -N1 -n1 --cpus-per-task=8
# bench/calibrate.sh 8 $HOME/throughput.cfg`) and point plan at the result with
# --throughput FILE or W2SWEEP_THROUGHPUT=FILE. Build first (build/w2sweep, or $W2SWEEP).
# W2SWEEP_CALIB_DIR=DIR keeps the calibration run there (an empty directory) instead of a
# temporary one.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
w2=${W2SWEEP:-$here/../build/w2sweep}
ranks=${1:-2}
out=$(realpath -m "${2:-$here/throughput.cfg}")
if [ -n "${W2SWEEP_CALIB_DIR:-}" ]; then # keep the run (its status files) there
  work=$W2SWEEP_CALIB_DIR
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/w2calib.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
cp "$here/calibrate.cfg" "$work/"
cd "$work"
/usr/bin/python3 "$here/make_tabular.py" calib196.h5 4000 196 1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
echo "calibrate: $(getconf _NPROCESSORS_ONLN) cores, load $(cut -d' ' -f1-3 /proc/loadavg) before the run"
mpirun --oversubscribe -n "$ranks" "$w2" run calibrate.cfg --quiet
echo "calibrate: load $(cut -d' ' -f1-3 /proc/loadavg) after the run"
# the run's own work (start, results assembly): a rerun of the finished sweep on one rank
/usr/bin/time -f "%U %S" -o assembly.txt "$w2" run calibrate.cfg --quiet >/dev/null 2>&1
assembly=$(awk '{ print $1 + $2 }' assembly.txt)
"$w2" plan calibrate.cfg --calibrate calibrate.h5 --assembly "$assembly" --throughput "$out"
