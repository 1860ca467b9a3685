#!/usr/bin/env bash
# resolve_bench — dnsperf against caching resolvers side by side: antidote
# resolve, Unbound, dnsmasq, PowerDNS Recursor, Knot Resolver, each
# forwarding to the same local authoritative (antidote serve with
# bench/gen-zone.sh's zone plus a wildcard), and the echo floor.
#
# Workloads:
#   cached    queries.txt of gen-zone.sh (10,500 lines, 10,000 names, 4.8%
#             NXDOMAIN), every answer already cached (one full pass first);
#   uncached  every query a new name under the wildcard *.wild.bench.test
#             (files of unique names per run): one upstream query each.
# For 1 and 2 workers (dnsmasq has one thread: 1 only). Per run: qps,
# completion, latency average and p99 (dnsperf -v per-query latencies,
# histogram in awk), server CPU µs per query (utime+stime of the process
# tree around the run, as bench/run.sh), RSS after the run. The echo floor
# is measured in every cached round (round robin with the resolvers). With 1 worker
# the resolver is pinned to CPU 0 and dnsperf and the authority to CPU 1;
# with 2 workers the resolver may use both CPUs (and shares them).
# Then "1M names": antidote resolve (1 worker) is fed 1,000,000 unique
# names and its RSS and cache entry count are read.
#
# Environment: BUILD, ANTIDOTE, TOOLS as bench/run.sh; BENCH_SECONDS (per
# run, default 10), BENCH_RUNS (default 2), BENCH_WORKERS (default "1 2"),
# BENCH_RESOLVERS (default "antidote unbound dnsmasq pdns knot"),
# BENCH_DNSPERF_ARGS (default "-c 4 -q 200"), BENCH_MILLION (1: run the 1M
# names part, default 1), BENCH_RESULTS (default bench/results).
# Output: Markdown to stdout and BENCH_RESULTS/resolve-DATE.md.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh

BUILD=${BUILD:-build}
ANTIDOTE=${ANTIDOTE:-$BUILD/antidote}
TOOLS=${TOOLS:-$BUILD/tools}
SECS=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-2}
WORKERS=${BENCH_WORKERS:-1 2}
RESOLVERS=${BENCH_RESOLVERS:-antidote unbound dnsmasq pdns knot}
DPARGS=${BENCH_DNSPERF_ARGS:--c 4 -q 200}
MILLION=${BENCH_MILLION:-1}
RESULTS=${BENCH_RESULTS:-bench/results}
HZ=$(getconf CLK_TCK)

die() { echo "resolve_bench: $*" >&2; exit 1; }
for t in dnsperf kdig pgrep ss awk taskset; do
	command -v "$t" >/dev/null || die "$t not found (run scripts/deps.sh)"
done
[ -x "$ANTIDOTE" ] || die "$ANTIDOTE not built"

TMP=$(mktemp -d /tmp/antidote-rbench.XXXXXX)
declare -A PID CMD NOTE
RUNNING=()
cleanup() {
	local p
	for p in "${RUNNING[@]}"; do stop_tree "$p"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash bench/gen-zone.sh "$TMP" >/dev/null || die "zone generation failed"
printf '*.wild\t3600\tIN\tA\t198.19.0.1\n' >>"$TMP/bench.test.zone"
CACHED=$TMP/queries.txt
mkunc() { # FILE PREFIX N
	awk -v p="$2" -v n="$3" 'BEGIN { for (i = 0; i < n; i++) printf "%s%d.wild.bench.test. A\n", p, i }' >"$1"
}

rss_kib() { # PID: VmRSS summed over the tree
	local sum=0 p v
	for p in $(proc_tree_pids "$1"); do
		v=$(awk '/^VmRSS:/ { print $2 }' /proc/"$p"/status 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

wait_answer() { # PORT PID NAME: until NAME A is answered NOERROR (15 s)
	local i
	for ((i = 0; i < 150; i++)); do
		kill -0 "$2" 2>/dev/null || return 1
		kdig +retry=0 +timeout=1 @127.0.0.1 -p "$1" "$3" A 2>/dev/null | has 'status: NOERROR' && return 0
		sleep 0.1
	done
	return 1
}

start() { # NAME PIN CMD... : runs it, records PID
	local name=$1 pin=$2; shift 2
	taskset -c "$pin" "$@" >"$TMP/$name.log" 2>&1 </dev/null &
	PID[$name]=$!
	RUNNING+=("$!")
	CMD[$name]="taskset -c $pin $*"
}

stop() { # NAME
	[ -n "${PID[$1]:-}" ] && stop_tree "${PID[$1]}"
	PID[$1]=
}

# --- configurations ----------------------------------------------------------
conf_resolver() { # NAME WORKERS PORT AUTHPORT -> prints the command line (writes configs)
	local s=$1 w=$2 port=$3 ap=$4 dir=$TMP/$1-$2
	mkdir -p "$dir"
	case $s in
	antidote)
		echo "$ANTIDOTE resolve --listen 127.0.0.1:$port --upstream 127.0.0.1:$ap --threads $w --cache-size 256M --quiet" ;;
	unbound)
		command -v unbound >/dev/null || return 1
		cat >"$dir/unbound.conf" <<-EOF
		server:
		    interface: 127.0.0.1@$port
		    num-threads: $w
		    so-reuseport: yes
		    do-daemonize: no
		    chroot: ""
		    username: ""
		    directory: "$dir"
		    pidfile: "$dir/unbound.pid"
		    use-syslog: no
		    logfile: ""
		    verbosity: 0
		    do-ip6: no
		    do-not-query-localhost: no
		    module-config: "iterator"
		    access-control: 127.0.0.0/8 allow
		    local-zone: "test." nodefault
		    msg-cache-size: 64m
		    rrset-cache-size: 128m
		    outgoing-range: 4096
		    num-queries-per-thread: 2048
		remote-control:
		    control-enable: no
		forward-zone:
		    name: "."
		    forward-addr: 127.0.0.1@$ap
		EOF
		echo "unbound -d -c $dir/unbound.conf" ;;
	dnsmasq)
		command -v dnsmasq >/dev/null || return 1
		[ "$w" = 1 ] || return 2
		echo "dnsmasq -k --no-resolv --no-hosts --no-poll --user=root --pid-file=$dir/dnsmasq.pid --port=$port --listen-address=127.0.0.1 --bind-interfaces --server=127.0.0.1#$ap --cache-size=150000 --dns-forward-max=4096 --log-facility=-" ;;
	pdns)
		command -v pdns_recursor >/dev/null || return 1
		# root hints pointing at loopback: no priming traffic leaves the machine
		printf '.\t3600000\tIN\tNS\ta.root.invalid.\na.root.invalid.\t3600000\tIN\tA\t127.0.0.1\n' >"$dir/hints"
		: >"$dir/recursor.conf"
		echo "pdns_recursor --config-dir=$dir --socket-dir=$dir --daemon=no --local-address=127.0.0.1 --local-port=$port --forward-zones=.=127.0.0.1:$ap --threads=$w --pdns-distributes-queries=no --reuseport=yes --allow-from=127.0.0.0/8 --dnssec=off --security-poll-suffix= --hint-file=$dir/hints --max-cache-entries=2000000 --max-packetcache-entries=2000000 --disable-syslog=yes --loglevel=3 --quiet=yes" ;;
	knot)
		command -v kresd >/dev/null || return 1
		cat >"$dir/kresd.conf" <<-EOF
		net.listen('127.0.0.1', $port, { kind = 'dns' })
		modules.unload('priming')
		modules.unload('detect_time_skew')
		modules.unload('detect_time_jump')
		modules.unload('ta_signal_query')
		trust_anchors.remove('.')
		cache.size = 256 * MB
		policy.add(policy.all(policy.STUB({ '127.0.0.1@$ap' })))
		EOF
		mkdir -p "$dir/run"
		local i cmd=""
		for ((i = 0; i < w; i++)); do cmd+="kresd -n -q -c $dir/kresd.conf $dir/run & "; done
		echo "bash -c '${cmd}wait'" ;;
	*) return 1 ;;
	esac
}

# --- one measured run ----------------------------------------------------------
# dnsperf -v: per-query lines "> RCODE NAME TYPE SECONDS"; awk keeps a 10 µs
# histogram and passes the summary through, adding "Latency p99 (us): N".
dnsperf_lat() { # PORT FILE SECONDS EXTRA...
	local port=$1 file=$2 secs=$3; shift 3
	# shellcheck disable=SC2086
	timeout -k 5 $((secs + 30)) taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$file" -l "$secs" $DPARGS "$@" -v 2>&1 |
		awk '/^> / { us = $NF * 1e6; b = int(us / 10); h[b]++; n++; sum += us; next }
			{ print }
			END {
				if (n == 0) exit
				want = n * 0.99; c = 0
				for (i = 0; ; i++) { c += h[i]; if (c >= want) break }
				printf "Latency avg (us): %.1f\nLatency p99 (us): %d\n", sum / n, (i + 1) * 10
			}'
}

ROWS=()
measure() { # LABEL(server) WORKERS WORKLOAD PORT FILE RUN
	local s=$1 w=$2 wl=$3 port=$4 file=$5 r=$6 out t0 t1
	out=$TMP/out.$s.$w.$wl.$r
	t0=$(proc_tree_ticks "${PID[$s]}")
	dnsperf_lat "$port" "$file" "$SECS" >"$out"
	t1=$(proc_tree_ticks "${PID[$s]}")
	if ! kill -0 "${PID[$s]}" 2>/dev/null; then
		ROWS+=("| $s | $w | $wl | $r | died | | | | | | | |")
		return
	fi
	local sent ok lost qps rt
	if ! read -r sent ok lost qps rt < <(parse_dnsperf "$out"); then
		ROWS+=("| $s | $w | $wl | $r | dnsperf failed | | | | | | | |")
		return
	fi
	local avg p99 us rss rc
	avg=$(awk -F': ' '/Latency avg/ { print $2 }' "$out")
	p99=$(awk -F': ' '/Latency p99/ { print $2 }' "$out")
	us=$(us_per_query $((t1 - t0)) "$HZ" "$ok")
	rss=$(rss_kib "${PID[$s]}")
	rc=$(dnsperf_rcodes "$out")
	ROWS+=("| $s | $w | $wl | $r | $(printf '%.0f' "$qps") | $(awk -v c="$ok" -v s="$sent" 'BEGIN { printf "%.2f%%", s ? 100 * c / s : 0 }') | $avg | $p99 | $us | $((rss / 1024)) | $rc |")
	printf 'resolve_bench: %-8s w=%s %-8s run %s: %8.0f qps  avg %s us  p99 %s us  %s us/q  rss %s MiB\n' \
		"$s" "$w" "$wl" "$r" "$qps" "$avg" "$p99" "$us" "$((rss / 1024))" >&2
	echo "$s $w $wl $r $qps $us $avg $p99" >>"$TMP/summary"
}

: >"$TMP/summary"
mapfile -t PORTS < <(pick_ports 8) || die "no free ports"
AUTH_PORT=${PORTS[0]}
start auth 1 "$ANTIDOTE" serve --listen "127.0.0.1:$AUTH_PORT" --zone "$TMP/bench.test.zone" --threads 1 --quiet
wait_answer "$AUTH_PORT" "${PID[auth]}" h1.bench.test. || die "authority did not start: $(tail -3 "$TMP/auth.log")"

# --- echo floor ----------------------------------------------------------------
ECHO_PORT=${PORTS[1]}
if [ -x "$TOOLS/echo" ]; then
	# kept running: measured in every cached round, next to the resolvers
	start echo 0 "$TOOLS/echo" 127.0.0.1 "$ECHO_PORT"
	sleep 0.3
fi

for w in $WORKERS; do
	pin=0
	[ "$w" -gt 1 ] && pin=0-$((w - 1))
	i=2
	UP=()
	declare -A RPORT=()
	for s in $RESOLVERS; do
		port=${PORTS[$i]}
		i=$((i + 1))
		cmd=$(conf_resolver "$s" "$w" "$port" "$AUTH_PORT")
		case $? in
		0) ;;
		2) NOTE[$s.$w]="single-threaded"; continue ;;
		*) NOTE[$s.$w]="not installed"; echo "resolve_bench: $s not available" >&2; continue ;;
		esac
		# shellcheck disable=SC2086
		eval "start $s $pin $cmd"
		if ! wait_answer "$port" "${PID[$s]}" h1.bench.test.; then
			NOTE[$s.$w]="did not start: $(tail -n 2 "$TMP/$s.log" | tr '\n|' '  ')"
			echo "resolve_bench: $s ${NOTE[$s.$w]}" >&2
			stop "$s"
			continue
		fi
		RPORT[$s]=$port
		UP+=("$s")
	done
	# warm: one full pass over the cached file
	for s in "${UP[@]}"; do
		taskset -c 1 dnsperf -s 127.0.0.1 -p "${RPORT[$s]}" -d "$CACHED" -n 1 -q 100 >/dev/null 2>&1
	done
	for r in $(seq "$RUNS"); do
		[ -n "${PID[echo]:-}" ] && measure echo 1 cached "$ECHO_PORT" "$CACHED" "$r"
		for s in "${UP[@]}"; do measure "$s" "$w" cached "${RPORT[$s]}" "$CACHED" "$r"; done
	done
	for r in $(seq "$RUNS"); do
		f=$TMP/unc.$w.$r
		mkunc "$f" "w${w}r${r}n" 1500000
		for s in "${UP[@]}"; do measure "$s" "$w" uncached "${RPORT[$s]}" "$f" "$r"; done
		rm -f "$f"
	done
	for s in "${UP[@]}"; do stop "$s"; done
done

stop echo

# --- 1,000,000 cached names ------------------------------------------------------
MILLION_LINE="not run"
if [ "$MILLION" = 1 ]; then
	port=${PORTS[7]}
	start million 0 "$ANTIDOTE" resolve --listen "127.0.0.1:$port" --upstream "127.0.0.1:$AUTH_PORT" --threads 1 --cache-size 512M --quiet
	if wait_answer "$port" "${PID[million]}" h1.bench.test.; then
		rss0=$(rss_kib "${PID[million]}")
		mkunc "$TMP/million" m 1000000
		t0=$SECONDS
		taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$TMP/million" -n 1 -q 500 -t 10 >"$TMP/million.out" 2>&1
		rss1=$(rss_kib "${PID[million]}")
		kill -USR1 "${PID[million]}"
		sleep 1
		ent=$(grep '^resolve: cache:' "$TMP/million.log" | tail -n 1 | grep -Eo 'entries=[0-9]+' | cut -d= -f2)
		bytes=$(grep '^resolve: cache:' "$TMP/million.log" | tail -n 1 | grep -Eo ' bytes=[0-9]+' | cut -d= -f2)
		read -r sent ok lost qps rt < <(parse_dnsperf "$TMP/million.out")
		MILLION_LINE="1,000,000 unique names sent in $((SECONDS - t0)) s ($ok answered, ~$(printf '%.0f' "$qps") qps uncached): cache entries $ent, cache bytes $((bytes / 1048576)) MiB, RSS $((rss0 / 1024)) MiB before, $((rss1 / 1024)) MiB after"
	else
		MILLION_LINE="antidote resolve did not start"
	fi
	stop million
fi

# --- report -------------------------------------------------------------------------
median_of() { # SERVER WORKERS WORKLOAD COLUMN(5 qps, 6 us, 7 avg, 8 p99)
	# shellcheck disable=SC2046
	median $(awk -v s="$1" -v w="$2" -v l="$3" -v c="$4" '$1 == s && $2 == w && $3 == l { print $c }' "$TMP/summary")
}
floor=$(median_of echo 1 cached 6)
stamp=$(date -u '+%Y-%m-%d %H:%M UTC')
ver() {
	case $1 in
	antidote) echo "antidote $(git describe --always --dirty 2>/dev/null)" ;;
	unbound) unbound -V 2>/dev/null | head -n 1 ;;
	dnsmasq) dnsmasq --version 2>/dev/null | head -n 1 | awk '{ print $1, $2, $3 }' ;;
	pdns) pdns_recursor --version 2>&1 | grep -m1 -Eo 'PowerDNS Recursor [0-9.]+' ;;
	knot) kresd --version 2>/dev/null | head -n 1 ;;
	esac
}
report() {
	echo "# antidote resolve benchmark — $stamp"
	echo
	echo "- machine: $(nproc) CPUs, $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r)"
	echo "- versions: $(for s in $RESOLVERS; do printf '%s; ' "$(ver "$s")"; done)$(dnsperf -h 2>&1 | awk '/Version/ { print "dnsperf " $2; exit }')"
	echo "- authority: antidote serve, bench.test (bench/gen-zone.sh, 10,000 names) + \`*.wild 3600 A\`, 1 thread on CPU 1"
	echo "- load: dnsperf $DPARGS on CPU 1, $RUNS runs × $SECS s per server and workload; cached = queries.txt (10,500 lines, warm);"
	echo "  uncached = a new name under the wildcard for every query (one upstream query each)"
	echo "- 1 worker: resolver on CPU 0; 2 workers: resolver on CPUs 0-1 (shared with dnsperf and the authority)"
	echo "- CPU: utime+stime of the process tree (/proc/PID/stat) around each run ÷ queries completed; × floor = ÷ echo floor (same run)"
	echo "- latency: dnsperf -v per-query latency (client side, includes dnsperf's own queueing), 10 µs histogram"
	echo
	echo "## Medians"
	echo
	echo "| resolver | workers | workload | qps | CPU µs/query | × floor | latency avg µs | p99 µs |"
	echo "|---|---:|---|---:|---:|---:|---:|---:|"
	[ -n "$floor" ] && [ "$floor" != - ] &&
		echo "| echo (floor) | 1 | cached | $(printf '%.0f' "$(median_of echo 1 cached 5)") | $floor | 1.00 | $(median_of echo 1 cached 7) | $(median_of echo 1 cached 8) |"
	local w l s u
	for w in $WORKERS; do
		for l in cached uncached; do
			for s in $RESOLVERS; do
				if [ -n "${NOTE[$s.$w]:-}" ]; then
					[ "$l" = cached ] && echo "| $s | $w | | ${NOTE[$s.$w]} | | | | |"
					continue
				fi
				u=$(median_of "$s" "$w" "$l" 6)
				[ "$u" = - ] && continue
				echo "| $s | $w | $l | $(printf '%.0f' "$(median_of "$s" "$w" "$l" 5)") | $u | $(awk -v u="$u" -v f="$floor" 'BEGIN { if (f + 0 > 0) printf "%.2f", u / f; else print "-" }') | $(median_of "$s" "$w" "$l" 7) | $(median_of "$s" "$w" "$l" 8) |"
			done
		done
	done
	echo
	echo "**1M names**: $MILLION_LINE"
	echo
	echo "## Per run"
	echo
	echo "| resolver | workers | workload | run | qps | completed | lat avg µs | p99 µs | CPU µs/q | RSS MiB | rcodes |"
	echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "## Commands"
	echo
	echo '```'
	echo "bash bench/gen-zone.sh \$TMP; printf '*.wild\\t3600\\tIN\\tA\\t198.19.0.1\\n' >>\$TMP/bench.test.zone"
	for s in auth echo $RESOLVERS million; do [ -n "${CMD[$s]:-}" ] && echo "${CMD[$s]}"; done
	echo "taskset -c 1 dnsperf -s 127.0.0.1 -p PORT -d FILE -l $SECS $DPARGS -v   # FILE: queries.txt or unique wildcard names"
	echo '```'
	local f
	for f in "$TMP"/unbound-1/unbound.conf "$TMP"/knot-1/kresd.conf; do
		[ -f "$f" ] || continue
		echo
		echo "$(basename "$f"):"
		echo '```'
		cat "$f"
		echo '```'
	done
}
mkdir -p "$RESULTS"
OUT=$RESULTS/resolve-$(date -u +%F).md
report | sed "s|$TMP|\$TMP|g" | tee "$OUT"
echo "resolve_bench: report written to $OUT" >&2
