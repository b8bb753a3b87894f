# testlib.sh — what the shell tests share; source it as `. "$(dirname "$0")/testlib.sh" NAME`.
# Sets W2 (the binary), PY (Debian's python3, which has h5py), T (a scratch directory named
# after NAME, removed at exit unless KEEP is set), the counters pass / fail and
#   check WHAT command...   runs the command; counts a pass, or prints "NOT OK: WHAT" and
#                           the last lines of its output and counts a failure;
#   finish                  prints "N passed, M failed" and exits non-zero on a failure.
# Exits 77 (ctest's skip) when $PY has no h5py.
W2=${W2SWEEP:?}
PY=/usr/bin/python3
$PY -c "import h5py" 2>/dev/null || { echo "SKIP: $PY has no h5py"; exit 77; }
T=$(mktemp -d "/tmp/w2test-${1:-test}.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
pass=0
fail=0
check() { # check WHAT command...
  local what=$1
  shift
  if "$@" >"$T/last.log" 2>&1; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "NOT OK: $what"
    tail -n 5 "$T/last.log"
  fi
}
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
