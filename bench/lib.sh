# lib — helpers of bench/run.sh (sourced; also by tests/e2e/bench_smoke.sh).
# shellcheck shell=bash
#
# Pure bash + procps (pgrep) + awk; no perf. Functions print to stdout and
# return 0 unless noted.

# stat_line_ticks LINE: utime+stime (fields 14, 15, clock ticks) of one
# /proc/PID/stat line. Field 2 (comm) is parenthesised and may hold spaces
# and ')' itself, so counting starts after the last ") ".
# has [GREP-OPTIONS] PATTERN: whether stdin has a matching line, reading it to
# the end (`producer | grep -q` under pipefail fails when grep exits first
# and the producer dies of SIGPIPE).
has() { grep -c "$@" >/dev/null; }

stat_line_ticks() {
	local rest=${1##*) }
	# shellcheck disable=SC2086
	set -- $rest   # $1 is field 3 (state): field N is $((N-2))
	[ $# -ge 13 ] || return 1
	echo $(( ${12} + ${13} ))
}

# proc_tree_pids PID: PID and all its live descendants (NSD forks a main
# and a server child; threads are already included in a process's stat).
proc_tree_pids() {
	local p c
	for p in "$@"; do
		[ -d /proc/"$p" ] || continue
		echo "$p"
		for c in $(pgrep -P "$p" 2>/dev/null); do
			proc_tree_pids "$c"
		done
	done
}

# proc_tree_ticks PID: utime+stime summed over PID and its descendants.
proc_tree_ticks() {
	local sum=0 p line t
	for p in $(proc_tree_pids "$1"); do
		line=$(cat /proc/"$p"/stat 2>/dev/null) || continue
		t=$(stat_line_ticks "$line") || continue
		sum=$((sum + t))
	done
	echo "$sum"
}

# parse_dnsperf FILE: "sent completed lost qps runtime" from dnsperf's
# statistics; returns 1 when the figures are missing (dnsperf failed).
parse_dnsperf() {
	awk '
		/Queries sent:/       { s = $3 }
		/Queries completed:/  { c = $3 }
		/Queries lost:/       { l = $3 }
		/Queries per second:/ { q = $4 }
		/Run time \(s\):/     { r = $4 }
		END {
			if (s == "" || c == "" || q == "") exit 1
			if (l == "") l = s - c
			printf "%s %s %s %s %s\n", s, c, l, q, r
		}' "$1"
}

# dnsperf_rcodes FILE: "NOERROR=n NXDOMAIN=n ..." from the "Response codes:" line.
dnsperf_rcodes() {
	awk '/Response codes:/ {
		sub(/.*Response codes:[ \t]*/, "")
		n = split($0, a, /, */)
		out = ""
		for (i = 1; i <= n; i++) {
			split(a[i], f, " ")
			out = out (i > 1 ? " " : "") f[1] "=" f[2]
		}
		print out
	}' "$1"
}

# rcodes_check SERVER "NOERROR=n NXDOMAIN=n ..." NXPCT: nothing when the
# response codes fit the query mix (only NOERROR and NXDOMAIN, NXDOMAIN share
# within one point of NXPCT), else a note. The echo floor answers NOERROR only.
rcodes_check() {
	[ "$1" = echo ] && return 0
	awk -v want="$3" -v rc="$2" 'BEGIN {
		n = split(rc, a, " ")
		for (i = 1; i <= n; i++) {
			split(a[i], kv, "=")
			tot += kv[2]
			if (kv[1] == "NXDOMAIN") nx = kv[2]
			else if (kv[1] != "NOERROR") bad = bad " " a[i]
		}
		share = tot > 0 ? 100 * nx / tot : 0
		if (bad != "" || share < want - 1 || share > want + 1)
			printf "unexpected response codes:%s NXDOMAIN %.2f%% (want %.2f%%)\n", bad, share, want
	}'
}

# median V...: median of numbers (mean of the middle two for an even count);
# prints "-" for none.
median() {
	[ $# -gt 0 ] || { echo -; return 0; }
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; print m }'
}

# us_per_query TICKS CLK_TCK QUERIES: server CPU microseconds per query.
us_per_query() {
	awk -v t="$1" -v hz="$2" -v q="$3" 'BEGIN { if (q > 0) printf "%.3f\n", t / hz * 1e6 / q; else print "-" }'
}

# port_free PORT: true when nothing listens on UDP or TCP PORT (loopback).
port_free() {
	! ss -Htuln 2>/dev/null | awk '{ print $5 }' | has -E "[:.]$1\$"
}

# pick_ports N: N distinct free high ports, one per line.
# Below the kernel's ephemeral range, which clients (dig, dnsperf, resolvers'
# outgoing sockets) draw their source ports from (see tests/e2e/lib.sh).
pick_ports() {
	local n=$1 p tries=0 lo
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ "${lo:-0}" -gt 14000 ] 2>/dev/null || lo=32768
	p=$(( 10000 + (RANDOM * 7 + $$) % (lo - 12000) ))
	while [ "$n" -gt 0 ] && [ $tries -lt 2000 ]; do
		if port_free "$p"; then echo "$p"; n=$((n - 1)); fi
		p=$((p + 1)); tries=$((tries + 1))
	done
	[ "$n" -eq 0 ]
}

# stop_tree PID: SIGTERM the process and its descendants, SIGKILL what is
# left after ~3 s. Only ever called with PIDs this harness started.
stop_tree() {
	local pids
	pids=$(proc_tree_pids "$1")
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null
	for _ in $(seq 30); do
		# shellcheck disable=SC2086
		pids=$(proc_tree_pids $pids)
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null
	return 0
}
