#!/bin/sh
# check_configs.sh — `w2sweep check` on the broken-sweep corpus and on the shipped sweeps.
#
# For every line "FILE LINE SUBSTRING" of tests/configs/expected.txt, asserts that
# `w2sweep check tests/configs/FILE` exits 2, writes nothing to stdout and exactly one line
# to stderr, which starts with "PATH:LINE: " and contains SUBSTRING. Every bad_*.cfg must be
# listed (a broken file without an expectation tests nothing). Then asserts that
# the shipped sweeps pass (exit 0, "PATH: ok (" on stdout): quickstart, paper, saliency, and
# text_quickstart, text_paper and bench/text_gap/*.cfg where WordNet is installed.
#
# Environment: W2SWEEP (the binary) and W2SWEEP_SOURCE_DIR (the repository), as set by
# w2_add_script_test; both can be given by hand to run it outside ctest.
set -u
: "${W2SWEEP:?set W2SWEEP to the w2sweep binary}"
SRC=${W2SWEEP_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
DIR=$SRC/tests/configs
TMP=$(mktemp -d "${TMPDIR:-/tmp}/w2cfg.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
notok() { fail=$((fail + 1)); echo "NOT OK $*" >&2; }

# Each check costs little but MPI start-up (~0.3 s, mostly waiting): run them all at once.
listed=" "
while read -r file line msg; do
  case "$file" in ''|'#'*) continue ;; esac
  listed="$listed$file "
  [ -f "$DIR/$file" ] || continue
  ( "$W2SWEEP" check "$DIR/$file" >"$TMP/$file.out" 2>"$TMP/$file.err"; echo $? >"$TMP/$file.rc" ) &
done <"$DIR/expected.txt"
wait

while read -r file line msg; do
  case "$file" in ''|'#'*) continue ;; esac
  path=$DIR/$file
  if [ ! -f "$path" ]; then notok "$file: listed in expected.txt but missing"; continue; fi
  rc=$(cat "$TMP/$file.rc")
  [ "$rc" -eq 2 ] && ok || notok "$file: exit status $rc, expected 2"
  [ ! -s "$TMP/$file.out" ] && ok || notok "$file: wrote to stdout: $(cat "$TMP/$file.out")"
  n=$(wc -l <"$TMP/$file.err")
  [ "$n" -eq 1 ] && ok || notok "$file: $n lines on stderr, expected 1: $(cat "$TMP/$file.err")"
  got=$(head -n 1 "$TMP/$file.err")
  case "$got" in
    "$path:$line: "*) ok ;;
    *) notok "$file: expected prefix '$path:$line: ', got: $got" ;;
  esac
  case "$got" in
    *"$msg"*) ok ;;
    *) notok "$file: expected message containing '$msg', got: $got" ;;
  esac
done <"$DIR/expected.txt"

for path in "$DIR"/bad_*.cfg; do
  file=$(basename "$path")
  case "$listed" in
    *" $file "*) ok ;;
    *) notok "$file has no line in expected.txt" ;;
  esac
done

# the shipped sweeps (fashion_mnist.cfg needs its converted data: test_fashion_mnist.sh; the
# text sweeps need Debian's wordnet-base, which `.ci/deps.sh --test` installs)
# and the gap study's sweeps (bench/TEXT_GAP.md), which must keep running as recorded
shipped="sweeps/quickstart sweeps/paper sweeps/saliency"
if [ -d /usr/share/wordnet ]; then
  shipped="$shipped sweeps/text_quickstart sweeps/text_paper"
  for f in "$SRC"/bench/text_gap/*.cfg; do shipped="$shipped bench/text_gap/$(basename "$f" .cfg)"; done
fi
for name in $shipped; do
  path=$SRC/$name.cfg
  "$W2SWEEP" check "$path" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  [ "$rc" -eq 0 ] && ok || notok "$name.cfg: exit status $rc: $(cat "$TMP/err")"
  grep -q "^$path: ok (" "$TMP/out" && ok || notok "$name.cfg: no ok line: $(cat "$TMP/out")"
  [ ! -s "$TMP/err" ] && ok || notok "$name.cfg: warnings: $(cat "$TMP/err")"
done

# a missing file and an unknown option are input errors too
"$W2SWEEP" check "$TMP/no_such.cfg" >/dev/null 2>"$TMP/err"
rc=$?
[ "$rc" -eq 2 ] && grep -q "no_such.cfg: cannot open" "$TMP/err" && ok ||
  notok "missing file: exit $rc: $(cat "$TMP/err")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
