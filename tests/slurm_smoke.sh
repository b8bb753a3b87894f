#!/usr/bin/env bash
# Smoke test of the private one-node Slurm (slurm/localslurm.sh):
#   1. start Slurm in a fresh state dir (install first only if binaries are missing and
#      W2SWEEP_SLURM_INSTALL=1),
#   2. a 4-element job array whose elements write files,
#   3. a job with --dependency=afterok:<array> that gathers them,
#   4. if mpicc is available, an MPI job launched with mpirun and with srun --mpi=pmix,
#   5. bounded wait, check states and outputs, stop Slurm (trap on EXIT).
# Exit 0 = pass, 1 = fail, 77 = skip (Slurm cannot be started here; ctest SKIP_RETURN_CODE).
# W2SWEEP_SLURM_REQUIRED=1 turns a skip into a failure (for CI that must exercise Slurm).
# W2SWEEP_SLURM_WAIT bounds each wait (seconds, default 120). W2SWEEP_KEEP_SLURM=1 keeps the
# state dir (logs, outputs) for inspection.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HARNESS=$HERE/../slurm/localslurm.sh
WAIT_S=${W2SWEEP_SLURM_WAIT:-120}
SD=""
T0=$SECONDS

skip() {
  if [ "${W2SWEEP_SLURM_REQUIRED:-0}" = 1 ]; then
    echo "FAIL: Slurm required (W2SWEEP_SLURM_REQUIRED=1) but: $*"
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}

dump_logs() {
  [ -n "$SD" ] && [ -d "$SD" ] || return 0
  local f
  for f in "$SD"/log/slurmctld.log "$SD"/log/slurmd.log "$SD"/munge/munged.log "$SD"/work/*.out; do
    [ -f "$f" ] || continue
    echo "---- tail $f"
    tail -n 15 "$f"
  done
  SLURM_CONF=$SD/etc/slurm.conf squeue -a 2>&1 || true
}

fail() {
  echo "FAIL: $*"
  dump_logs
  exit 1
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$SD" ]; then
    bash "$HARNESS" stop "$SD" >/dev/null 2>&1 || true
    if [ "${W2SWEEP_KEEP_SLURM:-0}" = 1 ]; then
      echo "state dir kept: $SD"
    else
      rm -rf "$SD"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Do not inherit an outer Slurm job's environment (e.g. when run inside a real cluster job).
while IFS='=' read -r v _; do
  case "$v" in SLURM_* | SBATCH_* | SRUN_* | SQUEUE_* | SINFO_*) unset "$v" ;; esac
done < <(env)

[ "$(id -u)" = 0 ] || skip "needs root to run slurmctld/slurmd/munged (uid=$(id -u))"
[ -f "$HARNESS" ] || fail "harness not found: $HARNESS"

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v slurmd >/dev/null 2>&1 ||
   ! command -v munged >/dev/null 2>&1 || ! command -v sbatch >/dev/null 2>&1; then
  if [ "${W2SWEEP_SLURM_INSTALL:-0}" = 1 ]; then
    echo "installing Slurm packages (W2SWEEP_SLURM_INSTALL=1)"
    if ! out=$(bash "$HARNESS" install 2>&1); then
      skip "install failed: $(echo "$out" | tail -n 1)"
    fi
  else
    skip "Slurm binaries not installed (set W2SWEEP_SLURM_INSTALL=1 or run slurm/localslurm.sh install)"
  fi
fi

SD=$(mktemp -d /tmp/w2slurm-smoke.XXXXXX)
if ! out=$(bash "$HARNESS" start "$SD" 2>&1); then
  skip "slurm did not start: $(echo "$out" | grep -v '^SLURM_CONF=' | tail -n 1)"
fi
conf=$(echo "$out" | sed -n 's/^SLURM_CONF=//p' | tail -n 1)
{ [ -n "$conf" ] && [ -f "$conf" ]; } || fail "harness printed no SLURM_CONF (output: $out)"
export SLURM_CONF=$conf
echo "$out" | grep -v '^SLURM_CONF=' || true
echo "slurm up after $((SECONDS - T0))s; SLURM_CONF=$SLURM_CONF"

W=$SD/work
mkdir -p "$W"
cd "$W"
ncpu=$(sinfo -h -o '%c' | head -n 1)

# Wait until none of the given jobs is pending/running (array elements included).
wait_jobs() {
  local ids=$1 t=$SECONDS
  while [ -n "$(squeue -h -j "$ids" -o '%i' 2>/dev/null)" ]; do
    ((SECONDS - t < WAIT_S)) || fail "jobs $ids not finished after ${WAIT_S}s"
    sleep 0.5
  done
}

# State and exit code of a (finished) job, from slurmctld memory (MinJobAge=600, no sacct).
job_state() { scontrol -o show job "$1" | grep -o 'JobState=[A-Z_]*' | head -n 1 | cut -d= -f2; }
job_exit() { scontrol -o show job "$1" | grep -o ' ExitCode=[0-9:]*' | head -n 1 | cut -d= -f2; }

# ---- 1. job array: each element writes a file and its start/end time
cat >"$W/element.sh" <<'EOF'
#!/bin/bash
i=$SLURM_ARRAY_TASK_ID
t0=$(date +%s.%N)
echo "$i $((i * i))" >"result_$i.txt"
sleep 1
echo "$t0 $(date +%s.%N) $i" >"time_$i.txt"
EOF
arr=$(sbatch --parsable -J w2smoke -a 0-3 -n 1 -t 5 -D "$W" -o "$W/arr_%A_%a.out" "$W/element.sh") ||
  fail "sbatch of the array failed"
arr=${arr%%;*}

# ---- 2. dependent job: runs only after every element succeeded
cat >"$W/gather.sh" <<'EOF'
#!/bin/bash
cat result_*.txt | sort -n >gathered.txt
awk '{ s += $2 } END { print s }' gathered.txt >sum.txt
echo "$SLURM_JOB_DEPENDENCY" >dep_seen.txt
EOF
dep=$(sbatch --parsable -J w2gather -n 1 -t 5 --dependency="afterok:$arr" -D "$W" \
  -o "$W/gather_%j.out" "$W/gather.sh") || fail "sbatch of the dependent job failed"
dep=${dep%%;*}
echo "submitted array $arr (0-3) and dependent job $dep"

wait_jobs "$arr,$dep"

for i in 0 1 2 3; do
  st=$(job_state "${arr}_$i")
  [ "$st" = COMPLETED ] || fail "array element ${arr}_$i state '$st' (expected COMPLETED)"
  [ "$(cat "result_$i.txt" 2>/dev/null)" = "$i $((i * i))" ] || fail "result_$i.txt wrong or missing"
done
st=$(job_state "$dep")
[ "$st" = COMPLETED ] || fail "dependent job $dep state '$st' (expected COMPLETED)"
[ "$(job_exit "$dep")" = 0:0 ] || fail "dependent job $dep exit code $(job_exit "$dep")"
[ "$(wc -l <gathered.txt)" = 4 ] || fail "gathered.txt does not have 4 lines"
[ "$(cat sum.txt)" = 14 ] || fail "sum.txt is '$(cat sum.txt)', expected 14"

# The dependent job must have started after every element ended.
dep_start=$(date -d "$(scontrol -o show job "$dep" | grep -o 'StartTime=[^ ]*' | cut -d= -f2)" +%s)
last_end=$(cat time_*.txt | awk '{ if ($2 > m) m = $2 } END { printf "%d", m }')
[ "$dep_start" -ge "$last_end" ] || fail "dependent job started ($dep_start) before the array ended ($last_end)"

# At most ncpu one-CPU elements may have run at the same time.
maxpar=$(cat time_*.txt | awk '{ print $1, 1; print $2, -1 }' | sort -k1,1n -k2,2n |
  awk '{ c += $2; if (c > m) m = c } END { print m }')
[ "$maxpar" -le "$ncpu" ] || fail "$maxpar elements ran at once on $ncpu CPUs"
echo "array + afterok dependency: OK (max $maxpar elements at once on $ncpu CPUs)"

# ---- 3. MPI inside a job (optional: needs mpicc and mpirun)
if command -v mpicc >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1; then
  cat >"$W/hello.c" <<'EOF'
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
  int r, n, s;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  MPI_Allreduce(&r, &s, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (r == 0) printf("size=%d sum=%d\n", n, s);
  MPI_Finalize();
  return 0;
}
EOF
  mpicc -o "$W/hello" "$W/hello.c" || fail "mpicc failed"
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  np=2
  [ "$ncpu" -ge 2 ] || np=1
  want="size=$np sum=$((np * (np - 1) / 2))"
  m1=$(sbatch --parsable -J w2mpirun -n "$np" -t 5 -D "$W" -o "$W/mpirun_%j.out" \
    --wrap "mpirun ./hello") || fail "sbatch mpirun job failed"
  m2=$(sbatch --parsable -J w2srun -n "$np" -t 5 -D "$W" -o "$W/srun_%j.out" \
    --wrap "srun --mpi=pmix ./hello") || fail "sbatch srun job failed"
  m1=${m1%%;*}
  m2=${m2%%;*}
  wait_jobs "$m1,$m2"
  for j in "$m1:mpirun" "$m2:srun --mpi=pmix"; do
    id=${j%%:*}
    how=${j#*:}
    st=$(job_state "$id")
    [ "$st" = COMPLETED ] || fail "MPI job ($how) $id state '$st'"
    f=$W/${how%% *}_$id.out
    grep -qxF "$want" "$f" || fail "MPI job ($how) output lacks '$want': $(tail -n 3 "$f")"
  done
  echo "MPI in sbatch: mpirun OK, srun --mpi=pmix OK ($np ranks)"
else
  echo "MPI part skipped (no mpicc/mpirun)"
fi

echo "slurm_smoke: PASS in $((SECONDS - T0))s"
