#!/usr/bin/env bash
# run — `make bench`: dnsperf against antidote, NSD, Knot and the echo floor.
#
# Every server serves the same generated 10,000-name zone on its own high
# loopback port, pinned to CPU 0; dnsperf is pinned to CPU 1. Runs go round
# robin (run 1 of every server, then run 2, ...), each BENCH_SECONDS long.
# Per run: qps and completion from dnsperf, server CPU = delta of
# utime+stime (/proc/PID/stat, summed over the server's process tree)
# sampled just before dnsperf starts and right after it exits.
# Output: a Markdown report to stdout and to BENCH_RESULTS/serve-DATE.md.
#
# Environment:
#   BUILD              build directory (default build)
#   ANTIDOTE           antidote binary (default $BUILD/antidote)
#   TOOLS              tools directory holding echo (default $BUILD/tools)
#   BENCH_SECONDS      dnsperf -l per run (default 10)
#   BENCH_RUNS         runs per server (default 3)
#   BENCH_WARMUP       seconds of unrecorded load per server first (default 2, 0: none)
#   BENCH_SERVERS      subset/order of "antidote nsd knot echo"
#   BENCH_DNSPERF_ARGS load shape (default "-c 4 -q 200")
#   BENCH_RESULTS      output directory (default bench/results)
#   BENCH_ANTIDOTE_VERSION  version label of $ANTIDOTE in the report
#                      (default: git describe --always --dirty of this tree)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BUILD=${BUILD:-build}
ANTIDOTE=${ANTIDOTE:-$BUILD/antidote}
TOOLS=${TOOLS:-$BUILD/tools}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-3}
WARMUP=${BENCH_WARMUP:-2}
SERVERS=${BENCH_SERVERS:-antidote nsd knot echo}
DPARGS=${BENCH_DNSPERF_ARGS:--c 4 -q 200}
RESULTS=${BENCH_RESULTS:-bench/results}
ZONE_NAME=bench.test.
PROBE_NAME=h1.bench.test.
PROBE_ADDR=198.18.0.1

die() { echo "bench: $*" >&2; exit 1; }
tail_note() { # FILE: ": its last line" (table-safe), or nothing
	local l
	l=$(tail -n 1 "$1" 2>/dev/null | tr -d '|')
	[ -n "$l" ] && echo ": $l"
}
for t in dnsperf kdig pgrep ss awk; do
	command -v "$t" >/dev/null || die "$t not found (run scripts/deps.sh)"
done
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
if [ "$NCPU" -ge 2 ] && command -v taskset >/dev/null; then
	SRV_PIN=(taskset -c 0)
	CLI_PIN=(taskset -c 1)
	PINNING="server on CPU 0, dnsperf on CPU 1 (taskset)"
else
	SRV_PIN=()
	CLI_PIN=()
	PINNING="none ($NCPU CPU or no taskset): figures are not comparable"
fi
case $BUILD in *san*) echo "bench: warning: $BUILD looks like a sanitizer build" >&2 ;; esac

TMP=$(mktemp -d /tmp/antidote-bench.XXXXXX)
declare -A PID PORT CMD NOTE LOGF
STARTED=()
cleanup() {
	local s
	for s in "${STARTED[@]}"; do
		[ -n "${PID[$s]:-}" ] && stop_tree "${PID[$s]}"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash bench/gen-zone.sh "$TMP" || die "zone generation failed"
ZONE=$TMP/bench.test.zone
QUERIES=$TMP/queries.txt
NQ=$(wc -l <"$QUERIES")
MIX=$(awk '{ if ($1 ~ /^nx/) t = "NXDOMAIN"; else t = $2; c[t]++ }
	END { for (t in c) printf "%s %.2f%%\n", t, 100 * c[t] / NR }' "$QUERIES" | sort | paste -sd, - | sed 's/,/, /g')
NXSHARE=$(awk '$1 ~ /^nx/ { n++ } END { printf "%.2f", 100 * n / NR }' "$QUERIES")
NNAMES=$(awk '$1 ~ /^h[0-9]/ && $3 == "A" { n++ } END { print n }' "$ZONE")

nports=0
for s in $SERVERS; do nports=$((nports + 1)); done
mapfile -t PORTS < <(pick_ports "$nports") || die "no free ports"

# --- server configurations -------------------------------------------------
write_nsd_conf() { # DIR PORT
	mkdir -p "$1"
	cat >"$1/nsd.conf" <<-EOF
	server:
	    ip-address: 127.0.0.1@$2
	    server-count: 1
	    username: ""
	    chroot: ""
	    zonesdir: "$1"
	    pidfile: "$1/nsd.pid"
	    xfrdfile: "$1/xfrd.state"
	    zonelistfile: "$1/zone.list"
	    database: ""
	    logfile: "$1/nsd.log"
	    verbosity: 0
	    do-ip6: no
	    rrl-ratelimit: 0
	    rrl-whitelist-ratelimit: 0
	remote-control:
	    control-enable: no
	zone:
	    name: "$ZONE_NAME"
	    zonefile: "$ZONE"
	EOF
}

write_knot_conf() { # DIR PORT
	mkdir -p "$1"
	cat >"$1/knot.conf" <<-EOF
	server:
	    rundir: "$1"
	    user: root:root
	    listen: 127.0.0.1@$2
	    udp-workers: 1
	    tcp-workers: 1
	    background-workers: 1
	database:
	    storage: "$1"
	log:
	  - target: stderr
	    any: warning
	template:
	  - id: default
	    storage: "$1"
	    journal-content: none
	    zonefile-sync: -1
	    zonefile-load: whole
	    semantic-checks: off
	zone:
	  - domain: $ZONE_NAME
	    file: "$ZONE"
	EOF
}

# --- start / probe ---------------------------------------------------------
probe() { # SERVER PORT -> 0 when it answers correctly
	local out
	if [ "$1" = echo ]; then
		kdig +retry=0 +timeout=1 @127.0.0.1 -p "$2" "$PROBE_NAME" A >/dev/null 2>&1
		return
	fi
	out=$(kdig +retry=0 +timeout=1 +short @127.0.0.1 -p "$2" "$PROBE_NAME" A 2>/dev/null)
	[ "$out" = "$PROBE_ADDR" ]
}

start_server() { # SERVER PORT
	local s=$1 port=$2 dir=$TMP/$1 cmd=()
	mkdir -p "$dir"
	case $s in
	antidote)
		[ -x "$ANTIDOTE" ] || { NOTE[$s]="not available ($ANTIDOTE not built)"; return 1; }
		cmd=("$ANTIDOTE" serve --listen "127.0.0.1:$port" --zone "$ZONE" --threads 1) ;;
	nsd)
		command -v nsd >/dev/null || { NOTE[$s]="not available (nsd not installed)"; return 1; }
		write_nsd_conf "$dir" "$port"
		cmd=(nsd -d -c "$dir/nsd.conf") ;;
	knot)
		command -v knotd >/dev/null || { NOTE[$s]="not available (knotd not installed)"; return 1; }
		write_knot_conf "$dir" "$port"
		cmd=(knotd -c "$dir/knot.conf") ;;
	echo)
		[ -x "$TOOLS/echo" ] || { NOTE[$s]="not available ($TOOLS/echo not built)"; return 1; }
		cmd=("$TOOLS/echo" 127.0.0.1 "$port") ;;
	*)
		NOTE[$s]="not available (unknown server)"; return 1 ;;
	esac
	LOGF[$s]=$dir/stderr.log
	"${SRV_PIN[@]}" "${cmd[@]}" >"${LOGF[$s]}" 2>&1 &
	PID[$s]=$!
	STARTED+=("$s")
	CMD[$s]="${SRV_PIN[*]}${SRV_PIN[*]:+ }${cmd[*]}"
	local deadline=$((SECONDS + 10))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if ! kill -0 "${PID[$s]}" 2>/dev/null; then
			wait "${PID[$s]}"
			NOTE[$s]="not available (exited with status $?$(tail_note "${LOGF[$s]}"))"
			PID[$s]=
			return 1
		fi
		probe "$s" "$port" && return 0
		sleep 0.1
	done
	NOTE[$s]="not available (no correct answer to $PROBE_NAME A within 10 s$(tail_note "${LOGF[$s]}"))"
	stop_tree "${PID[$s]}"
	PID[$s]=
	return 1
}

dnsperf_cmd() { # PORT SECONDS: the command line, for the report
	echo "${CLI_PIN[*]}${CLI_PIN[*]:+ }dnsperf -s 127.0.0.1 -p $1 -d $QUERIES -l $2 $DPARGS"
}
run_dnsperf() { # PORT SECONDS (bounded: dnsperf waits at most its 5 s query timeout)
	# shellcheck disable=SC2086
	timeout -k 5 $(($2 + 30)) "${CLI_PIN[@]}" dnsperf -s 127.0.0.1 -p "$1" -d "$QUERIES" -l "$2" $DPARGS
}


AVAIL=()
i=0
for s in $SERVERS; do
	PORT[$s]=${PORTS[$i]}
	i=$((i + 1))
	if start_server "$s" "${PORT[$s]}"; then
		AVAIL+=("$s")
		echo "bench: $s up on 127.0.0.1:${PORT[$s]} (pid ${PID[$s]})" >&2
	else
		echo "bench: $s: ${NOTE[$s]}" >&2
	fi
done

# --- runs --------------------------------------------------------------------
if [ "$WARMUP" -gt 0 ]; then
	for s in "${AVAIL[@]}"; do
		run_dnsperf "${PORT[$s]}" "$WARMUP" >/dev/null 2>&1
	done
fi

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A RAW QPS PCT US CPUPCT WARN
for s in "${AVAIL[@]}"; do RAW[$s]=; QPS[$s]=; PCT[$s]=; US[$s]=; CPUPCT[$s]=; done
for r in $(seq "$RUNS"); do
	for s in "${AVAIL[@]}"; do
		[ -n "${NOTE[$s]:-}" ] && continue
		out=$TMP/$s.run$r.txt
		t0=$(proc_tree_ticks "${PID[$s]}")
		run_dnsperf "${PORT[$s]}" "$SECONDS_PER_RUN" >"$out" 2>&1
		t1=$(proc_tree_ticks "${PID[$s]}")
		if ! kill -0 "${PID[$s]}" 2>/dev/null; then
			NOTE[$s]="died during run $r$(tail_note "${LOGF[$s]}")"
			echo "bench: $s ${NOTE[$s]}" >&2
			continue
		fi
		if ! read -r sent ok lost qps rt < <(parse_dnsperf "$out"); then
			NOTE[$s]="dnsperf failed in run $r$(tail_note "$out")"
			echo "bench: $s ${NOTE[$s]}" >&2
			continue
		fi
		ticks=$((t1 - t0))
		us=$(us_per_query "$ticks" "$HZ" "$ok")
		pct=$(awk -v c="$ok" -v s="$sent" 'BEGIN { printf "%.2f", (s > 0 ? 100 * c / s : 0) }')
		cpu=$(awk -v t="$ticks" -v hz="$HZ" -v rt="$rt" 'BEGIN { printf "%.0f", (rt > 0 ? 100 * t / hz / rt : 0) }')
		rc=$(dnsperf_rcodes "$out")
		bad=$(rcodes_check "$s" "$rc" "$NXSHARE")
		if [ -n "$bad" ]; then
			WARN[$s]="run $r: $bad"
			echo "bench: $s ${WARN[$s]}" >&2
		fi
		RAW[$s]+="| $s | $r | $sent | $ok | $lost | $(printf '%.0f' "$qps") | $ticks | $us | $cpu% | $rc |"$'\n'
		QPS[$s]+="$qps "
		PCT[$s]+="$pct "
		US[$s]+="$us "
		CPUPCT[$s]+="$cpu "
		printf 'bench: run %d %-8s %8.0f qps  %6s us/q  cpu %s%%  %s\n' "$r" "$s" "$qps" "$us" "$cpu" "$rc" >&2
	done
done

# --- report ------------------------------------------------------------------
# shellcheck disable=SC2086
floor=$( [ -n "${US[echo]:-}" ] && median ${US[echo]} || echo -)
model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
ver_nsd=$(nsd -v 2>&1 | head -n 1)
ver_knot=$(knotd -V 2>&1 | head -n 1)
ver_dnsperf=$(dnsperf -h 2>&1 | awk '/Version/ { print "dnsperf " $2; exit }')
[ -n "$ver_dnsperf" ] || ver_dnsperf=$(dnsperf -h 2>&1 | head -n 1)
ver_anti=${BENCH_ANTIDOTE_VERSION:-$(git describe --always --dirty 2>/dev/null || echo unknown)}
stamp=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

report() {
	echo "# antidote serve benchmark — $stamp"
	echo
	echo "- machine: $NCPU CPUs, $model, Linux $(uname -r)"
	echo "- versions: antidote $ver_anti; $ver_nsd; $ver_knot; $ver_dnsperf"
	echo "- zone: $ZONE_NAME, $NNAMES names (bench/gen-zone.sh); queries: $NQ lines, every name once: $MIX"
	echo "- load: $RUNS runs × ${SECONDS_PER_RUN} s per server (round robin, ${WARMUP} s warm-up), dnsperf $DPARGS; pinning: $PINNING"
	echo "- load average (1/5/15 min) before the runs: $LOAD0; after: $LOAD1 (other work on the machine is noise)"
	echo "- CPU: utime+stime of the server's process tree from /proc/PID/stat (CLK_TCK $HZ) sampled around each dnsperf run;"
	echo "  µs/query = CPU seconds × 1e6 / queries completed; × floor = server µs/query ÷ echo µs/query (the kernel's UDP cost)"
	echo
	echo "| server | qps (median) | completed | CPU µs/query (median) | × floor | server CPU busy |"
	echo "|---|---:|---:|---:|---:|---:|"
	local s q p u f c
	for s in $SERVERS; do
		if [ -z "${QPS[$s]:-}" ]; then
			echo "| $s | ${NOTE[$s]:-not available} | | | | |"
			continue
		fi
		# shellcheck disable=SC2086
		{ q=$(median ${QPS[$s]}); p=$(median ${PCT[$s]}); u=$(median ${US[$s]}); c=$(median ${CPUPCT[$s]}); }
		f=$(awk -v u="$u" -v fl="$floor" 'BEGIN { if (fl == "-" || fl + 0 <= 0) print "-"; else printf "%.2f", u / fl }')
		echo "| $s$([ "$s" = echo ] && echo ' (floor)') | $(printf '%.0f' "$q") | $p% | $(printf '%.2f' "$u") | $f | $c% |"
		[ -n "${NOTE[$s]:-}" ] && echo "| | ${NOTE[$s]} | | | | |"
		[ -n "${WARN[$s]:-}" ] && echo "| | ${WARN[$s]} | | | | |"
	done
	echo
	echo "dnsperf runs on one CPU: when a server's CPU busy is well below 100%, its qps is bounded by the client, not the"
	echo "server; CPU µs/query is the comparable figure."
	echo
	echo "## Per run"
	echo
	echo "| server | run | sent | completed | lost | qps | CPU ticks | µs/query | CPU busy | response codes |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
	for s in $SERVERS; do printf '%s' "${RAW[$s]:-}"; done
	echo
	echo "## Commands"
	echo
	echo '```'
	echo "bash bench/gen-zone.sh \$TMP   # \$TMP/bench.test.zone, \$TMP/queries.txt"
	for s in $SERVERS; do
		[ -n "${CMD[$s]:-}" ] && echo "${CMD[$s]}"
	done
	for s in $SERVERS; do
		[ -n "${CMD[$s]:-}" ] && echo "$(dnsperf_cmd "${PORT[$s]}" "$SECONDS_PER_RUN")   # $s"
	done
	echo '```'
	for f in nsd/nsd.conf knot/knot.conf; do
		[ -f "$TMP/$f" ] || continue
		echo
		echo "$f:"
		echo
		echo '```'
		cat "$TMP/$f"
		echo '```'
	done
}

mkdir -p "$RESULTS"
OUTFILE=$RESULTS/serve-$(date -u +%F).md
report | sed "s|$TMP|\$TMP|g" | tee "$OUTFILE"
echo "bench: report written to $OUTFILE" >&2
