#!/usr/bin/env bash
# inject_bench — cost of `antidote inject` in relay mode.
#
#   BUILD=build bash bench/inject_bench.sh [SECONDS] [RUNS]
#
# 1. Blocklist matching: rules_bench (100,000 rules, one thread).
# 2. Relay CPU per query: dnsperf -> relay -> `antidote serve` (the bench
#    zone of bench/gen-zone.sh, 10,500 queries). The relay runs pinned to
#    CPU 0; server and dnsperf share CPU 1 (2-CPU VM: dnsperf alone saturates
#    near 150k qps against any server, so qps says little about the relay).
#    The figure is the relay's utime+stime (/proc/PID/stat, bench/lib.sh)
#    over a run divided by the queries dnsperf completed: relay CPU µs per
#    query, and the implied capacity of one core = 1e6 / µs. Each relayed
#    query costs the relay 4 datagrams (query in, query up, reply in, reply
#    down) plus, when censored, 3 forged replies (gfw profile).
#    Mixes: 0% censored (rule *.nomatch.test) and 100% censored (rule
#    *.bench.test: every query draws 3 forged replies, dnsperf counts the
#    first one); upstream modes shared (DNS ID mapping, default) and
#    per-client. dnsperf uses 4 fixed source ports (-c 4), so per-client
#    mode has 4 clients here.
# 3. Relay throughput at saturation: inject_load (tests/tools) as clients
#    and upstream on CPU 1, cheap enough (UDP GSO sends) that the relay on
#    CPU 0 is the bottleneck; relay with and without --no-gso.
# Writes a Markdown report to stdout and bench/results/inject-DATE.md.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
BUILD=${BUILD:-build}
SECS=${1:-8}
RUNS=${2:-3}
A=$BUILD/antidote T=$BUILD/tools
RESULTS=${BENCH_RESULTS:-bench/results}
DPARGS=${BENCH_DNSPERF_ARGS:--c 4 -q 200}
HZ=$(getconf CLK_TCK)
for t in dnsperf kdig taskset; do
	command -v $t >/dev/null || { echo "inject_bench: $t not found" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/antidote-ibench.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do stop_tree "$p"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash bench/gen-zone.sh "$TMP" >/dev/null || exit 1
echo '*.nomatch.test' >"$TMP/rules0"
echo '*.bench.test' >"$TMP/rules100"
mapfile -t P < <(pick_ports 2) || { echo "no free ports" >&2; exit 1; }
SPORT=${P[0]} RPORT=${P[1]}
taskset -c 1 "$A" serve --listen 127.0.0.1:$SPORT --zone "$TMP/bench.test.zone" --threads 1 --quiet \
	>"$TMP/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
	kdig +retry=0 +timeout=1 +short @127.0.0.1 -p $SPORT h1.bench.test A 2>/dev/null | has 198.18.0.1 && break
	sleep 0.1
done

OUT=$TMP/report.md
{
echo "# antidote inject (relay mode) benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), Linux $(uname -r)"
echo "- antidote $(git describe --always --dirty 2>/dev/null); $(dnsperf -h 2>&1 | grep -m1 -o 'dnsperf [0-9.]*' || echo dnsperf)"
echo "- load: taskset -c 1 dnsperf $DPARGS, $SECS s per run, $RUNS runs per configuration, round robin;"
echo "  relay pinned to CPU 0 (taskset -c 0), antidote serve and dnsperf on CPU 1"
echo "- relay CPU = utime+stime of the relay (CLK_TCK $HZ) around each dnsperf run; µs/query = CPU s × 1e6 / completed"
echo
echo "## Blocklist matching (rules_bench)"
echo
echo '```'
"$T/rules_bench" -d "${ANTIDOTE_DATA:-../shared/data}" 2>&1 | tail -n 12
echo '```'
echo
} >"$OUT"

declare -A RES QPS
CONFIGS="shared:0 shared:100 per-client:0 per-client:100"
for run in $(seq "$RUNS"); do
	for cfg in $CONFIGS; do
		mode=${cfg%:*} pct=${cfg#*:}
		taskset -c 0 "$A" inject --listen 127.0.0.1:$RPORT --forward 127.0.0.1:$SPORT --profile gfw \
			--rules "$TMP/rules$pct" --upstream "$mode" >"$TMP/relay.out" 2>"$TMP/relay.err" &
		rp=$!
		PIDS+=($rp)
		sleep 0.3
		t1=$(proc_tree_ticks $rp)
		taskset -c 1 dnsperf -s 127.0.0.1 -p $RPORT -d "$TMP/queries.txt" -l "$SECS" $DPARGS >"$TMP/dp.out" 2>&1
		t2=$(proc_tree_ticks $rp)
		stop_tree $rp
		read -r sent done lost qps rt < <(parse_dnsperf "$TMP/dp.out") || { sent=0 done=0 qps=0; }
		us=$(us_per_query $((t2 - t1)) "$HZ" "$done")
		RES[$cfg]="${RES[$cfg]:-} $us"
		qps=$(printf "%.0f" "$qps")
		QPS[$cfg]="${QPS[$cfg]:-} $qps"
		echo "run $run $cfg: sent=$sent completed=$done qps=$qps relay_ticks=$((t2 - t1)) us/query=$us" >&2
		echo "| $mode | $pct% | $run | $sent | $done | $qps | $((t2 - t1)) | $us |" >>"$TMP/runs.md"
	done
done
# Saturation: inject_load plays clients and upstream echo on CPU 1 and
# sends with UDP GSO (-g), so it costs less than the relay and the relay
# on CPU 0 is the bottleneck; the figure is relayed queries answered per
# second. Clients: 4 ports with many queries each (dnsperf-like, a
# forwarder's socket pool), or 2048 ports with one query each (resolvers
# randomising source ports: no two replies share a destination).
declare -A SAT SATUS SATBUSY
SATCONFIGS=${BENCH_SAT_CONFIGS:-"gso:4:0 gso:4:50 gso:4:100 gso:2048:0 gso:2048:50 nogso:4:0 nogso:2048:0"}
SATSECS=${BENCH_SAT_SECS:-5}
echo www.facebook.com >"$TMP/rules.sat"
for run in $(seq "$RUNS"); do
	for cfg in $SATCONFIGS; do
		IFS=: read -r g socks pct <<<"$cfg"
		extra=() largs=(-s "$socks")
		[ "$g" = nogso ] && extra=(--no-gso)
		[ "$socks" -gt 64 ] && largs+=(-b 1)
		mapfile -t SP < <(pick_ports 2) || continue
		taskset -c 0 "$A" inject --listen 127.0.0.1:${SP[0]} --forward 127.0.0.1:${SP[1]} --profile gfw \
			--rules "$TMP/rules.sat" "${extra[@]}" >/dev/null 2>"$TMP/sat.err" &
		rp=$!
		PIDS+=($rp)
		sleep 0.3
		t1=$(proc_tree_ticks $rp)
		w1=$(date +%s%N)
		out=$(taskset -c 1 "$T/inject_load" -r "${SP[0]}" -u "${SP[1]}" -d "$SATSECS" -w 2048 -c "$pct" -g "${largs[@]}")
		t2=$(proc_tree_ticks $rp)
		w2=$(date +%s%N)
		stop_tree $rp
		real=$(echo "$out" | tr ' ' '\n' | sed -n 's/^real=//p')
		rps=$(echo "$out" | tr ' ' '\n' | sed -n 's/^real_per_s=//p')
		bad=$(echo "$out" | tr ' ' '\n' | sed -n 's/^bad=//p')
		us=$(us_per_query $((t2 - t1)) "$HZ" "${real:-0}")
		busy=$(awk -v t=$((t2 - t1)) -v hz="$HZ" -v ns=$((w2 - w1)) 'BEGIN { printf "%.0f", t / hz * 1e11 / ns }')
		SAT[$cfg]="${SAT[$cfg]:-} ${rps:-0}" SATUS[$cfg]="${SATUS[$cfg]:-} $us" SATBUSY[$cfg]="${SATBUSY[$cfg]:-} $busy"
		echo "sat run $run $cfg: $out relay_ticks=$((t2 - t1)) us/query=$us busy=$busy%" >&2
		echo "| $g | $socks | $pct% | $run | ${rps:-0} | $us | $busy% | ${bad:-?} |" >>"$TMP/satruns.md"
	done
done
{
echo "## Relay throughput at saturation (inject_load -g → relay → inject_load's echo)"
echo
echo "| sends | client ports | censored | relayed queries/s (median) | relay CPU µs/query | relay CPU busy |"
echo "|---|---:|---:|---:|---:|---:|"
for cfg in $SATCONFIGS; do
	IFS=: read -r g socks pct <<<"$cfg"
	# shellcheck disable=SC2086
	echo "| $g | $socks | $pct% | $(median ${SAT[$cfg]}) | $(median ${SATUS[$cfg]}) | $(median ${SATBUSY[$cfg]})% |"
done
echo
echo "Per run (bad = replies mixed up or without QR; must be 0):"
echo
echo "| sends | client ports | censored | run | queries/s | µs/query | busy | bad |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
cat "$TMP/satruns.md"
echo
echo '```'
echo "taskset -c 0 antidote inject --listen 127.0.0.1:R --forward 127.0.0.1:U --profile gfw --rules (www.facebook.com) [--no-gso]"
echo "taskset -c 1 inject_load -r R -u U -d $SATSECS -w 2048 -c PCT -g -s PORTS [-b 1]"
echo '```'
echo
} >>"$OUT"
{
echo "## Relay CPU per query (dnsperf → relay → antidote serve)"
echo
echo "| upstream | censored | qps (median) | relay CPU µs/query (median) | capacity per core (1e6/µs) |"
echo "|---|---:|---:|---:|---:|"
for cfg in $CONFIGS; do
	# shellcheck disable=SC2086
	m=$(median ${RES[$cfg]}) q=$(median ${QPS[$cfg]})
	cap=$(awk -v u="$m" 'BEGIN { if (u > 0) printf "%.0f", 1e6 / u; else print "-" }')
	echo "| ${cfg%:*} | ${cfg#*:}% | $q | $m | $cap |"
done
echo
echo "## Per run"
echo
echo "| upstream | censored | run | sent | completed | qps | relay ticks | µs/query |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
cat "$TMP/runs.md"
echo
echo "## Commands"
echo
echo '```'
echo "taskset -c 1 antidote serve --listen 127.0.0.1:S --zone bench.test.zone --threads 1 --quiet"
echo "taskset -c 0 antidote inject --listen 127.0.0.1:R --forward 127.0.0.1:S --profile gfw --rules RULES --upstream MODE"
echo "taskset -c 1 dnsperf -s 127.0.0.1 -p R -d queries.txt -l $SECS $DPARGS"
echo '```'
} >>"$OUT"
cat "$OUT"
mkdir -p "$RESULTS"
cp "$OUT" "$RESULTS/inject-$(date -u +%Y-%m-%d).md"
