#!/bin/sh
# plan_vs_jobs.sh SWEEP.cfg RESULTS.h5 [THROUGHPUT.cfg] — plan's time model against what a
# finished run's jobs measured, out of sample: joins `w2sweep plan --cold --jobs` (each
# job's modelled seconds on one rank) with the `cpu` line of each job's status file in
# RESULTS.h5.parts/status, and prints the totals over the jobs that recorded CPU seconds,
# their ratio and the mean per-job error factor. Run it where the sweep's relative paths
# resolve. bench/RESULTS.md "Transformer sweeps: their own time model" used it.
set -eu
w2=${W2SWEEP:-$(dirname "$0")/../build/w2sweep}
cfg=$1 res=$2
tp=${3:+--throughput $3}
# shellcheck disable=SC2086
"$w2" plan "$cfg" --cold --jobs --output "$res" $tp | awk -v d="$res.parts/status" -v name="$cfg" '
  $1 ~ /\// && / seconds / {
    # the status file of job id: "_" is written "_-" and "/" "__" (plan.h)
    id = $1; for (i = 1; i <= NF; i++) if ($i == "seconds") s = $(i + 1)
    f = id; gsub("_", "_-", f); gsub("/", "__", f); file = d "/" f ".txt"; cpu = -1
    while ((getline l < file) > 0) { split(l, a, " "); if (a[1] == "cpu") cpu = a[2] }
    close(file)
    if (cpu > 0) { m += cpu; p += s; n++; r = s / cpu; if (r < 1) r = 1 / r; e += r }
  }
  END {
    if (!n) { print name ": no job recorded CPU seconds"; exit 1 }
    printf "%s: %d jobs  measured %.1f CPU-s  plan %.1f s  ratio %.2f  mean job error %.2fx\n",
           name, n, m, p, p / m, e / n
  }'
