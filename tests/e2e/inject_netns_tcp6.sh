#!/usr/bin/env bash
# inject_netns_tcp6 — `antidote inject --netns` (root) over TCP and IPv6:
# the namespaces carry 2001:db8 addresses too (client 2001:db8:100::2,
# server 2001:db8:113::2, forwarding in the border); the border injector
# forges AAAA/A replies over IPv6 UDP with the profile's hop limits while the
# real reply follows; over TCP it forges nothing and resets connections that
# ask for a censored name (RST+ACK to the client from the server's address,
# and to the server from the client's), over IPv4 and IPv6, while
# uncensored names over TCP are answered; every RST is a "type":"RST" line
# of the ground-truth log.
#
# The race. Without delay the server's real answer and the injector's
# packets leave within microseconds of each other (the GFW wins because it
# is nearer the client). The bare race is measured and reported; the strict
# checks shape the server's egress with HTB (16 kbit/s, no burst: every
# packet after the first of a burst waits behind the previous one's debt,
# so the server's TCP answer is ~40 ms behind its SYN-ACK), standing in for
# a server far away, as the UDP delay line does in inject_netns.sh. For IPv6
# UDP the strict check runs a 20 ms delay line in the server namespace when
# the relay accepts 2001:db8 addresses there, and says so when it does not.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init

if [ "$(id -u)" -ne 0 ]; then
	pass "skipped (not root: network namespaces need root)"
	e2e_finish
fi
if ! command -v ip >/dev/null || ! command -v dig >/dev/null; then
	pass "skipped (no ip from iproute2 or no dig)"
	e2e_finish
fi
if [ ! -d /proc/sys/net/ipv6 ]; then
	pass "skipped (kernel without IPv6)"
	e2e_finish
fi
MULTI=$TOOLS/dnsmulti
[ -x "$MULTI" ] || { fail "tool $MULTI missing (make)"; e2e_finish; }

cat >"$E2E_TMP/fb.zone" <<'Z'
$ORIGIN facebook.com.
$TTL 300
@	IN SOA	ns1 hostmaster 1 7200 3600 1209600 300
@	IN NS	ns1
ns1	IN A	192.0.2.53
www	IN A	192.0.2.11
www	IN AAAA	2001:db8:53::11
Z
cat >"$E2E_TMP/ok.zone" <<'Z'
$ORIGIN example.org.
$TTL 300
@	IN SOA	ns1 hostmaster 1 7200 3600 1209600 300
@	IN NS	ns1
www	IN A	192.0.2.20
www	IN AAAA	2001:db8:53::20
Z
V4=203.0.113.2 V6=2001:db8:113::2 CL4=198.51.100.2 CL6=2001:db8:100::2
LOG=$E2E_TMP/truth.jsonl

# srv_up: antidote serve in the server namespace on V4:53 and [V6]:53
srv_up() {
	ip netns exec "$SV" "$ANTIDOTE" serve --listen "$V4:53" --listen "[$V6]:53" \
		--zone "facebook.com=$E2E_TMP/fb.zone" --zone "example.org=$E2E_TMP/ok.zone" --quiet >"$E2E_TMP/serve.log" 2>&1 &
	SRV_PID=$!
	E2E_PIDS+=("$SRV_PID")
	wait_bound 53 "$SRV_PID" "$SV"
}
inject_netns_up --log "$LOG" || { fail "inject --netns did not come up: $(cat "$E2E_TMP/inj.err")"; e2e_finish; }
SIF=$(ip -n "$SV" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1)

# --- the IPv6 topology ------------------------------------------------------
ip -n "$CL" -6 addr show | has "inet6 $CL6/64 .*nodad" && ip -n "$SV" -6 addr show | has "inet6 $V6/64" &&
	ip -n "$BD" -6 addr show | has 'inet6 2001:db8:100::1/64' && ip -n "$BD" -6 addr show | has 'inet6 2001:db8:113::1/64' &&
	pass "IPv6 documentation addresses on client, border and server (nodad)" ||
	fail "IPv6 addresses: $(for n in "$CL" "$BD" "$SV"; do ip -n "$n" -6 -o addr | awk '{ print $2, $4 }'; done | tr '\n' ' ')"
ip -n "$CL" -6 route | has '^default via 2001:db8:100::1' && ip -n "$SV" -6 route | has '^default via 2001:db8:113::1' &&
	pass "IPv6 default routes via the border" || fail "IPv6 routes"
[ "$(ip netns exec "$BD" cat /proc/sys/net/ipv6/conf/all/forwarding)" = 1 ] && pass "IPv6 forwarding on in the border" ||
	fail "IPv6 forwarding off in the border"

srv_up || { fail "antidote serve in $SV: $(cat "$E2E_TMP/serve.log")"; e2e_finish; }
c_multi() { ip netns exec "$CL" "$MULTI" "$@"; }
c_dig() { ip netns exec "$CL" dig +tcp +tries=1 +time=2 "$@" 2>&1; }

# --- IPv6 UDP: forged replies with the profile's hop limits, then the real one
out=$(c_multi -s "[$V6]:53" -n www.facebook.com -t AAAA -c 100 -w 500 -e 4 -r 2001:db8:53::11)
sum=$(echo "$out" | tail -1)
echo "# IPv6 UDP, AAAA, no delay: $sum"
[ "$(kv real_seen "$sum")" -eq 100 ] && [ "$(kv forged_total "$sum")" -eq 300 ] &&
	pass "IPv6 UDP AAAA: 3 forged + the real reply for 100/100 (forged first in $(kv first_forged "$sum")/100: a bare race)" ||
	fail "IPv6 UDP AAAA: $sum"
f64=$(echo "$out" | grep -v 'addr=2001:db8:53::11 ' | grep -c 'flags=8180 .* ipttl=64$')
f169=$(echo "$out" | grep -v 'addr=2001:db8:53::11 ' | grep -c ' ipttl=169$')
f53=$(echo "$out" | grep -v 'addr=2001:db8:53::11 ' | grep -c ' ipttl=53$')
real=$(echo "$out" | grep 'addr=2001:db8:53::11 ' | grep -c ' ipttl=63$')
[ "$f64" -eq 100 ] && [ "$f169" -eq 100 ] && [ "$f53" -eq 100 ] &&
	pass "hop limits of the forged IPv6 replies: 64 (copied) / 169 / 53, 100 each, from [$V6]:53" ||
	fail "forged hop limits 64:$f64 169:$f169 53:$f53"
[ "$real" -eq 100 ] && pass "real IPv6 replies arrive with hop limit 63 (one forwarding hop)" || fail "real hop limit 63: $real"
sum=$(c_multi -s "[$V6]:53" -n www.facebook.com -t A -c 20 -w 500 -e 4 -r 192.0.2.11 -q)
[ "$(kv real_seen "$sum")" -eq 20 ] && [ "$(kv forged_total "$sum")" -eq 60 ] &&
	pass "IPv6 UDP A: 3 forged + the real reply for 20/20" || fail "IPv6 UDP A: $sum"
sum=$(c_multi -s "[$V6]:53" -n www.example.org -t AAAA -c 30 -w 500 -e 1 -r 2001:db8:53::20 -q)
[ "$(kv forged_total "$sum")" -eq 0 ] && [ "$(kv real_seen "$sum")" -eq 30 ] &&
	pass "IPv6 UDP, uncensored name: only the real answer (30/30)" || fail "IPv6 uncensored: $sum"
a=$(ip netns exec "$CL" dig -6 +tries=1 +time=2 @"$V6" www.facebook.com AAAA +short 2>&1 | head -1)
echo "# dig -6 AAAA took '$a' (the first reply to arrive: 2001::d155:9f89 is forged; a bare race)"

# strict: a 20 ms delay line in the server namespace on [V6]:53 -> the
# server on [::1]:5353 (the relay joined to the server namespace must accept
# 2001:db8 addresses there: relay_addr_netns)
srv_restart() {
	kill "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	ip netns exec "$SV" "$ANTIDOTE" serve "$@" --zone "facebook.com=$E2E_TMP/fb.zone" \
		--zone "example.org=$E2E_TMP/ok.zone" --quiet >"$E2E_TMP/serve.log" 2>&1 &
	SRV_PID=$!
	E2E_PIDS+=("$SRV_PID")
	sleep 0.5
	kill -0 "$SRV_PID" 2>/dev/null
}
srv_restart --listen "$V4:53" --listen "[::1]:5353" || fail "serve restart: $(cat "$E2E_TMP/serve.log")"
"$ANTIDOTE" inject --netns="$SV" --listen "[$V6]:53" --forward "[::1]:5353" --delay 20 --profile none \
	>/dev/null 2>"$E2E_TMP/dl.err" </dev/null &
DL_PID=$!
E2E_PIDS+=("$DL_PID")
sleep 0.5
if kill -0 "$DL_PID" 2>/dev/null; then
	sum=$(c_multi -s "[$V6]:53" -n www.facebook.com -t AAAA -c 100 -w 600 -e 4 -r 2001:db8:53::11 -q)
	echo "# IPv6 UDP behind a 20 ms delay line: $sum"
	[ "$(kv first_forged "$sum")" -eq 100 ] && [ "$(kv real_after_forged "$sum")" -eq 100 ] &&
		pass "IPv6 UDP, 20 ms delay line: forged reply first and the real one follows, 100/100" ||
		fail "IPv6 UDP behind the delay line: $sum"
	kill "$DL_PID" 2>/dev/null
	wait "$DL_PID" 2>/dev/null
else
	echo "# IPv6 delay line refused: $(head -1 "$E2E_TMP/dl.err")"
	echo "# (relay_addr_netns accepts only the IPv4 /24s: the strict IPv6 forged-first check is skipped)"
fi
srv_restart --listen "$V4:53" --listen "[$V6]:53" || { fail "serve restart: $(cat "$E2E_TMP/serve.log")"; e2e_finish; }

# --- TCP: the bare race -----------------------------------------------------
r=0 a=0
for _ in $(seq 20); do
	o=$(c_dig @"$V4" www.facebook.com A)
	echo "$o" | has 'connection reset' && r=$((r + 1))
	echo "$o" | has 'ANSWER: 1,' && a=$((a + 1))
done
echo "# TCP, no delay: $r/20 censored queries reset, $a/20 answered (the real answer came first: a bare race)"

# --- TCP with the server's egress shaped ------------------------------------
if ip netns exec "$SV" tc qdisc add dev "$SIF" root handle 1: htb default 1 2>"$E2E_TMP/tc.err" &&
	ip netns exec "$SV" tc class add dev "$SIF" parent 1: classid 1:1 htb rate 16kbit ceil 16kbit burst 1 cburst 1 \
		2>>"$E2E_TMP/tc.err"; then
	for fam in 4 6; do
		srv=$V4 cl=$CL4
		[ $fam = 6 ] && srv=$V6 cl="\\[$CL6\\]"
		before=$(grep -c '"type":"RST"' "$LOG")
		r=0 slow=0
		for _ in $(seq 10); do
			t0=$(date +%s%N)
			o=$(c_dig -$fam @"$srv" www.facebook.com A)
			ms=$((($(date +%s%N) - t0) / 1000000))
			echo "$o" | has 'connection reset' && r=$((r + 1))
			[ $ms -lt 1500 ] || slow=$((slow + 1))
		done
		[ $r -eq 10 ] && [ $slow -eq 0 ] && pass "IPv$fam TCP, censored name: connection reset 10/10, each in under 1.5 s" ||
			fail "IPv$fam TCP censored: reset $r/10, $slow slow; last: $(echo "$o" | grep ';;' | tail -2)"
		# the injector sends its RSTs before it flushes their log lines
		for _ in $(seq 20); do
			n=$(($(grep -c '"type":"RST"' "$LOG") - before))
			[ "$n" -ge 60 ] && break
			sleep 0.1
		done
		nc=$(grep '"type":"RST"' "$LOG" | tail -n "$n" | grep "\"client\":\"$cl:" | grep -c '"to":"client"')
		ns=$(grep '"type":"RST"' "$LOG" | tail -n "$n" | grep "\"client\":\"$cl:" | grep -c '"to":"server"')
		[ "$n" -eq 60 ] && [ "$nc" -eq 30 ] && [ "$ns" -eq 30 ] &&
			pass "IPv$fam ground truth: 60 RST lines (3 injectors x 2 directions x 10 queries)" ||
			fail "IPv$fam RST lines $n (to client $nc, to server $ns)"
		a=$(c_dig -$fam @"$srv" www.example.org A +short)
		[ "$a" = 192.0.2.20 ] && pass "IPv$fam TCP, uncensored name: answered ($a)" || fail "IPv$fam TCP uncensored: $a"
		a=$(c_dig -$fam @"$srv" www.example.org AAAA +short)
		[ "$a" = 2001:db8:53::20 ] && pass "IPv$fam TCP, uncensored AAAA: answered" || fail "IPv$fam TCP uncensored AAAA: $a"
	done
	ip netns exec "$SV" tc qdisc del dev "$SIF" root
else
	fail "tc htb in $SV: $(cat "$E2E_TMP/tc.err")"
fi

# the RST lines' shape: fingerprints per injector, sequence numbers present
l=$(grep '"type":"RST"' "$LOG" | grep '"injector":"gfw2"' | grep "\"client\":\"$CL4:" | grep '"to":"client"' | tail -1)
echo "$l" | has '"qname":"www.facebook.com","qtype":1,' && echo "$l" | has '"ip_ttl":169,"ipid":0,"df":true}' &&
	echo "$l" | has '"seq":[0-9]*,"ack":[0-9]*,' && pass "RST line: qname, injector gfw2's TTL 169 / ID 0 / DF, seq, ack" ||
	fail "RST line: $l"
l=$(grep '"type":"RST"' "$LOG" | grep "\"client\":\"\\[$CL6\\]:" | grep '"injector":"gfw2"' | tail -1)
echo "$l" | has '"ip_ttl":169,"ipid":0,"df":false}' && pass "IPv6 RST line: hop limit 169, no IP ID / DF" ||
	fail "IPv6 RST line: $l"
grep '"type":"RST"' "$LOG" | has 'example.org' && fail "RST logged for an uncensored name" ||
	pass "no RST for uncensored names"
NF=$(grep -v '"type":"RST"' "$LOG" | grep -c "\"client\":\"\\[$CL6\\]:")
[ "$NF" -eq 363 ] || [ "$NF" -eq 663 ] && pass "ground truth: $NF forged IPv6 UDP replies from [$CL6]" ||
	fail "IPv6 forged lines $NF"

kill "$SRV_PID" 2>/dev/null
wait "$SRV_PID" 2>/dev/null
kill -INT "$INJ_PID"
wait "$INJ_PID"
rc=$?
[ $rc -eq 0 ] && pass "SIGINT: injector exits 0" || fail "SIGINT: exit $rc"
grep -q " $NF forged" "$E2E_TMP/inj.err" && pass "injector counted $NF forged UDP replies (RSTs apart)" ||
	fail "$(tail -1 "$E2E_TMP/inj.err")"
[ "$(ip netns list | grep -c "^antidote-$INJ_PID-")" -eq 0 ] && pass "no namespace left behind" ||
	fail "namespaces left behind"

# --- --tune: resets from gfw2 only (INJECTORS.md marks TCP resets (?)) -----
LOG2=$E2E_TMP/truth2.jsonl
if inject_netns_up --log "$LOG2" --tune '*.rst=off' --tune gfw2.rst=on && srv_up; then
	for _ in 1 2 3 4 5; do c_dig @"$V4" www.facebook.com A >/dev/null; done
	for _ in $(seq 20); do
		[ "$(grep -c '"type":"RST"' "$LOG2")" -ge 10 ] && break
		sleep 0.1
	done
	n=$(grep -c '"type":"RST"' "$LOG2") n2=$(grep '"type":"RST"' "$LOG2" | grep -c '"injector":"gfw2"')
	[ "$n" -eq 10 ] && [ "$n2" -eq 10 ] && pass "--tune '*.rst=off' gfw2.rst=on: 10 RSTs for 5 queries, all from gfw2" ||
		fail "--tune rst: $n RST lines, $n2 from gfw2"
	kill "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	kill -INT "$INJ_PID"
	wait "$INJ_PID"
else
	fail "inject --netns --tune: $(cat "$E2E_TMP/inj.err" "$E2E_TMP/serve.log")"
fi
e2e_finish
