#!/usr/bin/env bash
# bench_smoke — the `make bench` plumbing in a few seconds, echo floor only.
#
# Checks bench/lib.sh's parsers on canned input (a /proc/PID/stat line whose
# comm holds spaces and parentheses, a dnsperf report, medians), the echo
# program (reply = query with QR set, exit 0 on SIGTERM), the tree CPU
# sampler on a live process, then runs bench/run.sh with BENCH_SERVERS=echo
# for 1 s into a temp dir and checks the report's figures are numbers. No
# timing assertions. Needs dnsperf, kdig, pgrep, ss (scripts/deps.sh).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
: "${BUILD:=build}"
: "${TOOLS:=$ROOT/$BUILD/tools}"
. bench/lib.sh

passed=0 failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { # DESC EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (expected '$2', got '$3')"; fi
}
TMP=$(mktemp -d /tmp/bench-smoke.XXXXXX)
EPID=
cleanup() {
	[ -n "$EPID" ] && stop_tree "$EPID"
	rm -rf "$TMP"
}
trap cleanup EXIT

# --- parsers on canned input -----------------------------------------------
line='4242 (nsd: server 1) S 1 4242 4242 0 -1 4194560 1811 0 0 0 123 45 7 9 20 0 1 0 300 12345678 1000 18446744073709551615'
check "stat parser: comm with spaces" 168 "$(stat_line_ticks "$line")"
line='77 (a) b) (c) R 1 77 77 0 -1 0 0 0 0 0 1000 2 0 0 20 0 1 0 1 1 1'
check "stat parser: comm with ') '" 1002 "$(stat_line_ticks "$line")"
if stat_line_ticks '1 (x) S 1 2' >/dev/null; then fail "stat parser: short line rejected"; else pass "stat parser: short line rejected"; fi
self=$(stat_line_ticks "$(cat /proc/self/stat)")
[[ $self =~ ^[0-9]+$ ]] && pass "stat parser: live /proc/self/stat ($self ticks)" || fail "stat parser: live /proc/self/stat ('$self')"

# regression grep_q_sigpipe_under_pipefail: `producer | grep -q` fails under
# pipefail when grep exits at its first match and the producer, still
# writing, dies of SIGPIPE (CI: inject_netns_tcp6 reading `ip addr show`).
# has() reads to the end: a match followed by more output is still a match.
late() { printf 'first\n'; sleep 0.05; printf 'second\n'; }
late | has first && pass "has: match with output after it (no SIGPIPE)" || fail "has: SIGPIPE turned a match into a failure"
late | has absent && fail "has: matched an absent line" || pass "has: absent line is no match"

cat >"$TMP/dnsperf.out" <<'EOF'
DNS Performance Testing Tool
Version 2.10.0

[Status] Command line: dnsperf -s 127.0.0.1 -p 5300 -d q.txt -l 10
[Status] Sending queries (to 127.0.0.1:5300)
[Status] Testing complete (time limit)

Statistics:

  Queries sent:         1617431
  Queries completed:    1617290 (99.99%)
  Queries lost:         141 (0.01%)

  Response codes:       NOERROR 1540276 (95.24%), NXDOMAIN 77014 (4.76%)
  Average packet size:  request 32, response 48
  Run time (s):         10.000342
  Queries per second:   161723.469215

  Average Latency (s):  0.001187 (min 0.000013, max 0.012437)
  Latency StdDev (s):   0.000367
EOF
check "dnsperf parser: figures" "1617431 1617290 141 161723.469215 10.000342" "$(parse_dnsperf "$TMP/dnsperf.out")"
check "dnsperf parser: response codes" "NOERROR=1540276 NXDOMAIN=77014" "$(dnsperf_rcodes "$TMP/dnsperf.out")"
echo "Error: could not open q.txt" >"$TMP/bad.out"
if parse_dnsperf "$TMP/bad.out" >/dev/null; then fail "dnsperf parser: failure detected"; else pass "dnsperf parser: failure detected"; fi
check "rcodes_check: mix fits" "" "$(rcodes_check nsd "NOERROR=1540276 NXDOMAIN=77014" 4.76)"
check "rcodes_check: echo exempt" "" "$(rcodes_check echo "NOERROR=10" 4.76)"
case $(rcodes_check antidote "NOERROR=900 REFUSED=100" 4.76) in
*REFUSED=100*) pass "rcodes_check: flags REFUSED" ;;
*) fail "rcodes_check: flags REFUSED" ;;
esac
case $(rcodes_check knot "NOERROR=1000" 4.76) in
*"NXDOMAIN 0.00%"*) pass "rcodes_check: flags missing NXDOMAIN" ;;
*) fail "rcodes_check: flags missing NXDOMAIN" ;;
esac
check "median odd" 3 "$(median 5 1 3)"
check "median even" 2.5 "$(median 4 1 3 2)"
check "median of nothing" - "$(median)"
check "us_per_query" 5.000 "$(us_per_query 500 100 1000000)"

# --- zone generator ------------------------------------------------------------
bash bench/gen-zone.sh "$TMP/z" >/dev/null
check "zone: 10000 h names with A" 10000 "$(awk '$1 ~ /^h[0-9]/ && $3 == "A"' "$TMP/z/bench.test.zone" | wc -l)"
check "queries: 10500 lines" 10500 "$(wc -l <"$TMP/z/queries.txt")"
check "queries: 500 NXDOMAIN names" 500 "$(grep -c '^nx' "$TMP/z/queries.txt")"

# --- echo program ---------------------------------------------------------------
ECHO=$TOOLS/echo
if [ ! -x "$ECHO" ]; then
	fail "echo program built ($ECHO)"
else
	"$ECHO" >/dev/null 2>&1; check "echo: usage exits 2" 2 "$?"
	"$ECHO" 127.0.0.1 notaport >/dev/null 2>&1; check "echo: bad port exits 2" 2 "$?"
	for _ in 1 2 3 4 5; do
		port=$(pick_ports 1) || break
		"$ECHO" 127.0.0.1 "$port" 2>"$TMP/echo.err" &
		EPID=$!
		sleep 0.2
		kill -0 "$EPID" 2>/dev/null && break
		wait "$EPID"; EPID=
	done
	if [ -z "$EPID" ]; then
		fail "echo: starts ($(cat "$TMP/echo.err"))"
	else
		out=$(kdig +retry=0 +timeout=2 @127.0.0.1 -p "$port" h1.bench.test. A 2>&1)
		if grep -q 'Flags: qr' <<<"$out" && grep -q 'h1.bench.test.' <<<"$out"; then
			pass "echo: reply is the query with QR set"
		else
			fail "echo: reply ($out)"
		fi
		t=$(proc_tree_ticks "$EPID")
		[[ $t =~ ^[0-9]+$ ]] && pass "tree sampler on echo ($t ticks)" || fail "tree sampler on echo ('$t')"
		kill -TERM "$EPID"; wait "$EPID"; rc=$?; EPID=
		check "echo: exits 0 on SIGTERM" 0 "$rc"
	fi
fi

# --- the harness, echo only, 1 s -------------------------------------------------
BUILD=$BUILD TOOLS=$TOOLS BENCH_SERVERS=echo BENCH_SECONDS=1 BENCH_RUNS=1 BENCH_WARMUP=0 \
	BENCH_RESULTS="$TMP/results" bash bench/run.sh >"$TMP/run.out" 2>"$TMP/run.err"
rc=$?
check "run.sh exits 0" 0 "$rc"
report=$(ls "$TMP"/results/serve-*.md 2>/dev/null | head -n 1)
if [ -n "$report" ] && cmp -s "$report" "$TMP/run.out"; then
	pass "report written to results dir and stdout"
else
	fail "report file ($report) vs stdout"
fi
row=$(grep '^| echo (floor) |' "$TMP/run.out")
# | echo (floor) | qps | completed% | us | x floor | cpu% |
if [[ $row =~ ^\|\ echo\ \(floor\)\ \|\ ([0-9]+)\ \|\ ([0-9.]+)%\ \|\ ([0-9.]+)\ \|\ 1\.00\ \|\ ([0-9]+)%\ \|$ ]] &&
	[ "${BASH_REMATCH[1]}" -gt 0 ]; then
	pass "summary row: qps ${BASH_REMATCH[1]}, ${BASH_REMATCH[3]} us/q, floor 1.00"
else
	fail "summary row ('$row')"; cat "$TMP/run.err"
fi
raw=$(grep -E '^\| echo \| 1 \| [0-9]+ \| [0-9]+ \| [0-9]+ \| [0-9]+ \| [0-9]+ \| [0-9.]+ \| [0-9]+% \| NOERROR=[0-9]+ \|$' "$TMP/run.out")
[ -n "$raw" ] && pass "per-run row parsed: $raw" || fail "per-run row missing"
grep -Eq '^(taskset -c 1 )?dnsperf -s 127.0.0.1' "$TMP/run.out" && pass "commands recorded" || fail "commands recorded"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
