#!/usr/bin/env bash
# resolve_coalesce.sh — N identical concurrent client queries cost ONE
# upstream query (coalescing), across 2 workers, behind a slow upstream
# (antidote inject relay, 200 ms each way, in front of antidote serve);
# every waiter gets its own ID and its own question case back.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resolve_lib.bash"
e2e_init

server_start antidote ANT "$RES_ZONE" || { fail "antidote serve did not start"; e2e_finish; }
RELAY_PORT=$(pick_port)
"$ANTIDOTE" inject --listen "127.0.0.1:$RELAY_PORT" --forward "127.0.0.1:$ANT_PORT" --profile none --delay 200 \
	>"$E2E_TMP/relay.log" 2>&1 &
E2E_PIDS+=($!)
wait_bound "$RELAY_PORT" $! || { fail "relay did not start: $(cat "$E2E_TMP/relay.log")"; e2e_finish; }
UP=127.0.0.1:$RELAY_PORT
# a 400 ms round trip: the first query must not be retransmitted before its
# RTT is known (two upstream queries where the test expects one)
resolver_start R --upstream "$UP" --threads 2 --rto 3000 || { fail "resolver did not start"; e2e_finish; }

# 1. dnsperf: 200 identical queries, all outstanding at once
N=200
if command -v dnsperf >/dev/null; then
	for ((i = 0; i < N; i++)); do echo "same.wild.resolve.test A"; done >"$E2E_TMP/same.txt"
	resolver_stats R
	q0=$(stat_of R "upstream $UP:" queries)
	dnsperf -s 127.0.0.1 -p "$R_PORT" -d "$E2E_TMP/same.txt" -n 1 -q $N -c 4 -t 5 >"$E2E_TMP/dnsperf.txt" 2>&1
	resolver_stats R
	q1=$(stat_of R "upstream $UP:" queries)
	co=$(stat_of R "clients:" coalesced)
	done_n=$(awk '/Queries completed:/ { print $3 }' "$E2E_TMP/dnsperf.txt")
	grep "^resolve: clients:" "$R_LOG" | tail -n 1 | sed 's/^/# /'
	if [ "$done_n" = "$N" ] && [ $((q1 - q0)) -eq 1 ] && [ "${co:-0}" -ge $((N / 2)) ]; then
		pass "$N identical concurrent queries -> 1 upstream query ($co coalesced, the rest cache hits)"
	else
		fail "coalescing: completed $done_n/$N, upstream queries $((q1 - q0)), coalesced $co"
	fi
else
	echo "# dnsperf missing: skipping the dnsperf part"
fi

# 2. digs in parallel, each with its own case pattern
names=(CaSe.wild.resolve.test cAsE.WILD.resolve.test case.wild.RESOLVE.test CASE.wild.resolve.TEST
	cASe.wIld.ReSoLvE.tEsT Case.Wild.Resolve.Test caSE.wiLD.resolVE.teST CASE.WILD.RESOLVE.TEST)
resolver_stats R
q0=$(stat_of R "upstream $UP:" queries)
digs=()
for i in "${!names[@]}"; do
	dig @127.0.0.1 -p "$R_PORT" +tries=1 +time=3 "${names[$i]}" A +noall +question +answer +comments \
		>"$E2E_TMP/dig.$i" 2>&1 &
	digs+=($!)
done
wait "${digs[@]}"
ok=0
for i in "${!names[@]}"; do
	f=$E2E_TMP/dig.$i
	if grep -q "^;${names[$i]}.[[:space:]]" "$f" && grep -q "^${names[$i]}.[[:space:]].*192.0.2.99" "$f"; then
		ok=$((ok + 1))
	else
		echo "# ${names[$i]}: $(tr '\n' ' ' <"$f")"
	fi
done
resolver_stats R
q1=$(stat_of R "upstream $UP:" queries)
[ "$ok" -eq ${#names[@]} ] && pass "each waiter got its own question case back ($ok/${#names[@]})" ||
	fail "case per waiter: $ok/${#names[@]}"
[ $((q1 - q0)) -eq 1 ] && pass "8 case variants -> 1 upstream query" || fail "case variants: $((q1 - q0)) upstream queries"

# 3. different types / DO bits are different questions
resolver_stats R
q0=$(stat_of R "upstream $UP:" queries)
digs=()
dig @127.0.0.1 -p "$R_PORT" +tries=1 +time=3 other.wild.resolve.test A >/dev/null &
digs+=($!)
dig @127.0.0.1 -p "$R_PORT" +tries=1 +time=3 other.wild.resolve.test AAAA >/dev/null &
digs+=($!)
dig @127.0.0.1 -p "$R_PORT" +tries=1 +time=3 +dnssec other.wild.resolve.test A >/dev/null &
digs+=($!)
wait "${digs[@]}"
resolver_stats R
q1=$(stat_of R "upstream $UP:" queries)
[ $((q1 - q0)) -eq 3 ] && pass "A, AAAA and A+DO are 3 upstream questions" || fail "keys: $((q1 - q0)) upstream queries"
e2e_finish
