#!/usr/bin/env bash
# probe_bench — throughput of `antidote probe` against a local `antidote
# serve` (one worker thread) on loopback: N queries (the bench zone's names,
# repeated), JSON Lines written to /dev/null, best of RUNS runs per setting.
#   BUILD=build bash bench/probe_bench.sh [QUERIES] [RUNS]
# Slots: 4096 at --window 0, 8192 at --window 20 (more only overflows the
# loopback socket buffers and costs retries).
# Prints one line per setting:
#   probe_bench window_ms=W inflight=I queries=Q answered=A retries=R qps=N
# plus the prober's and the server's CPU seconds. Settings: --window 0 (end
# at the first reply: the engine's ceiling) and --window 20 (keep listening
# 20 ms for further replies, the measuring mode).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
A=$BUILD/antidote
Q=${1:-500000}
RUNS=${2:-3}
tmp=$(mktemp -d /tmp/probe-bench.XXXXXX)
trap 'kill $spid 2>/dev/null; wait $spid 2>/dev/null; rm -rf "$tmp"' EXIT
bash bench/gen-zone.sh "$tmp" 60000 >/dev/null
awk '{print $1" "$2}' "$tmp/queries.txt" >"$tmp/one"
: >"$tmp/names"
while [ "$(wc -l <"$tmp/names")" -lt "$Q" ]; do cat "$tmp/one" >>"$tmp/names"; done
head -n "$Q" "$tmp/names" >"$tmp/n" && mv "$tmp/n" "$tmp/names"
for try in 1 2 3 4 5; do
	port=$((10000 + RANDOM % 22000)) # below the ephemeral range (lib.sh)
	"$A" serve --listen 127.0.0.1:$port --zone "$tmp/bench.test.zone" --threads 1 --quiet >"$tmp/serve.log" 2>&1 &
	spid=$!
	for i in $(seq 1 50); do
		dig @127.0.0.1 -p $port bench.test SOA +tries=1 +time=1 >/dev/null 2>&1 && break
		sleep 0.1
	done
	kill -0 $spid 2>/dev/null && break
done
echo "== antidote probe vs antidote serve (1 thread), $Q queries, $(nproc) CPUs, best of $RUNS"
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
for wi in 0:4096 20:8192; do
	w=${wi%%:*} inf=${wi#*:}
	best=""
	for r in $(seq 1 "$RUNS"); do
		s1=$(cpu $spid)
		/usr/bin/time -f '%U %S' -o "$tmp/time" "$A" probe --names "$tmp/names" --target 127.0.0.1:$port \
			--window $w --inflight $inf --quiet --no-replies >"$tmp/out" 2>/dev/null
		s2=$(cpu $spid)
		sum=$(grep '^{"summary"' "$tmp/out")
		qps=$(echo "$sum" | sed 's/.*"qps":\([0-9]*\).*/\1/')
		ans=$(echo "$sum" | sed 's/.*"answered":\([0-9]*\).*/\1/')
		ret=$(echo "$sum" | sed 's/.*"retries":\([0-9]*\).*/\1/')
		pcpu=$(awk '{printf "%.2f", $1+$2}' "$tmp/time")
		line="probe_bench window_ms=$w inflight=$inf queries=$Q answered=$ans retries=$ret qps=$qps probe_cpu_s=$pcpu probe_us_per_query=$(echo "$pcpu * 1000000 / $Q" | bc -l | xargs printf %.2f) serve_cpu_s=$(echo "($s2 - $s1) / 100" | bc -l | xargs printf %.2f)"
		echo "# run $r: $line"
		if [ -z "$best" ] || [ "$qps" -gt "$(echo "$best" | sed 's/.*qps=\([0-9]*\).*/\1/')" ]; then best=$line; fi
	done
	echo "$best"
done
