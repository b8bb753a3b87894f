#!/bin/sh
# run_bench.sh — training step vs SGEMM and PyTorch (issue 2's performance acceptance).
#
# Usage: bench/run_bench.sh BUILD_DIR [THREADS ...]        (default threads: 1 2)
#   Configures BUILD_DIR as a Release build if it has no CMakeCache.txt, (re)builds
#   bench_train, then for each thread count runs bench/bench_train and bench/torch_ref.py
#   (Debian's /usr/bin/python3 with python3-torch) on the same data, batch, hyperparameters
#   and threads, and prints Markdown (machine, tables, acceptance checks) to stdout.
#   Paste it under "Training step vs SGEMM and PyTorch" in bench/RESULTS.md.
# Environment (optional): WIDTHS (default 64,128,256,512,1024,2048,4096), DEPTH (2),
#   BATCH (256), ROWS (4096), REPEATS (5), MIN_TIME (0.25 s per timed repeat),
#   PYTHON (/usr/bin/python3).
# Timings are minima over repeats; on a shared machine, run it when the machine is idle.
# OpenBLAS's kernels follow OPENBLAS_CORETYPE when it is set (both programs inherit it); the
# report names the core used.
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [THREADS ...]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=$1
shift
threads=${*:-1 2}
WIDTHS=${WIDTHS:-64,128,256,512,1024,2048,4096}
DEPTH=${DEPTH:-2}
BATCH=${BATCH:-256}
ROWS=${ROWS:-4096}
REPEATS=${REPEATS:-5}
MIN_TIME=${MIN_TIME:-0.25}
PYTHON=${PYTHON:-/usr/bin/python3}

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
fi
cmake --build "$build" --target bench_train -j2 >&2
bt=$(grep '^CMAKE_BUILD_TYPE:' "$build/CMakeCache.txt" | cut -d= -f2)
cflags=$(grep '^CMAKE_C_FLAGS:' "$build/CMakeCache.txt" | cut -d= -f2-)
native=$(grep '^W2SWEEP_NATIVE:' "$build/CMakeCache.txt" | cut -d= -f2)
if [ "$bt" != "Release" ]; then
  echo "run_bench.sh: warning: $build is a '$bt' build; timings of a non-Release build are not comparable" >&2
fi
"$PYTHON" -c 'import torch' 2>/dev/null || {
  echo "run_bench.sh: error: $PYTHON cannot import torch (apt install python3-torch)" >&2
  exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

common="--widths $WIDTHS --depth $DEPTH --batch $BATCH --repeats $REPEATS --min-time $MIN_TIME"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for t in $threads; do
  "$build/bench/bench_train" $common --rows "$ROWS" --threads "$t" \
    --dump-data "$tmp/data.bin" >"$tmp/w2_$t.txt"
  "$PYTHON" "$here/torch_ref.py" --widths "$WIDTHS" --depth "$DEPTH" --batch "$BATCH" \
    --repeats "$REPEATS" --min-time "$MIN_TIME" --threads "$t" --data "$tmp/data.bin" \
    >"$tmp/torch_$t.txt"
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
cores=$(lscpu | sed -n 's/^Core(s) per socket: *//p' | head -1)
sockets=$(lscpu | sed -n 's/^Socket(s): *//p' | head -1)
cc=$(grep '^CMAKE_C_COMPILER:' "$build/CMakeCache.txt" | cut -d= -f2)
ccv=$("$cc" --version 2>/dev/null | head -1 || true)

echo "Machine: $model, $cores core(s) x $sockets socket(s), $(nproc) CPUs online, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average (1/5/15 min) before: $load0, after: $load1"
echo "Build: $bt, CMAKE_C_FLAGS='$cflags', W2SWEEP_NATIVE=$native, $ccv"
grep '^# BLAS' "$tmp/w2_$(echo $threads | cut -d' ' -f1).txt" | sed 's/^# BLAS: /BLAS: /'
echo "OPENBLAS_CORETYPE: ${OPENBLAS_CORETYPE:-unset (OpenBLAS's own detection)}; both w2sweep and torch run with it"
sed -n 's/^# torch_ref: \(torch [^,]*\),.*/PyTorch: \1 (Debian python3-torch)/p' \
  "$tmp/torch_$(echo $threads | cut -d' ' -f1).txt"
echo "Model: MLP depth $DEPTH, d_in 64, d_out 1, ReLU, BCE; batch $BATCH; $ROWS rows; AdamW lr 1e-3, (0.9, 0.999), eps 1e-8, wd 0.01 (weights); constant lr"
echo "Timing: minimum over $REPEATS repeats of >= $MIN_TIME s of w2_train (torch: the same loop); SGEMM: per-call minimum of each GEMM of the step"
echo "Command: bench/run_bench.sh $build $threads  (WIDTHS=$WIDTHS DEPTH=$DEPTH BATCH=$BATCH ROWS=$ROWS REPEATS=$REPEATS MIN_TIME=$MIN_TIME)"

"$PYTHON" - "$tmp" $threads <<'EOF'
import sys

tmp, threads = sys.argv[1], sys.argv[2:]


def table(path):
    rows, head = {}, None
    for line in open(path):
        f = line.split()
        if not f or line.startswith("#"):
            continue
        if f[0] == "width":
            head = f
            continue
        rows[int(f[0])] = dict(zip(head, (float(x) for x in f)))
    return rows


for t in threads:
    w2, th = table(f"{tmp}/w2_{t}.txt"), table(f"{tmp}/torch_{t}.txt")
    print(f"\n#### {t} thread{'s' if t != '1' else ''}\n")
    print("| width | w2 steps/s | torch steps/s | w2/torch | bound | w2 GFLOP/s | SGEMM GFLOP/s "
          "| % of SGEMM | RSS MiB | analytic MiB | RSS/analytic | VmHWM/analytic | kept MiB "
          "| first run / analytic |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    checks = []
    for w in sorted(w2):
        r = w2[w]
        ts = th.get(w, {}).get("torch_steps_s", float("nan"))
        ratio = r["steps_s"] / ts
        # no step can be faster than its GEMMs run alone (both libraries call the same BLAS)
        bound = 1e3 / ts / r["gemm_ms"]
        print(f"| {w} | {r['steps_s']:.1f} | {ts:.1f} | {ratio:.2f} | {bound:.2f} "
              f"| {r['w2_gflops']:.1f} | {r['sgemm_gf']:.1f} | {r['pct']:.0f} % "
              f"| {r['rss_mib']:.2f} | {r['est_mib']:.2f} | {r['ratio']:.2f} "
              f"| {r['hwm_ratio']:.2f} | {r['kept_mib']:.2f} | {r['first_ratio']:.2f} |")
        if w >= 2048:
            checks.append((f"width {w}: step >= 70 % of SGEMM", r["pct"] >= 70, f"{r['pct']:.0f} %"))
        if w >= 1024:
            checks.append((f"width {w}: w2/torch >= 1.0", ratio >= 1.0, f"{ratio:.2f}"))
        if w <= 128:
            checks.append((f"width {w}: w2/torch >= 2.0", ratio >= 2.0, f"{ratio:.2f}"))
        checks.append((f"width {w}: RSS of a training run <= 1.3 x analytic", r["ratio"] <= 1.3,
                       f"{r['ratio']:.2f}"))
    print("\nStep breakdown (ms; phases called directly, minimum over repeats; SGEMM = the "
          "step's GEMMs timed alone):\n")
    print("| width | step | SGEMM fwd | SGEMM bwd | load batch | forward | loss | backward "
          "| AdamW | phases sum | steps/repeat |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in sorted(w2):
        r = w2[w]
        print(f"| {w} | {r['step_ms']:.3f} | {r['gfwd_ms']:.3f} | {r['gbwd_ms']:.3f} "
              f"| {r['load_ms']:.3f} | {r['fwd_ms']:.3f} | {r['loss_ms']:.3f} "
              f"| {r['bwd_ms']:.3f} | {r['adam_ms']:.3f} | {r['sum_ms']:.3f} "
              f"| {int(r['steps'])} |")
    print("\nAcceptance:\n")
    for name, ok, val in checks:
        print(f"- {'PASS' if ok else 'FAIL'} {name} ({val})")
EOF
