#!/usr/bin/env bash
# defence_bench.sh — the injection defence's cost and false positives, no
# injector anywhere: antidote resolve in front of antidote serve (a wildcard
# zone, so every name is new and every query goes upstream).
#
#  1. False positives: N_FP (default 1,000,000) uncached queries through
#     `antidote resolve` (defence on, the default) to `antidote serve`;
#     every reply the defence did not accept at once — forged, held,
#     superseded, escalated, failed — is counted from its exit report.
#  2. Added latency: alternating rounds of N_LAT (default 30,000) uncached
#     queries, one at a time, with --defence on and --defence off; p50/p99
#     of each and their differences (medians over ROUNDS rounds, default 3).
# Usage: BUILD=build bash bench/defence_bench.sh   (after make)
# Writes bench/results/defence-YYYY-MM-DD.md and prints it.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ANTIDOTE=${ANTIDOTE:-$BUILD/antidote}
TOOL=${TOOLS:-$BUILD/tools}/uncached
N_FP=${N_FP:-1000000}
N_LAT=${N_LAT:-30000}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
ZONE=defence.com=tests/data/defence/defence.com.zone
TMP=$(mktemp -d /tmp/antidote-defbench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
[ -x "$ANTIDOTE" ] && [ -x "$TOOL" ] || { echo "build first: make BUILD=$BUILD" >&2; exit 1; }

port() { echo $((20000 + RANDOM % 12000)); }

SP=$(port)
"$ANTIDOTE" serve --listen "127.0.0.1:$SP" --zone "$ZONE" --threads 1 >"$TMP/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do dig @127.0.0.1 -p "$SP" +short +tries=1 +time=1 www.defence.com A >/dev/null 2>&1 && break; sleep 0.1; done

# start_resolver MODE -> RP, RPID, RLOG
start_resolver() {
	RP=$(port)
	RLOG=$TMP/resolve-$1-$RP.log
	"$ANTIDOTE" resolve --listen "127.0.0.1:$RP" --upstream "127.0.0.1:$SP" --threads "$THREADS" \
		--defence "$1" --cache-size 512M >"$RLOG" 2>&1 &
	RPID=$!
	PIDS+=("$RPID")
	for _ in $(seq 50); do
		dig @127.0.0.1 -p "$RP" +tries=1 +time=1 probe.invalid ANY 2>/dev/null | grep -c status: >/dev/null && return 0
		sleep 0.1
	done
	echo "resolver ($1) did not start" >&2
	tail -5 "$RLOG" >&2
	return 1
}
stop_resolver() {
	kill "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
}
field() { grep -Eo "(^| )$2=[0-9.]+" <<<"$1" | head -n 1 | cut -d= -f2; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# 1. false positives
start_resolver on || exit 1
t0=$(date +%s)
fp_line=$("$TOOL" -s "127.0.0.1:$RP" -z w.defence.com -n "$N_FP" -c 32 -o 0)
t1=$(date +%s)
stop_resolver
dline=$(grep '^resolve: defence upstream' "$RLOG" | tail -n 1)
replies=$(field "$dline" replies)
accepted=$(field "$dline" accepted)
not_at_once=$((replies - accepted))
forged=$(field "$dline" forged)
held=$(field "$dline" held)
escal=$(field "$dline" escalations)
failed=$(field "$dline" failed)
answered=$(field "$fp_line" answered)
lost=$(field "$fp_line" lost)

# 2. latency, alternating
: >"$TMP/on.txt"
: >"$TMP/off.txt"
for r in $(seq "$ROUNDS"); do
	for mode in off on; do
		start_resolver "$mode" || exit 1
		"$TOOL" -s "127.0.0.1:$RP" -z w.defence.com -n 2000 -c 1 -o $((50000000 + r * 1000000)) >/dev/null # warm-up
		line=$("$TOOL" -s "127.0.0.1:$RP" -z w.defence.com -n "$N_LAT" -c 1 -o $((60000000 + r * 1000000)))
		echo "$(field "$line" p50_us) $(field "$line" p99_us) $(field "$line" p999_us)" >>"$TMP/$mode.txt"
		stop_resolver
	done
done
on50=$(cut -d' ' -f1 "$TMP/on.txt" | median)
off50=$(cut -d' ' -f1 "$TMP/off.txt" | median)
on99=$(cut -d' ' -f2 "$TMP/on.txt" | median)
off99=$(cut -d' ' -f2 "$TMP/off.txt" | median)
on999=$(cut -d' ' -f3 "$TMP/on.txt" | median)
off999=$(cut -d' ' -f3 "$TMP/off.txt" | median)
d50=$(awk -v a="$on50" -v b="$off50" 'BEGIN { printf "%.3f", (a - b) / 1000 }')
d99=$(awk -v a="$on99" -v b="$off99" 'BEGIN { printf "%.3f", (a - b) / 1000 }')

mkdir -p bench/results
out=bench/results/defence-$(date +%F).md
{
	echo "# Injection defence: false positives and added latency ($(date +%F))"
	echo
	echo "Machine: $(nproc) CPUs, $(uname -sr). antidote resolve --threads $THREADS in front of antidote serve"
	echo "(wildcard zone: every name new, every query upstream), loopback, no injector."
	echo
	echo "## False positives over $N_FP uncached queries (defence on)"
	echo
	echo "| queries answered | lost | upstream replies judged | accepted at once | not accepted at once | forged | held | escalated | failed | time |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	echo "| $answered | $lost | $replies | $accepted | $not_at_once | $forged | $held | $escal | $failed | $((t1 - t0)) s |"
	echo
	echo "## Latency, one query at a time, $N_LAT uncached queries per round, median of $ROUNDS rounds"
	echo
	echo "| defence | p50 µs | p99 µs | p99.9 µs |"
	echo "|---|---|---|---|"
	echo "| off | $off50 | $off99 | $off999 |"
	echo "| on | $on50 | $on99 | $on999 |"
	echo
	echo "Added by the defence: p50 $d50 ms (budget 0.2 ms), p99 $d99 ms (budget 1 ms)."
	echo
	echo "Rounds (p50 p99 p99.9 µs): off: $(tr '\n' ';' <"$TMP/off.txt") on: $(tr '\n' ';' <"$TMP/on.txt")"
} | tee "$out"
[ "$forged" = 0 ] && [ "$not_at_once" = 0 ] || exit 1
