#!/usr/bin/env bash
# test_slurm_quoting.sh — no value from the sweep file or the command line can inject shell
# commands into the scripts `w2sweep slurm` writes (no Slurm needed).
#   1. Hostile but legal paths — the sweep file, its `output` and `cache`, the binary (--w2sweep)
#      and the script directory (--out) full of $(...), backticks, quotes, ;, &, |, globs, #, %,
#      backslashes and spaces: every script passes `bash -n`; run with fake srun, mpirun and
#      sbatch on PATH (and a fake w2sweep that records its arguments) no command substitution
#      happens (no file 'pwned' appears anywhere), and every path arrives byte for byte;
#      the #SBATCH lines read back (shlex, as sbatch does) give the intended values.
#   2. Hostile Slurm options (--partition 'p; rm -rf /', --time '1:00; touch pwned', values
#      with newlines, ...) are refused: exit 2, one line "w2sweep: error: ...", nothing written.
# Needs $W2SWEEP and $W2SWEEP_SOURCE_DIR.
set -uo pipefail
W2=${W2SWEEP:?}
SRC=${W2SWEEP_SOURCE_DIR:?}
T=$(mktemp -d /tmp/w2test-quoting.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  echo "NOT OK: $*"
}
pwned() { [ -n "$(find "$T" -name 'pwned*' -print -quit)" ] || [ -e /tmp/pwned ]; }

# ---------------------------------------------------------------- 1. hostile legal paths
# every shell metacharacter; H also has a backslash (not allowed in --out: #SBATCH lines)
HN='h $(touch pwned) `touch pwned2` '"'"';touch pwned3;'"'"' ";touch pwned4;" & | < > * ? [a] # ~ % %a %j {a,b} $HOME ${IFS} !x'
H="$HN"' \ \\'
mkdir -p "$T/$H/bin" "$T/$H/sweep" || exit 1
sweep="$T/$H/sweep/sw.cfg"
out_path="$T/$H/out/r.h5"
cache_path="$T/$H/cache"
jobs="$T/$HN/jobs"
# the sweep's output and cache as libconfig strings (" and \ escaped)
cfgstr() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }
{
  sed -e '/^name = /d' "$SRC/tests/sweeps/tiny.cfg"
  echo 'name = "tiny";'
  echo "output = \"$(cfgstr "$out_path")\";"
  echo "cache = \"$(cfgstr "$cache_path")\";"
} >"$sweep"
"$W2" check "$sweep" >/dev/null 2>&1 && ok || bad "the hostile sweep file does not load: $("$W2" check "$sweep" 2>&1 | tail -n 1)"

# fakes: w2sweep records its arguments (NUL-separated, one file per call); srun and mpirun
# drop their own options and run the rest; sbatch records its arguments and prints a job id
fake="$T/$H/bin/w2sweep"
cat >"$fake" <<'EOF'
#!/bin/bash
n=$(ls "$CALLS" | wc -l)
printf '%s\0' "$@" >"$CALLS/$n"
EOF
mkdir -p "$T/fakebin" "$T/calls"
cat >"$T/fakebin/srun" <<'EOF'
#!/bin/bash
while [[ $# -gt 0 && $1 == -* ]]; do shift; done
exec "$@"
EOF
cp "$T/fakebin/srun" "$T/fakebin/mpirun"
cat >"$T/fakebin/sbatch" <<'EOF'
#!/bin/bash
n=$(ls "$SBATCH_CALLS" | wc -l)
printf '%s\0' "$@" >"$SBATCH_CALLS/$n"
echo "$((100 + n))"
EOF
chmod +x "$fake" "$T/fakebin/"*
site="$T/site.sh"
printf '#SBATCH --comment=site\nexport W2_SITE_LOADED=1\n' >"$site"

if "$W2" slurm "$sweep" --out "$jobs" --w2sweep "$fake" --site "$site" --cells-jobs 3 \
  --partition 'debug,long' --account acct-1 --qos normal --time 1-02:03:04 --mem 4G \
  >"$T/gen.log" 2>&1; then
  ok
else
  bad "w2sweep slurm refused legal hostile paths: $(tail -n 1 "$T/gen.log")"
fi
pwned && bad "generation itself ran an injected command"

scripts=(sweep.sbatch artifacts.sbatch cells.sbatch merge.sbatch submit.sh)
for f in "${scripts[@]}"; do
  if [ -f "$jobs/$f" ] && bash -n "$jobs/$f"; then ok; else bad "$f missing or fails bash -n"; fi
done
[ -d "$jobs/logs" ] && ok || bad "no logs/ directory in the script directory"

# expected argument vectors (NUL-separated files compared byte for byte)
argv_is() { # argv_is FILE WHAT arg...: FILE holds exactly these arguments
  local file=$1 what=$2
  shift 2
  printf '%s\0' "$@" >"$T/want"
  if cmp -s "$T/want" "$file"; then ok; else
    bad "$what: arguments differ: got [$(tr '\0' '|' <"$file" 2>/dev/null)] want [$(tr '\0' '|' <"$T/want")]"
  fi
}
run_script() { # run_script SCRIPT [ELEMENT]: with the fakes first on PATH, cwd $T
  rm -rf "$T/calls" && mkdir "$T/calls"
  (cd "$T" && env PATH="$T/fakebin:$PATH" CALLS="$T/calls" SBATCH_CALLS="$T/calls" \
    ${2:+SLURM_ARRAY_TASK_ID=$2} bash "$jobs/$1") >"$T/run.log" 2>&1 ||
    bad "$1 (element ${2:-none}) failed: $(tail -n 2 "$T/run.log")"
}
shards="$out_path.shards"

run_script sweep.sbatch
argv_is "$T/calls/0" "sweep.sbatch" run "$sweep" --output "$out_path" --cache "$cache_path"

run_script cells.sbatch 2
argv_is "$T/calls/0" "cells.sbatch element 2" run "$sweep" --output "$shards/cells-2.h5" \
  --cache "$cache_path" --shard 2/3 --no-assemble

run_script artifacts.sbatch 0
[ -f "$T/calls/0" ] && ok || bad "artifacts.sbatch ran no w2sweep"
for c in "$T"/calls/*; do
  [ -f "$c" ] || continue
  mapfile -d '' -t a <"$c"
  # one call: run SWEEP --output F --cache D (--only ID)... --no-assemble --quiet
  n=${#a[@]}
  if [ "$n" -ge 10 ] && [ $(((n - 8) % 2)) = 0 ] && [ "${a[0]}" = run ] &&
     [ "${a[1]}" = "$sweep" ] && [ "${a[3]}" = "$shards/artifacts-0.h5" ] &&
     [ "${a[5]}" = "$cache_path" ] && [ "${a[6]}" = --only ] &&
     [ "${a[n-2]}" = --no-assemble ] && [ "${a[n-1]}" = --quiet ]; then ok; else
    bad "artifacts.sbatch call $(basename "$c"): [$(tr '\0' '|' <"$c")]"
  fi
done

run_script merge.sbatch
argv_is "$T/calls/0" "merge.sbatch" merge "$sweep" --output "$out_path" --cache "$cache_path" \
  --shards "$shards"

run_script submit.sh
argv_is "$T/calls/0" "submit.sh: artifacts" --parsable "$jobs/artifacts.sbatch"
argv_is "$T/calls/1" "submit.sh: cells" --parsable --dependency=afterok:100 \
  --kill-on-invalid-dep=yes "$jobs/cells.sbatch"
argv_is "$T/calls/2" "submit.sh: merge" --parsable --dependency=afterok:101 \
  --kill-on-invalid-dep=yes "$jobs/merge.sbatch"
grep -qx 'merge 102' "$T/run.log" && ok || bad "submit.sh did not print 'merge 102': $(cat "$T/run.log")"

# an element outside the array says so
(cd "$T" && env PATH="$T/fakebin:$PATH" CALLS="$T/calls" SLURM_ARRAY_TASK_ID=99 \
  bash "$jobs/artifacts.sbatch" >/dev/null 2>&1)
[ $? = 2 ] && ok || bad "artifacts.sbatch element 99 did not fail with exit 2"

pwned && bad "a generated script ran an injected command: $(find "$T" -name 'pwned*')" || ok

# the #SBATCH lines, split as sbatch does (quotes, then words): intended values verbatim
/usr/bin/python3 - "$jobs/cells.sbatch" "$jobs" <<'EOF' && ok || bad "#SBATCH lines do not read back"
import shlex, sys
path, jobs = sys.argv[1], sys.argv[2]
opts = {}
for line in open(path, encoding="utf-8", errors="surrogateescape"):
    if line.startswith("#SBATCH "):
        for w in shlex.split(line[len("#SBATCH "):]):
            k, _, v = w.partition("=")
            opts[k] = v
want = {"--job-name": "w2-tiny-cells", "--array": "0-2", "--ntasks": "1",
        "--time": "1-02:03:04", "--partition": "debug,long", "--account": "acct-1",
        "--qos": "normal", "--mem": "4G",
        "--output": jobs.replace("%", "%%") + "/logs/cells-%a.out"}
for k, v in want.items():
    if opts.get(k) != v:
        sys.exit(f"{k}: got {opts.get(k)!r}, want {v!r}")
for k in ("--requeue", "--open-mode"):
    if k not in opts:
        sys.exit(f"{k} missing")
EOF
# the site header sits between the #SBATCH lines and the first command
grep -q '^#SBATCH --comment=site$' "$jobs/cells.sbatch" && grep -q '^export W2_SITE_LOADED=1$' "$jobs/cells.sbatch" &&
  ok || bad "site header not copied"
awk '/^[^#]/ && !seen { seen = NR } /^#SBATCH/ && seen { bad = 1 } END { exit bad }' "$jobs/cells.sbatch" &&
  ok || bad "an #SBATCH line comes after the first command (sbatch would ignore it)"

# ---------------------------------------------------------------- 2. refused values
refuse() { # refuse WHAT args...: exit 2, one error line, nothing written
  local what=$1
  shift
  rm -rf "$T/ref"
  "$W2" slurm "$SRC/tests/sweeps/tiny.cfg" --out "$T/ref" "$@" >"$T/o.log" 2>"$T/e.log"
  local rc=$?
  if [ $rc = 2 ] && [ "$(wc -l <"$T/e.log")" = 1 ] && grep -q '^w2sweep: error: ' "$T/e.log" &&
     [ ! -e "$T/ref" ]; then ok; else
    bad "$what: rc=$rc, stderr [$(cat "$T/e.log")], dir $([ -e "$T/ref" ] && echo written || echo absent)"
  fi
}
refuse "partition with ;" --partition 'p; rm -rf /'
refuse "partition with space" --partition 'p q'
refuse "partition as an option" --partition '--wrap=x'
refuse "account with \$()" --account '$(touch pwned)'
refuse "qos with backticks" --qos '`touch pwned`'
refuse "time with ;" --time '1:00; touch pwned'
refuse "time with four fields" --time '1:2:3:4'
refuse "time with two dashes" --time '1-2-3'
refuse "empty time" --time ''
refuse "time with a newline" --time $'10\ntouch pwned'
refuse "mem with ;" --mem '4G; touch pwned'
refuse "mpi type with ;" --mpi 'pmix; touch pwned'
refuse "launcher not srun/mpirun" --launcher 'srun; touch pwned'
refuse "output with a newline" --output $'a\ntouch pwned'
refuse "cache with a newline" --cache $'c\r\ntouch pwned'
refuse "missing binary" --w2sweep "$T/no such w2sweep"
refuse "zero ranks" --ranks 0
refuse "unknown option" --partitoin p
rm -rf "$T/ref"
"$W2" slurm "$SRC/tests/sweeps/tiny.cfg" --out $'new\nline' >/dev/null 2>"$T/e.log"
[ $? = 2 ] && [ ! -e "$T/new" ] && [ "$(wc -l <"$T/e.log")" = 1 ] && ok || bad "--out with a newline accepted"
"$W2" slurm "$SRC/tests/sweeps/tiny.cfg" --out "$T/back\\slash" >/dev/null 2>"$T/e.log"
[ $? = 2 ] && [ ! -e "$T/back\\slash" ] && ok || bad "--out with a backslash accepted (#SBATCH cannot carry it)"
# a newline inside the sweep file's output path
sed -e 's/^name = "tiny";/name = "tiny"; output = "r\\n$(touch pwned).h5";/' "$SRC/tests/sweeps/tiny.cfg" >"$T/nl.cfg"
"$W2" slurm "$T/nl.cfg" --out "$T/nl" >/dev/null 2>"$T/e.log"
[ $? = 2 ] && [ ! -e "$T/nl" ] && [ "$(wc -l <"$T/e.log")" = 1 ] && grep -q 'line break' "$T/e.log" && ok ||
  bad "a sweep output path with a newline was not refused: $(cat "$T/e.log")"
pwned && bad "a refused value ran a command"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
