#!/usr/bin/env bash
# resolve_failover.sh — antidote resolve with two antidote serve upstreams:
# one stopped (SIGSTOP: timeouts) and later killed (ICMP unreachable) while
# a client asks new names one after another: every query answered, none
# slower than one retransmission timeout; then both killed: cached names
# still answered, expired ones from stale data (RFC 8767, TTL 30, EDE 3),
# unknown ones SERVFAIL quickly.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resolve_lib.bash"
e2e_init

server_start antidote A "$RES_ZONE" || { fail "upstream A did not start"; e2e_finish; }
server_start antidote B "$RES_ZONE" || { fail "upstream B did not start"; e2e_finish; }
# B is reached through a relay adding 10 ms, so A (faster) takes the traffic
# until it fails
BR_PORT=$(pick_port)
"$ANTIDOTE" inject --listen "127.0.0.1:$BR_PORT" --forward "127.0.0.1:$B_PORT" --profile none --delay 10 \
	>"$E2E_TMP/relay.log" 2>&1 &
E2E_PIDS+=($!)
wait_bound "$BR_PORT" $! || { fail "relay did not start: $(cat "$E2E_TMP/relay.log")"; e2e_finish; }
RTO=400
resolver_start R --upstream "127.0.0.1:$A_PORT" --upstream "127.0.0.1:$BR_PORT" --rto $RTO --threads 1 ||
	{ fail "resolver did not start"; e2e_finish; }

rdig R +short www.resolve.test A >/dev/null
rdig R +short short.resolve.test A >/dev/null # TTL 2: stale by the end

# ask N new names; prints "answered slow_max_ms bad" ; calls $3 before query $2
ask() { # FROM TO HOOK_AT HOOK
	local i out ms st a ok=0 max=0 bad=0
	for ((i = $1; i < $2; i++)); do
		[ "$i" -eq "$3" ] && eval "$4"
		out=$(dig @127.0.0.1 -p "$R_PORT" +tries=1 +time=3 "n$i.wild.resolve.test" A)
		st=$(grep -Eo 'status: [A-Z]+' <<<"$out")
		a=$(awk '/IN\tA\t/ { print $NF }' <<<"$out")
		ms=$(grep -Eo 'Query time: [0-9]+' <<<"$out" | grep -Eo '[0-9]+$')
		if [ "$st" = "status: NOERROR" ] && [ "$a" = 192.0.2.99 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
		[ -n "$ms" ] && [ "$ms" -gt "$max" ] && max=$ms
	done
	echo "$ok $max $bad"
}

# a few names first, so both upstreams are measured and A is preferred
ask 200 210 -1 : >/dev/null
resolver_stats R
a0=$(stat_of R "upstream 127.0.0.1:$A_PORT:" accepted)
read -r ok max bad < <(ask 0 40 10 "kill -STOP $A_PID")
resolver_stats R
a1=$(stat_of R "upstream 127.0.0.1:$A_PORT:" accepted)
if [ "$bad" -eq 0 ] && [ "$max" -le $((RTO * 2)) ] && [ $((a1 - a0)) -ge 8 ]; then
	pass "preferred upstream A stopped mid-run: 40/40 answered, slowest ${max} ms (RTO $RTO ms; A took $((a1 - a0)) first)"
else
	fail "A stopped: $ok answered, $bad bad, slowest $max ms, A accepted $a0 -> $a1"
fi
read -r ok max bad < <(ask 40 80 50 "kill -9 $A_PID")
if [ "$bad" -eq 0 ] && [ "$max" -le $((RTO * 2)) ]; then
	pass "upstream A then killed: 40/40 answered, slowest ${max} ms"
else
	fail "A killed: $ok answered, $bad bad, slowest $max ms"
fi
resolver_stats R
grep "^resolve: upstream 127.0.0.1:$A_PORT" "$R_LOG" | tail -n 1 | sed 's/^/# /'
t=$(stat_of R "upstream 127.0.0.1:$A_PORT:" timeouts)
[ "${t:-0}" -ge 1 ] && pass "timeouts counted for A ($t)" || fail "no timeouts counted for A"

# all upstreams gone
kill -9 "$B_PID" 2>/dev/null; wait "$B_PID" 2>/dev/null
sleep 0.2
out=$(rdig R www.resolve.test A)
grep -q 'status: NOERROR' <<<"$out" && grep -q '192.0.2.1' <<<"$out" && pass "all dead: cached name answered" ||
	fail "cached name: $(grep status <<<"$out")"
out=$(rdig R +time=4 short.resolve.test A) # the stale path may wait up to 1.8 s
ms=$(grep -Eo 'Query time: [0-9]+' <<<"$out" | grep -Eo '[0-9]+$')
ttl=$(awk '/IN\tA\t/ { print $2 }' <<<"$out")
if grep -q '192.0.2.2' <<<"$out" && [ "$ttl" = 30 ] && [ "${ms:-9999}" -lt 2500 ]; then
	pass "all dead: expired name served stale (TTL $ttl, ${ms} ms)"
else
	fail "stale: ttl '$ttl' ${ms} ms: $(grep -E 'status|IN.A' <<<"$out")"
fi
grep -q 'EDE: 3' <<<"$out" && pass "stale answer carries EDE 3" || echo "# (dig shows no EDE line)"
out=$(rdig R brand-new.resolve.test A)
ms=$(grep -Eo 'Query time: [0-9]+' <<<"$out" | grep -Eo '[0-9]+$')
grep -q 'status: SERVFAIL' <<<"$out" && [ "${ms:-9999}" -le 1000 ] &&
	pass "all dead: unknown name SERVFAIL in ${ms} ms" || fail "unknown name: $(grep -E 'status|Query time' <<<"$out")"
out=$(rdig R brand-new2.resolve.test A)
ms=$(grep -Eo 'Query time: [0-9]+' <<<"$out" | grep -Eo '[0-9]+$')
grep -q 'status: SERVFAIL' <<<"$out" && [ "${ms:-9999}" -le 1000 ] &&
	pass "all dead: next unknown name SERVFAIL in ${ms} ms" || fail "unknown name 2: $(grep -E 'status|Query time' <<<"$out")"
kill -0 "$R_PID" && pass "resolver still running" || fail "resolver died"
e2e_finish
