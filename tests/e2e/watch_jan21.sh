#!/usr/bin/env bash
# watch_jan21 — `antidote watch` catching incidents on loopback:
#  1. jan21: canaries asked through an `antidote inject --profile jan21`
#     relay in front of `antidote serve` (steady gfw injection of a blocked
#     base, then a fault window in which every .com/.net/.org name is
#     answered 65.49.2.178): one hijack incident, raised within 2 s of the
#     fault's start, cleared after its end, nothing else; steady gfw
#     injection alone raises nothing; Prometheus text at GET /metrics;
#     --exit-on-incident exits 3.
#  2. cn outage (when dnsmasq is installed): dnsmasq routes .cn to a second
#     `antidote serve` that gets SIGSTOPped: one tld-outage incident for
#     "cn", raised while it is stopped and cleared after SIGCONT.
# WATCH_STEADY=S runs an extra steady-state check of S seconds (the
# acceptance asks for 600) and fails on any incident.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init

now() { date +%s.%N; }
mkzone() { # TLD ADDR
	cat >"$E2E_TMP/$1.zone" <<Z
\$ORIGIN $1.
\$TTL 300
@	IN SOA	ns1.$1. hostmaster.$1. 1 7200 3600 1209600 300
@	IN NS	ns1.$1.
ns1	IN A	192.0.2.53
*	IN A	$2
Z
}
mkzone com 192.0.2.10
mkzone net 192.0.2.11
mkzone org 192.0.2.12
mkzone cn 192.0.2.13
server_start antidote AUTH "com=$E2E_TMP/com.zone" "net=$E2E_TMP/net.zone" "org=$E2E_TMP/org.zone" \
	"cn=$E2E_TMP/cn.zone" || { fail "antidote serve did not start"; e2e_finish; }

# canaries: fresh random labels under unrelated bases (no cache anywhere),
# a few fixed names, .cn ones (untouched by jan21), and a blocked base
{
	for i in 1 2 3 4 5 6; do echo "*.site$i.com"; echo "*.site$i.net"; echo "*.site$i.org"; echo "*.site$i.cn"; done
	echo "www.fixed.com"
	echo "www.fixed.cn"
	echo "*.blocked.com"
	echo "www.blocked.com"
} >"$E2E_TMP/canaries"
echo '*.blocked.com' >"$E2E_TMP/rules"

relay_start() { # FORWARD_PORT ARGS... -> RELAY_PORT RELAY_PID RELAY_T0
	local fwd=$1 try port pid
	shift
	for try in 1 2 3 4 5; do
		port=$(pick_port) || return 1
		RELAY_T0=$(now)
		"$ANTIDOTE" inject --listen "127.0.0.1:$port" --forward "127.0.0.1:$fwd" --rules "$E2E_TMP/rules" \
			--delay 5 "$@" >"$E2E_TMP/relay.out" 2>"$E2E_TMP/relay.err" </dev/null &
		pid=$!
		E2E_PIDS+=("$pid")
		if wait_bound "$port" "$pid"; then
			RELAY_PORT=$port RELAY_PID=$pid
			return 0
		fi
	done
	return 1
}

# ---- 1. jan21: fault at 5 s for 5 s after the relay starts
START_MS=5000 LEN_MS=5000
relay_start "$AUTH_PORT" --profile jan21 --jan21-start $START_MS --jan21-duration $LEN_MS --jan21-ttl 5 \
	--log "$E2E_TMP/truth.jsonl" || { fail "relay did not start"; e2e_finish; }
MPORT=$(pick_port)
"$ANTIDOTE" watch --canaries "$E2E_TMP/canaries" --resolver "127.0.0.1:$RELAY_PORT" --interval 0.25 --timeout 300 \
	--duration 15 --metrics "127.0.0.1:$MPORT" --verbose >"$E2E_TMP/w1.jsonl" 2>"$E2E_TMP/w1.err" &
WPID=$!
E2E_PIDS+=("$WPID")
# scrape /metrics during the fault (5 s to 10 s after the relay's start)
# until it shows the hijack, at most until 9.5 s
sleep 5
while [ "$(echo "$(now) < $RELAY_T0 + 9.5" | bc -l)" = 1 ]; do
	curl -s "http://127.0.0.1:$MPORT/metrics" >"$E2E_TMP/metrics1" || true
	grep -q '^antidote_watch_incidents_active{kind="hijack"} 1' "$E2E_TMP/metrics1" && break
	sleep 0.2
done
curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/nope" >"$E2E_TMP/metrics404" || true
wait "$WPID"
rc=$?
kill "$RELAY_PID" 2>/dev/null
wait "$RELAY_PID" 2>/dev/null
cat "$E2E_TMP/w1.jsonl" | sed 's/^/# /'
[ $rc -eq 0 ] && pass "watch --duration exits 0" || fail "watch exit $rc: $(tail -3 "$E2E_TMP/w1.err")"
grep -q '"event":"ready"' "$E2E_TMP/w1.jsonl" && pass "ready after learning" || fail "no ready event"
nr=$(grep -c '"event":"raise"' "$E2E_TMP/w1.jsonl")
nh=$(grep '"event":"raise"' "$E2E_TMP/w1.jsonl" | grep -c '"kind":"hijack","t":[0-9.]*,"round":[0-9]*,"address":"65.49.2.178"')
[ "$nr" -eq 1 ] && [ "$nh" -eq 1 ] && pass "one incident: hijack by 65.49.2.178" || fail "$nr incidents raised, $nh hijack by 65.49.2.178"
traise=$(grep '"event":"raise"' "$E2E_TMP/w1.jsonl" | head -1 | sed 's/.*"t":\([0-9.]*\).*/\1/')
tclear=$(grep '"event":"clear"' "$E2E_TMP/w1.jsonl" | head -1 | sed 's/.*"t":\([0-9.]*\).*/\1/')
fs=$(echo "$RELAY_T0 + $START_MS / 1000" | bc -l) fe=$(echo "$RELAY_T0 + ($START_MS + $LEN_MS) / 1000" | bc -l)
if [ -n "$traise" ]; then
	ttd=$(echo "$traise - $fs" | bc -l)
	echo "# time to detect: $ttd s (upper bound: the relay's epoch is a little after its launch)"
	[ "$(echo "$ttd <= 2 && $ttd > 0" | bc -l)" = 1 ] && pass "raised $(printf %.2f "$ttd") s after the fault's start (<= 2 s)" ||
		fail "raised $ttd s after the fault's start"
fi
if [ -n "$tclear" ]; then
	ttc=$(echo "$tclear - $fe" | bc -l)
	echo "# time to clear: $ttc s after the fault's end"
	[ "$(echo "$ttc > -0.5 && $ttc <= 3" | bc -l)" = 1 ] && pass "cleared $(printf %.2f "$ttc") s after the fault's end" ||
		fail "cleared $ttc s after the fault's end"
else
	fail "incident never cleared"
fi
grep -q '^antidote_watch_incidents_active{kind="hijack"} 1' "$E2E_TMP/metrics1" &&
	grep -q '^# TYPE antidote_watch_rounds_total counter' "$E2E_TMP/metrics1" &&
	pass "GET /metrics during the fault: hijack active" || fail "metrics: $(head -c 300 "$E2E_TMP/metrics1")"
[ "$(cat "$E2E_TMP/metrics404")" = 404 ] && pass "other paths: 404" || fail "other path: $(cat "$E2E_TMP/metrics404")"
grep -q '"event":"stop"' "$E2E_TMP/w1.jsonl" && pass "stop line" || fail "no stop line"

# ---- steady state: gfw injection of *.blocked.com only, no incident
STEADY=${WATCH_STEADY:-12}
relay_start "$AUTH_PORT" --profile gfw || { fail "relay (gfw) did not start"; e2e_finish; }
"$ANTIDOTE" watch --canaries "$E2E_TMP/canaries" --resolver "127.0.0.1:$RELAY_PORT" --interval 0.25 --timeout 300 \
	--duration "$STEADY" >"$E2E_TMP/w2.jsonl" 2>"$E2E_TMP/w2.err"
kill "$RELAY_PID" 2>/dev/null
wait "$RELAY_PID" 2>/dev/null
rounds=$(sed -n 's/.*"event":"stop".*"rounds":\([0-9]*\).*/\1/p' "$E2E_TMP/w2.jsonl")
n=$(grep -c '"event":"raise"' "$E2E_TMP/w2.jsonl")
[ "$n" -eq 0 ] && [ "${rounds:-0}" -gt 10 ] && pass "steady gfw injection, $STEADY s ($rounds rounds): no incident" ||
	fail "steady state: $n incidents in ${rounds:-0} rounds: $(grep raise "$E2E_TMP/w2.jsonl" | head -2)"

# ---- --exit-on-incident
relay_start "$AUTH_PORT" --profile jan21 --jan21-start 2000 --jan21-duration 60000 ||
	{ fail "relay did not start"; e2e_finish; }
timeout 20 "$ANTIDOTE" watch --canaries "$E2E_TMP/canaries" --resolver "127.0.0.1:$RELAY_PORT" --interval 0.25 \
	--timeout 300 --exit-on-incident >"$E2E_TMP/w3.jsonl" 2>/dev/null
rc=$?
kill "$RELAY_PID" 2>/dev/null
wait "$RELAY_PID" 2>/dev/null
[ $rc -eq 3 ] && grep -q '"event":"raise"' "$E2E_TMP/w3.jsonl" && pass "--exit-on-incident: exit 3 after the raise" ||
	fail "--exit-on-incident: exit $rc"

# ---- 2. cn outage through dnsmasq
DNSMASQ=$(command -v dnsmasq || ls /usr/sbin/dnsmasq 2>/dev/null)
if [ -z "$DNSMASQ" ]; then
	pass "skipped the cn outage (dnsmasq not installed)"
else
	server_start antidote CN "cn=$E2E_TMP/cn.zone" || { fail "cn server did not start"; e2e_finish; }
	DPORT=$(pick_port)
	cat >"$E2E_TMP/dnsmasq.conf" <<C
port=$DPORT
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
user=root
group=root
pid-file=
cache-size=0
log-facility=-
server=/cn/127.0.0.1#$CN_PORT
server=127.0.0.1#$AUTH_PORT
C
	"$DNSMASQ" --keep-in-foreground --conf-file="$E2E_TMP/dnsmasq.conf" >"$E2E_TMP/dnsmasq.log" 2>&1 &
	E2E_PIDS+=("$!")
	sleep 0.5
	"$ANTIDOTE" watch --canaries "$E2E_TMP/canaries" --resolver "127.0.0.1:$DPORT" --interval 0.5 --timeout 400 \
		--retries 0 --duration 12 >"$E2E_TMP/w4.jsonl" 2>"$E2E_TMP/w4.err" &
	WPID=$!
	E2E_PIDS+=("$WPID")
	sleep 4
	kill -STOP "$CN_PID"
	t_stop=$(now)
	sleep 3
	kill -CONT "$CN_PID"
	t_cont=$(now)
	wait "$WPID"
	sed 's/^/# /' "$E2E_TMP/w4.jsonl"
	n=$(grep -c '"event":"raise"' "$E2E_TMP/w4.jsonl")
	ncn=$(grep '"event":"raise"' "$E2E_TMP/w4.jsonl" | grep -c '"kind":"tld-outage".*"tld":"cn"')
	[ "$n" -eq 1 ] && [ "$ncn" -eq 1 ] && pass "one incident: tld-outage for cn" || fail "$n incidents, $ncn cn outages"
	tr=$(grep '"event":"raise"' "$E2E_TMP/w4.jsonl" | head -1 | sed 's/.*"t":\([0-9.]*\).*/\1/')
	tc=$(grep '"event":"clear"' "$E2E_TMP/w4.jsonl" | head -1 | sed 's/.*"t":\([0-9.]*\).*/\1/')
	[ -n "$tr" ] && [ "$(echo "$tr - $t_stop <= 2" | bc -l)" = 1 ] &&
		pass "cn outage raised $(printf %.2f "$(echo "$tr - $t_stop" | bc -l)") s after SIGSTOP" || fail "cn outage raise time: $tr"
	[ -n "$tc" ] && [ "$(echo "$tc > $t_cont" | bc -l)" = 1 ] &&
		pass "cleared $(printf %.2f "$(echo "$tc - $t_cont" | bc -l)") s after SIGCONT" || fail "cn outage clear: $tc"
fi

# ---- usage
"$ANTIDOTE" watch --canaries "$E2E_TMP/canaries" >/dev/null 2>&1; [ $? -eq 2 ] && pass "no --resolver: exit 2" || fail "no --resolver"
"$ANTIDOTE" watch --canaries "$E2E_TMP/canaries" --resolver 127.0.0.1:1 --metrics 10.0.0.1:9 >/dev/null 2>&1
[ $? -eq 2 ] && pass "non-loopback --metrics refused" || fail "non-loopback --metrics accepted"
e2e_finish
