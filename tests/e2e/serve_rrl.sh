#!/usr/bin/env bash
# serve_rrl — `antidote serve --rrl`: a burst of alike queries from one
# client network is cut to the rate; over the limit every 2nd response is
# truncated (TC, question only) and the rest dropped; dig then gets its
# answer over TCP (never limited); another /24 is answered meanwhile;
# without --rrl nothing is limited.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init
MULTI=$TOOLS/dnsmulti
[ -x "$MULTI" ] || { fail "tool $MULTI missing (make)"; e2e_finish; }
# serve_rrl_start [OPTIONS]: antidote serve (lib.sh server_start) with
# OPTIONS; sets RRL_PORT, PID; its stderr is $RERR
RERR=$E2E_TMP/RRL/stderr
serve_rrl_start() {
	server_start antidote RRL "example.com=$E2E_ZONES/example.com.zone" "$@" || return 1
	PID=$RRL_PID
}
serve_rrl_start --rrl 20 --rrl-slip 2 || { fail "antidote serve --rrl did not start"; e2e_finish; }
sleep 1.1 # a fresh second: the start-up probes counted in the last one

# 300 queries for one name, one at a time, within about a second (each
# waits for its reply or 5 ms: a reply later than that counts as dropped)
out=$("$MULTI" -s "127.0.0.1:$RRL_PORT" -n www.example.com -c 300 -w 5 -e 1)
full=$(echo "$out" | grep '^q=' | grep -c -v -E 'flags=.[2367abef]')
tc=$(echo "$out" | grep '^q=' | grep -c -E 'flags=.[2367abef]')
echo "# $(echo "$out" | tail -1); full answers $full, truncated $tc"
[ "$full" -ge 18 ] && [ "$full" -le 80 ] && pass "rate 20/s: $full of 300 answered in full" ||
	fail "rate 20/s: $full of 300 answered in full"
[ "$tc" -ge 80 ] && [ "$tc" -le 160 ] && pass "slip 2: $tc truncated replies (about half of those over the limit)" ||
	fail "slip 2: $tc truncated replies"
dropped=$((300 - full - tc))
[ "$dropped" -ge 80 ] && pass "the rest dropped ($dropped)" || fail "only $dropped dropped"
# the TC reply: question only, ID kept
line=$(echo "$out" | grep '^q=' | grep -E 'flags=.[2367abef]' | head -1)
[[ $line == *"an=0"* ]] && pass "truncated reply carries no answer ($line)" || fail "truncated reply: $line"

# still limited: dig follows TC to TCP and gets the answer
"$MULTI" -s "127.0.0.1:$RRL_PORT" -n www.example.com -c 100 -w 1 -q >/dev/null
a=$(dig @127.0.0.1 -p "$RRL_PORT" +tries=3 +time=1 www.example.com A 2>/dev/null)
if echo "$a" | has 'Truncated, retrying in TCP' && echo "$a" | has 'status: NOERROR' &&
	echo "$a" | has 'ANSWER: 2'; then
	pass "a limited client retries over TCP on TC and gets its answer"
elif echo "$a" | has 'ANSWER: 2'; then
	pass "a limited client got its answer (a UDP retry after a dropped reply)"
else
	fail "limited client: $(echo "$a" | grep -E 'status|Trunc|timed' | tr '\n' ' ')"
fi
n=0
for _ in $(seq 30); do
	dig @127.0.0.1 -p "$RRL_PORT" +tcp +short +tries=1 +time=2 www.example.com A | has . && n=$((n + 1))
done
[ $n -eq 30 ] && pass "TCP is never limited (30/30)" || fail "TCP answered $n/30"
# another client network (/24) is not affected by the flood from 127.0.0.0/24
out2=$("$MULTI" -s "127.0.0.1:$RRL_PORT" -n www.example.com -c 100 -w 1 -q >/dev/null &
	sleep 0.05
	for _ in $(seq 10); do dig -b 127.0.1.1 @127.0.0.1 -p "$RRL_PORT" +notcp +ignore +short +tries=1 +time=1 \
		www.example.com A | head -1; done; wait)
m=$(echo "$out2" | grep -c '^[0-9]')
[ "$m" -eq 10 ] && pass "127.0.1.0/24 answered in full during the flood (10/10)" || fail "other network: $m/10"

kill "$PID"
for _ in $(seq 30); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
grep -q 'rrl: .* responses checked, .* over the limit' "$RERR" && pass "exit logs the RRL counters" ||
	fail "no rrl line: $(tail -2 "$RERR")"

# without --rrl nothing is limited
serve_rrl_start || { fail "serve did not start"; e2e_finish; }
out=$("$MULTI" -s "127.0.0.1:$RRL_PORT" -n www.example.com -c 300 -w 1000 -e 1 -q)
[ "$(echo "$out" | sed -n 's/.*answered=\([0-9]*\).*/\1/p')" = 300 ] && pass "no --rrl: 300/300 answered" ||
	fail "no --rrl: $out"
out=$("$ANTIDOTE" serve --listen "127.0.0.1:$(pick_port)" --zone "$E2E_ZONES/example.com.zone" --rrl 0 2>&1)
[ $? -eq 2 ] && [[ $out == *"rrl"* ]] && pass "--rrl 0 refused with a message" || fail "--rrl 0: $out"
e2e_finish
