#!/bin/sh
# run_dist.sh — distributed students (issue 5): strong scaling of one training step and peak
# memory per rank, measured by bench/bench_dist under mpirun; prints Markdown to stdout
# (paste it under "Distributed students" in bench/RESULTS.md).
#
# Usage: bench/run_dist.sh BUILD_DIR
#   Configures BUILD_DIR as a Release build if it has no CMakeCache.txt, (re)builds
#   bench_dist, then runs, with OPENBLAS_NUM_THREADS=1 (one core per rank):
#     time:   p = 1 (with the phase and GEMM breakdown); for every P in NP_TIME, each of the
#             two grid shapes with P ranks (grids() below) and each configuration of CONFIGS;
#             P4_CONFIGS on 2x2 and 1x4 (1 warm-up + 1 timed step each). A configuration is
#             BLOCK:PBNB, the distribution block size (--block) and PBLAS's logical block
#             size (--pb-nb, the k-width of PSGEMM's local GEMMs); 0 means w2sweep's default
#             (dmat.h: block w2_grid_block(width, pr, pc), panel max(block, 256)), so 0:0 is
#             what a sweep's rank group runs, and 64:32 is the ScaLAPACK reference panel (32)
#             at the old default block. Those in BREAKDOWN also get the phase and GEMM
#             breakdown. Runs with more ranks than cores are oversubscribed: marked so; their
#             wall times say nothing about parallel efficiency (their "work" columns, CPU time
#             outside MPI, still do).
#     memory: every P in NP_MEM on both grid shapes, --mem mode, default block and panel.
#   Efficiency = T(p=1) / (p * T(p)), T(p=1) measured in the same invocation.
# Environment (optional): WIDTH (8192), DEPTH (2), BATCH (256), STEPS (3 timed steps),
#   NP_TIME ("2"), CONFIGS ("0:0 64:32 64:256 64:1024 256:256 1024:1024"),
#   BREAKDOWN ("0:0 64:32"), P4_CONFIGS ("0:0 64:32"; "" for none, e.g. on a
#   machine with >= 16 cores: NP_TIME="2 4 8 16" P4_CONFIGS=""), NP_MEM ("1 2 4"),
#   MPIRUN (mpirun), PYTHON (/usr/bin/python3).
# Whole run at the defaults: about 100 s on an idle 2-core machine.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=$1
WIDTH=${WIDTH:-8192}
DEPTH=${DEPTH:-2}
BATCH=${BATCH:-256}
STEPS=${STEPS:-3}
NP_TIME=${NP_TIME:-2}
CONFIGS=${CONFIGS:-0:0 64:32 64:256 64:1024 256:256 1024:1024}
BREAKDOWN=${BREAKDOWN:-0:0 64:32}
P4_CONFIGS=${P4_CONFIGS-0:0 64:32}
NP_MEM=${NP_MEM:-1 2 4}
MPIRUN=${MPIRUN:-mpirun}
PYTHON=${PYTHON:-/usr/bin/python3}

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
fi
cmake --build "$build" --target bench_dist -j2 >&2
bt=$(grep '^CMAKE_BUILD_TYPE:' "$build/CMakeCache.txt" | cut -d= -f2)
if [ "$bt" != "Release" ]; then
  echo "run_dist.sh: warning: $build is a '$bt' build; its timings are not comparable" >&2
fi
bin=$build/bench/bench_dist

ncores=$(OMP_NUM_THREADS= OMP_THREAD_LIMIT= nproc) # GNU nproc obeys OMP_NUM_THREADS
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# mpirun refuses root unless told; harmless otherwise
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
out=$tmp/all.txt
: >"$out"

# grids P: the shapes tried for P ranks (both orientations of the near-square shape)
grids() {
  case $1 in
  1) echo 1x1 ;;
  2) echo 1x2 2x1 ;;
  4) echo 2x2 1x4 ;;
  8) echo 2x4 1x8 ;;
  16) echo 4x4 2x8 ;;
  *) echo "1x$1" ;;
  esac
}

# run P ARGS...: one mpirun of bench_dist; records its output with the oversubscription flag
run() {
  p=$1
  shift
  flags="--bind-to none"
  over=0
  if [ "$p" -gt "$ncores" ]; then
    # more ranks than cores: let waiting ranks yield instead of spinning
    flags="$flags --oversubscribe --mca mpi_yield_when_idle 1"
    over=1
  fi
  echo "run_dist.sh: mpirun -np $p bench_dist $*" >&2
  $MPIRUN $flags -np "$p" "$bin" --width "$WIDTH" --depth "$DEPTH" --batch "$BATCH" "$@" \
    >"$tmp/one.txt"
  sed "s/^\(RESULT\|PHASE\|GEMM\) /\1 over=$over /" "$tmp/one.txt" >>"$out"
  echo "END" >>"$out"
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$(date +%s)
# config P GRID BLOCK:PBNB ARGS...: one timed run of a configuration
config() {
  p=$1 g=$2 nb=${3%:*} kb=${3#*:}
  shift 3
  extra=--no-breakdown
  case " $BREAKDOWN " in *" $nb:$kb "*) extra= ;; esac
  [ "$kb" = 0 ] || extra="$extra --pb-nb $kb"
  [ "$nb" = 0 ] || extra="$extra --block $nb"
  run "$p" --grid "$g" --t1 "$t1" $extra "$@"
}

run 1 --steps "$STEPS"
t1=$(sed -n 's/^RESULT .* step_s=\([0-9.]*\) .*/\1/p' "$out" | head -1)
for p in $NP_TIME; do
  for g in $(grids "$p"); do
    for c in $CONFIGS; do
      config "$p" "$g" "$c" --steps "$STEPS"
    done
  done
done
for c in $P4_CONFIGS; do
  for g in $(grids 4); do
    config 4 "$g" "$c" --warmup 1 --steps 1 --no-breakdown
  done
done
for p in $NP_MEM; do
  for g in $(grids "$p"); do
    run "$p" --grid "$g" --mem --warmup 1 --steps 1
  done
done
t_end=$(date +%s)
load1=$(cut -d' ' -f1-3 /proc/loadavg)

model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
cc=$(grep '^CMAKE_C_COMPILER:' "$build/CMakeCache.txt" | cut -d= -f2)
echo "Machine: $model, $ncores CPUs online, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM; $(mpirun --version 2>/dev/null | head -1)"
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $((t_end - t_start)) s; load average (1/5/15 min) before: $load0, after: $load1"
echo "Build: $bt, $("$cc" --version 2>/dev/null | head -1)"
echo "Command: bench/run_dist.sh $build  (WIDTH=$WIDTH DEPTH=$DEPTH BATCH=$BATCH STEPS=$STEPS NP_TIME='$NP_TIME' CONFIGS='$CONFIGS' BREAKDOWN='$BREAKDOWN' P4_CONFIGS='$P4_CONFIGS' NP_MEM='$NP_MEM')"

"$PYTHON" - "$out" "$ncores" <<'EOF'
import sys

runs, cur = [], None
for line in open(sys.argv[1]):
    f = line.split()
    if not f:
        continue
    if f[0] == "END":
        runs.append(cur)
        cur = None
        continue
    if line.startswith("#"):
        if line.startswith("# bench_dist:") and not runs and cur is None:
            print("Model: MLP " + line.split(", ", 1)[1].strip() + ", ReLU, d_out 1, BCE, "
                  "AdamW; OPENBLAS_NUM_THREADS=1 (one core per rank)")
        continue
    kv = dict(x.split("=", 1) for x in f[1:])
    if f[0] == "RESULT":
        cur = {"r": kv, "phase": {}, "gemm": {}}
    elif f[0] == "PHASE":
        cur["phase"][kv["name"]] = kv
    elif f[0] == "GEMM":
        cur["gemm"][kv["name"]] = kv

def num(d, k):
    return float(d[k])

time = [x for x in runs if x["r"]["mode"] == "time"]
mem = [x for x in runs if x["r"]["mode"] == "mem"]
t1 = num(time[0]["r"], "step_s")
w1 = num(time[0]["r"], "work_s")

def label(r):
    pb = int(r["pbnb"])
    return f"{r['grid']}", r["block"], (str(pb) if pb > 0 else "-")

print("\n### Strong scaling of one training step (w2_train)\n")
print("| p | grid | block | PBLAS nb | step s | GFLOP/s | speedup | efficiency | MPI s/step "
      "| MPI MiB sent/step | CPU share | work s (max rank) | work efficiency | imbalance "
      "| note |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for x in time:
    r = x["r"]
    p, ts = int(r["p"]), num(r, "step_s")
    g, nb, pb = label(r)
    note = f"oversubscribed: {p} ranks on {sys.argv[2]} cores" if r["over"] == "1" else ""
    print(f"| {p} | {g} | {nb if p > 1 else '-'} | {pb} | {ts:.3f} | {num(r, 'gflops'):.1f} "
          f"| {t1 / ts:.2f} | {100 * t1 / (p * ts):.0f} % | {num(r, 'mpi_s'):.3f} "
          f"| {num(r, 'mpi_mib'):.1f} | {num(r, 'cpu'):.2f} | {num(r, 'work_s'):.3f} "
          f"| {100 * w1 / (p * num(r, 'work_s')):.0f} % "
          f"| {num(r, 'work_s') / num(r, 'work_mean_s'):.2f} | {note} |")

full = [x for x in time if x["gemm"]]
if full:
    print("\n### Where the time goes\n")
    print("Each cell: wall ms / ms inside MPI calls / CPU ms outside MPI (local work), each the "
          "max over ranks, min over repeats.\n")
    heads = [f"p={x['r']['p']} {x['r']['grid']} nb {x['r']['block']}"
             + (f" PBLAS {x['r']['pbnb']}" if int(x['r']['p']) > 1 else "") for x in full]
    print("| piece | " + " | ".join(heads) + " |")
    print("|---|" + "---:|" * len(full))
    names = list(full[0]["phase"]) + list(full[0]["gemm"])
    for n in names:
        cells = []
        for x in full:
            d = x["phase"].get(n) or x["gemm"].get(n)
            if not d:
                cells.append("")
                continue
            ms, mpi, wk = num(d, "ms"), num(d, "mpi_ms"), num(d, "work_ms")
            cells.append(f"{ms:.1f} / {mpi:.1f} / {wk:.1f}")
        kind = "phase" if n in full[0]["phase"] else "alone"
        print(f"| {kind}: {n} | " + " | ".join(cells) + " |")
    print("\nEfficiency of each large GEMM alone, wall T(p=1) / (p T(p)) and local work "
          "W(p=1) / (p W(p)):\n")
    base = full[0]["gemm"]
    for x in full[1:]:
        p = int(x["r"]["p"])
        parts = []
        for n, d in x["gemm"].items():
            if n.startswith(("fwd1", "dW1", "dX1")) and n in base:
                e = num(base[n], "ms") / (p * num(d, "ms"))
                ew = num(base[n], "work_ms") / (p * num(d, "work_ms"))
                parts.append(f"{n.split('_')[0]} {100 * e:.0f} % (work {100 * ew:.0f} %)")
        print(f"- p={p} {x['r']['grid']} block {x['r']['block']} PBLAS nb {x['r']['pbnb']}: "
              + ", ".join(parts))

print("\n### Peak memory per rank\n")
print("| p | grid | block | peak RSS MiB (growth) | VmHWM MiB (absolute) | analytic MiB "
      "| model buffers MiB | other MiB | growth / p=1 | absolute / p=1 |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
m1 = [x for x in mem if x["r"]["p"] == "1"]
rss1 = num(m1[0]["r"], "rss_mib") if m1 else float("nan")
hwm1 = num(m1[0]["r"], "hwm_mib") if m1 else float("nan")
checks = []
for x in mem:
    r = x["r"]
    own = num(r, "dist_mib") + num(r, "repl_mib") + num(r, "scratch_mib")
    rss, hwm = num(r, "rss_mib"), num(r, "hwm_mib")
    print(f"| {r['p']} | {r['grid']} | {r['block'] if r['p'] != '1' else '-'} | {rss:.1f} "
          f"| {hwm:.1f} | {num(r, 'analytic_mib'):.1f} | {own:.1f} | {rss - own:.1f} "
          f"| {rss / rss1:.3f} | {hwm / hwm1:.3f} |")
    if r["p"] == "4":
        checks.append((f"peak memory per rank at p=4 ({r['grid']}) <= 0.35 x p=1",
                       rss / rss1 <= 0.35, f"{rss / rss1:.3f}; absolute VmHWM {hwm / hwm1:.3f}"))

print("\nAcceptance:\n")
for name, ok, val in checks:
    print(f"- {'PASS' if ok else 'FAIL'} {name} ({val})")
for x in time:
    r = x["r"]
    p = int(r["p"])
    if p in (4, 16):
        e = t1 / (p * num(r, "step_s"))
        goal = 0.60 if p == 4 else 0.50
        if r["over"] == "1":
            print(f"- NOT MEASURABLE efficiency at p={p} {r['grid']} >= {goal:.0%}: "
                  f"oversubscribed here ({100 * e:.0f} % measured, meaningless)")
        else:
            print(f"- {'PASS' if e >= goal else 'FAIL'} efficiency at p={p} {r['grid']} "
                  f">= {goal:.0%} ({100 * e:.0f} %)")
if not any(int(x["r"]["p"]) == 16 for x in time):
    print("- NOT MEASURED efficiency at p=16 >= 50 %: needs a 16-core machine "
          "(NP_TIME='2 4 8 16' there)")
EOF
