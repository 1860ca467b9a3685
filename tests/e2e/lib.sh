# lib.sh — shared helpers for the e2e scripts (source it; bash only).
#
# Provides: a private temp dir ($E2E_TMP) removed on exit, PASS/FAIL
# counters, free-port picking on 127.0.0.1, and starting/stopping DNS
# servers (nsd, knot, antidote) on a random port with an exit trap that stops
# every process started here (by pid, never by name).
#
#   e2e_init                        once, at the top of a script
#   pass MSG / fail MSG             print "PASS: MSG" / "FAIL: MSG" and count
#   e2e_finish                      print the totals; exit 1 if anything failed
#   pick_port                       echo a port free for both UDP and TCP
#   server_start KIND LABEL Z...    start KIND (nsd|knot|antidote) serving the
#                                   zones Z ("name=file"; for antidote, serve
#                                   options may follow the zones: "--rrl 20");
#                                   on success sets
#                                   ${LABEL}_PORT and ${LABEL}_PID and returns 0.
#                                   Retries with another port when the server
#                                   does not come up (a port may be busy).
#   server_stop LABEL               stop that server
#   wait_answers PORT PID ZONE      wait until PORT answers SOA for ZONE
#
# Environment: ANTIDOTE (default build/antidote), TOOLS (default
# build/tools), E2E_NSID (NSID every server is configured with), E2E_KEEP=1
# keeps $E2E_TMP for inspection.

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${ANTIDOTE:=$E2E_ROOT/build/antidote}"
: "${TOOLS:=$E2E_ROOT/build/tools}"
: "${E2E_NSID:=e2e-test}"
E2E_ZONES=$E2E_ROOT/tests/data/zones
E2E_PIDS=()
E2E_PASSED=0
E2E_FAILED=0

e2e_cleanup() {
	local pid
	for pid in "${E2E_PIDS[@]}"; do
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null
	done
	for pid in "${E2E_PIDS[@]}"; do
		[ -n "$pid" ] || continue
		local i
		for i in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	E2E_PIDS=()
	if [ -n "${E2E_TMP:-}" ] && [ -d "$E2E_TMP" ]; then
		if [ "${E2E_KEEP:-0}" = 1 ]; then
			echo "# kept $E2E_TMP" >&2
		else
			rm -rf "$E2E_TMP"
		fi
	fi
}

e2e_init() {
	E2E_TMP=$(mktemp -d /tmp/antidote-e2e.XXXXXX)
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
}

pass() { echo "PASS: $*"; E2E_PASSED=$((E2E_PASSED + 1)); }
fail() { echo "FAIL: $*"; E2E_FAILED=$((E2E_FAILED + 1)); }
# has [GREP-OPTIONS] PATTERN: whether stdin has a matching line, reading it to
# the end. `producer | grep -q` under pipefail is a race: grep -q exits at the
# first match, and a producer still writing dies of SIGPIPE (status 141), so
# the pipeline fails although the line was there (regression:
# grep_q_sigpipe_under_pipefail). grep -c counts every line instead.
has() { grep -c "$@" >/dev/null; }

e2e_finish() {
	echo "# $E2E_PASSED passed, $E2E_FAILED failed"
	[ "$E2E_FAILED" -eq 0 ]
	exit $?
}

# A port is free when nothing listens on it over TCP nor is bound over UDP.
port_free() {
	local p=$1
	[ -z "$(ss -Htuan "sport = :$p" 2>/dev/null)" ]
}

# Servers under test listen below the kernel's ephemeral port range. dig
# picks its source port at random from ip_local_port_range itself and
# connects its socket: when that port equals the server's, its query is
# delivered back to it (a connected socket outranks the server's) and dig
# reads its own query as the reply ("query response not set"), as
# serve_vs_nsd saw twice in CI. Regression test: serve_vs_nsd's port check.
port_range_low() {
	local lo
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ "${lo:-0}" -gt 12000 ] 2>/dev/null || lo=32768
	echo "$lo"
}

pick_port() {
	local p i lo
	lo=$(port_range_low)
	for i in $(seq 1 50); do
		p=$((10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000)))
		if port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# kv KEY LINE: the value of KEY=VALUE in a line of space-separated pairs
kv() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# inject_netns_up ARGS...: `antidote inject --netns --profile gfw` with the
# rule *.facebook.com and ARGS, waited for until "ready" (10 s); sets
# INJ_PID and the namespaces CL, BD, SV from its first output line
# ($E2E_TMP/inj.out; its stderr in inj.err). Root only.
inject_netns_up() {
	echo '*.facebook.com' >"$E2E_TMP/inj.rules"
	# the child truncates its output files only after the fork: a previous
	# run's "ready" could be read first (regression: stale_ready_after_fork)
	rm -f "$E2E_TMP/inj.out" "$E2E_TMP/inj.err"
	"$ANTIDOTE" inject --netns --profile gfw --rules "$E2E_TMP/inj.rules" "$@" \
		>"$E2E_TMP/inj.out" 2>"$E2E_TMP/inj.err" </dev/null &
	INJ_PID=$!
	E2E_PIDS+=("$INJ_PID")
	local line i
	for ((i = 0; i < 100; i++)); do
		grep -q 'ready' "$E2E_TMP/inj.err" 2>/dev/null && break
		kill -0 "$INJ_PID" 2>/dev/null || break
		sleep 0.1
	done
	line=$(head -1 "$E2E_TMP/inj.out")
	CL=$(kv client "$line") BD=$(kv border "$line") SV=$(kv server "$line")
	[ -n "$CL" ] && grep -q ready "$E2E_TMP/inj.err" && return 0
	# why not: still running, or how it ended (with its output)
	local st=running
	kill -0 "$INJ_PID" 2>/dev/null || { wait "$INJ_PID"; st="exited with status $?"; }
	echo "# inject --netns $*: not ready after ${i}x0.1 s, $st; stdout: $(tr '\n' ' ' <"$E2E_TMP/inj.out")" |
		tee -a "$E2E_TMP/inj.err"
	return 1
}

# wait_bound PORT [PID [NETNS]]: until a UDP socket is bound to PORT (up to
# 10 s; in network namespace NETNS if given), and PID (if given, non-empty)
# is still alive. For processes that print nothing when ready (the relay): a
# query sent before the bind draws an ICMP error, which a connected client
# socket reports on its next send.
wait_bound() {
	local i ns=()
	[ -n "${3:-}" ] && ns=(ip netns exec "$3")
	for ((i = 0; i < 100; i++)); do
		[ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null && return 1
		[ -n "$("${ns[@]}" ss -Hlun "sport = :$1" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_answers PORT PID ZONE [SECONDS]: 0 once PORT answers an SOA query for
# ZONE with any rcode; 1 if PID died or time ran out.
wait_answers() {
	local port=$1 pid=$2 zone=$3 secs=${4:-15} i
	for ((i = 0; i < secs * 5; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		if dig @127.0.0.1 -p "$port" "$zone" SOA +tries=1 +time=1 +norec 2>/dev/null |
			has 'status: NOERROR'; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# Writes the config for KIND into $dir and prints the command line to run.
server_cmd() {
	local kind=$1 dir=$2 port=$3; shift 3
	local z name file
	case $kind in
	nsd)
		{
			echo "server:"
			echo "  ip-address: 127.0.0.1@$port"
			echo "  port: $port"
			echo "  do-ip6: no"
			echo "  username: \"\""
			echo "  chroot: \"\""
			echo "  database: \"\""
			echo "  zonelistfile: \"$dir/zone.list\""
			echo "  xfrdfile: \"$dir/xfrd.state\""
			echo "  xfrdir: \"$dir\""
			echo "  pidfile: \"$dir/nsd.pid\""
			echo "  logfile: \"$dir/nsd.log\""
			echo "  server-count: 1"
			echo "  verbosity: 1"
			echo "  nsid: \"ascii_$E2E_NSID\""
			echo "  rrl-ratelimit: 0"
			echo "  rrl-whitelist-ratelimit: 0"
			echo "remote-control:"
			echo "  control-enable: no"
			for z in "$@"; do
				echo "zone:"
				echo "  name: \"${z%%=*}\""
				echo "  zonefile: \"${z#*=}\""
				echo "  provide-xfr: 127.0.0.1 NOKEY"
			done
		} >"$dir/nsd.conf"
		echo "nsd -d -c $dir/nsd.conf"
		;;
	knot)
		mkdir -p "$dir/db"
		{
			echo "server:"
			echo "  rundir: \"$dir\""
			echo "  listen: 127.0.0.1@$port"
			echo "  nsid: \"$E2E_NSID\""
			echo "  udp-workers: 1"
			echo "  tcp-workers: 1"
			echo "  background-workers: 1"
			echo "database:"
			echo "  storage: \"$dir/db\""
			echo "log:"
			echo "  - target: \"$dir/knot.log\""
			echo "    any: info"
			echo "acl:"
			echo "  - id: xfr"
			echo "    address: 127.0.0.1"
			echo "    action: transfer"
			echo "template:"
			echo "  - id: default"
			echo "    semantic-checks: off"
			echo "    zonefile-sync: -1"
			echo "    zonefile-load: whole"
			echo "    journal-content: none"
			echo "    acl: xfr"
			echo "zone:"
			for z in "$@"; do
				echo "  - domain: \"${z%%=*}\""
				echo "    file: \"${z#*=}\""
			done
		} >"$dir/knot.conf"
		echo "knotd -c $dir/knot.conf"
		;;
	antidote)
		# zones first; from the first argument starting with "--" on, serve
		# options passed as they are (values without spaces)
		local args="$ANTIDOTE serve --listen 127.0.0.1:$port --nsid $E2E_NSID" opts=0
		for z in "$@"; do
			[[ $z == --* ]] && opts=1
			if [ $opts = 1 ]; then
				args="$args $z"
			else
				args="$args --zone $z"
			fi
		done
		echo "$args"
		;;
	*)
		echo "server_cmd: unknown server kind $kind" >&2
		return 1
		;;
	esac
}

server_start() {
	local kind=$1 label=$2; shift 2
	local dir=$E2E_TMP/$label try port cmd pid first=${1%%=*}
	mkdir -p "$dir"
	for try in 1 2 3 4 5; do
		port=$(pick_port) || return 1
		cmd=$(server_cmd "$kind" "$dir" "$port" "$@") || return 1
		# shellcheck disable=SC2086
		$cmd >"$dir/stdout" 2>"$dir/stderr" </dev/null &
		pid=$!
		E2E_PIDS+=("$pid")
		if wait_answers "$port" "$pid" "$first" 15; then
			printf -v "${label}_PORT" '%s' "$port"
			printf -v "${label}_PID" '%s' "$pid"
			echo "# started $kind ($label) pid $pid on 127.0.0.1:$port"
			return 0
		fi
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		echo "# $kind did not come up on port $port (try $try):" >&2
		tail -5 "$dir/stderr" "$dir"/*.log 2>/dev/null >&2
		# A server that exits by itself for a reason other than a busy
		# port will do so again: give up early.
		if ! grep -qiE 'in use|bind|address' "$dir/stderr" "$dir"/*.log 2>/dev/null &&
			[ "$try" -ge 2 ]; then
			break
		fi
	done
	return 1
}

server_stop() {
	local label=$1 pidvar="${1}_PID" pid
	pid=${!pidvar:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	printf -v "$pidvar" '%s' ""
}

# The zones every e2e comparison loads, as "name=file".
e2e_zone_list() {
	echo "example.com=$E2E_ZONES/example.com.zone"
	echo "example.net=$E2E_ZONES/example.net.zone"
	echo "child.example.net=$E2E_ZONES/child.example.net.zone"
	echo "dnssec.test=$E2E_ZONES/dnssec.test.zone"
	echo "nsec3.test=$E2E_ZONES/nsec3.test.zone"
}
