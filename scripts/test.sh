#!/usr/bin/env bash
# Runs every test: cmocka unit tests, fuzz corpus replays, end-to-end scripts.
# Closing line: "N passed, N failed". Exit status 1 when anything failed.
#   BUILD   build directory (build or build/san)
#   TESTS   optional glob filter on test names (e.g. TESTS='*zone*')
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export ANTIDOTE="$PWD/$BUILD/antidote" BUILD TOOLS="$PWD/$BUILD/tools"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
filter=${TESTS:-*}
passed=0 failed=0 failures=()
log=$(mktemp -d /tmp/antidote-test.XXXXXX)

record() { # name status(0/1) npass nfail
  passed=$((passed + $3)); failed=$((failed + $4))
  [ "$4" -gt 0 ] && failures+=("$1")
  printf '%-40s %s (%d passed, %d failed)\n' "$1" "$([ "$2" -eq 0 ] && echo ok || echo FAIL)" "$3" "$4"
}

for t in "$BUILD"/tests/test_*; do
  name=unit/$(basename "$t"); [[ $name == $filter ]] || continue
  out=$log/$(basename "$t").log
  timeout -k 5 300 "$t" >"$out" 2>&1; rc=$?
  [ $rc -eq 124 ] && echo "timed out after 300 s" >>"$out"
  np=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$out" | awk '{s+=$NF} END{print s+0}')
  nf=$(grep -Eo '^\[  FAILED  \] [0-9]+ test' "$out" | awk '{s+=$(NF-1)} END{print s+0}')
  [ $rc -ne 0 ] && [ "$nf" -eq 0 ] && nf=1
  record "$name" $rc "$np" "$nf"; [ $rc -ne 0 ] && tail -40 "$out"
done

for f in "$BUILD"/fuzz/fuzz_*; do
  tgt=$(basename "$f"); name=fuzz-replay/$tgt; [[ $name == $filter ]] || continue
  corpus=tests/fuzz/corpus/${tgt#fuzz_}
  out=$log/$tgt.log
  timeout -k 5 300 "$f" "$corpus" >"$out" 2>&1; rc=$?
  [ $rc -eq 124 ] && echo "timed out after 300 s" >>"$out"
  record "$name" $rc $((rc == 0)) $((rc != 0)); [ $rc -ne 0 ] && tail -40 "$out"
done

for s in tests/e2e/*.sh; do
  [ "$(basename "$s")" = lib.sh ] && continue  # helpers, not a test
  [ -e "$s" ] || continue
  name=e2e/$(basename "$s" .sh); [[ $name == $filter ]] || continue
  out=$log/$(basename "$s").log
  timeout -k 5 600 bash "$s" >"$out" 2>&1; rc=$?
  [ $rc -eq 124 ] && echo "FAIL: timed out after 600 s" >>"$out"
  np=$(grep -c '^PASS' "$out"); nf=$(grep -c '^FAIL' "$out")
  [ $rc -ne 0 ] && [ "$nf" -eq 0 ] && nf=1
  record "$name" $rc "$np" "$nf"
  [ $rc -ne 0 ] && { grep '^FAIL' "$out" | head -20; tail -20 "$out"; }
done

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]} (logs in $log)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
