#!/usr/bin/env bash
# inject_bench — throughput of the injection engine: blocklist matching
# (rules_bench, 100,000 rules) and the relay (inject_load around
# `antidote inject`, no delay, 0/50/100% censored queries).
#   BUILD=build bash bench/inject_bench.sh [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SECS=${1:-5}
A=$BUILD/antidote T=$BUILD/tools
echo "== blocklist: 100,000 rules, one thread"
"$T/rules_bench" -d "${ANTIDOTE_DATA:-../shared/data}" 2>/dev/null
for c in 0 50 100; do
	rp=$((30000 + RANDOM % 20000)) up=$((rp + 1))
	"$A" inject --listen 127.0.0.1:$rp --forward 127.0.0.1:$up --profile gfw 2>/dev/null &
	pid=$!
	sleep 0.3
	t1=$(awk '{print $14+$15}' /proc/$pid/stat)
	out=$("$T/inject_load" -r $rp -u $up -d "$SECS" -c $c -w 1024 -s 4)
	t2=$(awk '{print $14+$15}' /proc/$pid/stat)
	kill "$pid"
	wait "$pid" 2>/dev/null
	echo "== relay, gfw profile, $c% censored: $out relay_cpu_s=$(((t2 - t1) / 100))"
done
