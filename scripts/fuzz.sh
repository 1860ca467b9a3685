#!/usr/bin/env bash
# Builds each libFuzzer target with clang (ASan+UBSan+fuzzer) and runs it for
# FUZZ_TIME seconds on a copy of its corpus; new inputs land in build/, a crash
# leaves its reproducer in build/libfuzzer/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build/libfuzzer}; T=${FUZZ_TIME:-60}
mkdir -p "$B"
CF="-std=gnu11 -O1 -g -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
srcs=$(find src -name '*.c' ! -path src/main.c)
status=0
for tgt in "$@"; do
  echo "== $tgt: building"
  clang $CF -o "$B/$tgt" tests/fuzz/$tgt.c $srcs -lssl -lcrypto -lpthread -lm
  work=$B/corpus-${tgt#fuzz_}; mkdir -p "$work"
  cp -n tests/fuzz/corpus/${tgt#fuzz_}/* "$work/" 2>/dev/null || true
  echo "== $tgt: fuzzing for ${T}s"
  dict=(); [ -f tests/fuzz/${tgt#fuzz_}.dict ] && dict=(-dict="$PWD/tests/fuzz/${tgt#fuzz_}.dict")
  (cd "$B" && ./"$tgt" -max_total_time="$T" -timeout=10 -rss_limit_mb=2048 "${dict[@]}" "corpus-${tgt#fuzz_}") || status=1
done
exit $status
