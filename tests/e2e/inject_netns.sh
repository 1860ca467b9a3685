#!/usr/bin/env bash
# inject_netns — `antidote inject --netns` (root): client, border and server
# namespaces joined by veths; the injector at the border sniffs UDP/53 and
# forges replies with the server's address and the profile's IP TTLs while
# the kernel forwards the real ones. Checks: forged replies come first
# (behind a 20 ms delay line; without it the race is measured and
# reported), from the spoofed server address (the client's socket is
# connected to it), with IP TTL 64 (copied from the query), 169 and 53, and
# on the wire the profile's IP IDs and DF; the real reply follows; the ground-truth log; the namespaces are gone after
# SIGINT and after a SIGKILL (removed by the next run as stale); refusal of
# a namespace antidote did not create, of an antidote-named namespace
# without its veth, and of non-loopback addresses outside namespaces.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init

if [ "$(id -u)" -ne 0 ]; then
	echo "# not root: network namespaces need root; skipping"
	pass "skipped (not root)"
	e2e_finish
fi
if ! command -v ip >/dev/null; then
	pass "skipped (no ip from iproute2)"
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
Z
cat >"$E2E_TMP/ok.zone" <<'Z'
$ORIGIN example.org.
$TTL 300
@	IN SOA	ns1 hostmaster 1 7200 3600 1209600 300
@	IN NS	ns1
www	IN A	192.0.2.20
Z
# srv_start LISTEN: antidote serve in the server namespace
srv_start() {
	ip netns exec "$SV" "$ANTIDOTE" serve --listen "$1" --zone "facebook.com=$E2E_TMP/fb.zone" \
		--zone "example.org=$E2E_TMP/ok.zone" --quiet >"$E2E_TMP/serve.log" 2>&1 &
	SRV_PID=$!
	E2E_PIDS+=("$SRV_PID")
	wait_bound "${1##*:}" "$SRV_PID" "$SV"
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
c_multi() { ip netns exec "$CL" "$MULTI" -s 203.0.113.2:53 "$@"; }

# --- 1: no delay: the race is measured -----------------------------------
inject_netns_up --log "$E2E_TMP/truth.jsonl" || { fail "inject --netns did not come up: $(cat "$E2E_TMP/inj.err")"; e2e_finish; }
pass "namespaces $CL, $BD, $SV created; border injector ready"
[ "$(ip -n "$BD" -o link show type veth | wc -l)" -eq 2 ] && pass "border holds two veths" || fail "border veths"
[ "$(ip netns exec "$BD" cat /proc/sys/net/ipv4/ip_forward)" = 1 ] && pass "IPv4 forwarding on in the border" ||
	fail "forwarding off in the border"
srv_start 203.0.113.2:53 || { fail "antidote serve in $SV: $(cat "$E2E_TMP/serve.log")"; e2e_finish; }
out=$(c_multi -n www.facebook.com -c 200 -w 500 -e 4 -r 192.0.2.11 -q)
echo "# no delay line: $out"
ff=$(kv first_forged "$out")
[ "$(kv real_seen "$out")" -eq 200 ] && [ "$(kv forged_total "$out")" -eq 600 ] &&
	pass "no delay: 3 forged + the real reply for 200/200 queries (forged first in $ff/200: a bare race)" ||
	fail "no delay: $out"
out=$(c_multi -n www.example.org -c 50 -w 500 -e 1 -r 192.0.2.20 -q)
[ "$(kv forged_total "$out")" -eq 0 ] && [ "$(kv real_seen "$out")" -eq 50 ] &&
	pass "uncensored name: only the real answer (50/50)" || fail "uncensored: $out"
# the other direction: an outside resolver (server namespace) asking a server
# inside (client namespace) is answered by the injector too -- how resolvers
# abroad whose recursion crossed China were polluted (2012)
grep -q 'queries both ways' "$E2E_TMP/inj.err" && pass "border sniffs both veths" || fail "$(cat "$E2E_TMP/inj.err")"
ip netns exec "$CL" "$ANTIDOTE" serve --listen 198.51.100.2:53 --zone "facebook.com=$E2E_TMP/fb.zone" --quiet \
	>"$E2E_TMP/serve-in.log" 2>&1 &
IN_PID=$!
E2E_PIDS+=("$IN_PID")
if wait_bound 53 "$IN_PID" "$CL"; then
	out=$(ip netns exec "$SV" "$MULTI" -s 198.51.100.2:53 -n www.facebook.com -c 20 -w 500 -e 4 -r 192.0.2.11 -q)
	[ "$(kv real_seen "$out")" -eq 20 ] && [ "$(kv forged_total "$out")" -eq 60 ] &&
		pass "inward query (server side asks the client side): 3 forged + the real reply, 20/20" ||
		fail "inward: $out"
	[ "$(grep -c '"client":"203.0.113.2:' "$E2E_TMP/truth.jsonl")" -eq 60 ] &&
		pass "ground truth: 60 forged replies to the outside resolver 203.0.113.2" ||
		fail "inward log lines: $(grep -c '"client":"203.0.113.2:' "$E2E_TMP/truth.jsonl")"
else
	fail "serve in $CL: $(cat "$E2E_TMP/serve-in.log")"
fi
stop "$IN_PID"
stop "$SRV_PID"
kill -INT "$INJ_PID"; wait "$INJ_PID"; rc=$?
[ $rc -eq 0 ] && pass "SIGINT: injector exits 0" || fail "SIGINT: exit $rc"
grep -q ' 660 forged' "$E2E_TMP/inj.err" && pass "injector counted 660 forged replies (600 out, 60 in)" ||
	fail "$(tail -1 "$E2E_TMP/inj.err")"
left=$(ip netns list | grep -c "^antidote-$INJ_PID-")
[ "$left" -eq 0 ] && pass "SIGINT: no namespace left behind" || fail "SIGINT: $left namespaces left"
n=$(grep -c '"client":"198.51.100.2:' "$E2E_TMP/truth.jsonl")
[ "$n" -eq 600 ] && pass "ground-truth log: 600 lines from client 198.51.100.2" || fail "log has $n lines"

# --- 2: 20 ms delay line in the server namespace ---------------------------
inject_netns_up --forward 127.0.0.1:5353 --delay 20 || { fail "inject --netns --delay: $(cat "$E2E_TMP/inj.err")"; e2e_finish; }
srv_start 127.0.0.1:5353 || { fail "serve behind the delay line: $(cat "$E2E_TMP/serve.log")"; e2e_finish; }
out=$(c_multi -n www.facebook.com -c 100 -w 600 -e 4 -r 192.0.2.11)
sum=$(echo "$out" | tail -1)
echo "# delay 20 ms: $sum"
ff=$(kv first_forged "$sum") ra=$(kv real_after_forged "$sum")
[ "$ff" -eq 100 ] && pass "forged reply first for 100/100 censored queries" || fail "forged first $ff/100"
[ "$(kv real_seen "$sum")" -eq 100 ] && [ "$ra" -eq 100 ] && pass "real reply follows (100/100)" ||
	fail "real after forged $ra/100"
# every reply came through a socket connected to 203.0.113.2:53: forged ones carry that source
f64=$(echo "$out" | grep -v 'addr=192.0.2.11 ' | grep -c 'flags=8180 .* ipttl=64$')
f169=$(echo "$out" | grep -v 'addr=192.0.2.11 ' | grep -c ' ipttl=169$')
f53=$(echo "$out" | grep -v 'addr=192.0.2.11 ' | grep -c ' ipttl=53$')
real=$(echo "$out" | grep 'addr=192.0.2.11 ' | grep -c ' ipttl=63$')
[ "$f64" -eq 100 ] && [ "$f169" -eq 100 ] && [ "$f53" -eq 100 ] &&
	pass "IP TTLs of the forged replies: 64 (copied) / 169 / 53, 100 each, from 203.0.113.2:53" ||
	fail "forged IP TTLs 64:$f64 169:$f169 53:$f53"
[ "$real" -eq 100 ] && pass "real replies arrive with IP TTL 63 (one forwarding hop)" || fail "real IP TTL 63: $real"
t_real=$(echo "$out" | grep 'addr=192.0.2.11 ' | sed -n 's/.*t_ms=\([0-9.]*\).*/\1/p' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "# median real reply after ${t_real} ms"
awk -v t="$t_real" 'BEGIN { exit !(t >= 39 && t < 200) }' && pass "real reply delayed ~40 ms (median ${t_real} ms)" ||
	fail "real reply median ${t_real} ms"

# IP ID and DF on the wire (a raw socket in the client namespace sees them)
if [ -x "$TOOLS/udpsniff" ]; then
	ip netns exec "$CL" "$TOOLS/udpsniff" -p 53 -c 80 -w 3000 >"$E2E_TMP/sniff" 2>&1 &
	sn=$!
	for _ in $(seq 30); do grep -q ready "$E2E_TMP/sniff" && break; sleep 0.1; done
	c_multi -n www.facebook.com -c 20 -w 500 -e 4 -r 192.0.2.11 -q >/dev/null
	wait $sn
	g2=$(grep -c 'src=203.0.113.2:53 .* ttl=169 id=0 df=1 ' "$E2E_TMP/sniff")
	g3=$(grep 'src=203.0.113.2:53 .* ttl=53 ' "$E2E_TMP/sniff" | sed -n 's/.* id=\([0-9]*\) df=0 .*/\1/p' |
		awk 'NR > 1 && $1 == prev + 1 { inc++ } { prev = $1 } END { print inc + 0 }')
	g1=$(grep 'src=203.0.113.2:53 .* ttl=64 ' "$E2E_TMP/sniff" | grep -c ' df=0 ')
	g1ids=$(grep 'src=203.0.113.2:53 .* ttl=64 ' "$E2E_TMP/sniff" | sed -n 's/.* id=\([0-9]*\) .*/\1/p' | sort -u | wc -l)
	[ "$g2" -eq 20 ] && pass "gfw2 on the wire: IP ID 0, DF set (20/20)" || fail "gfw2 IP ID 0 + DF: $g2/20"
	[ "$g3" -eq 19 ] && pass "gfw3 on the wire: IP ID +1 per reply, DF clear (19 steps)" || fail "gfw3 IP ID steps $g3/19"
	[ "$g1" -eq 20 ] && [ "$g1ids" -ge 18 ] && pass "gfw1 on the wire: DF clear, random IP IDs ($g1ids distinct)" ||
		fail "gfw1: df=0 $g1/20, $g1ids distinct IDs"
else
	fail "tool $TOOLS/udpsniff missing"
fi

# --- 3: a crash leaves namespaces; the next run removes them ---------------
stop "$SRV_PID"
kill -KILL "$INJ_PID"; wait "$INJ_PID" 2>/dev/null
dead=$INJ_PID
[ "$(ip netns list | grep -c "^antidote-$dead-")" -eq 3 ] && pass "SIGKILL leaves 3 stale namespaces" ||
	fail "after SIGKILL: $(ip netns list | grep -c "^antidote-$dead-")"
inject_netns_up || fail "inject after a crash: $(cat "$E2E_TMP/inj.err")"
grep -q "removed stale namespace antidote-$dead-" "$E2E_TMP/inj.err" && pass "stale namespaces reported removed" ||
	fail "no stale removal message"
[ "$(ip netns list | grep -c "^antidote-$dead-")" -eq 0 ] && pass "stale namespaces of pid $dead gone" ||
	fail "stale namespaces remain"
stop "$INJ_PID"

# --- 4: refusals -----------------------------------------------------------
other=e2e-notours-$$
ip netns add "$other"
"$ANTIDOTE" inject --netns="$other" 2>"$E2E_TMP/r1"; rc=$?
[ $rc -eq 2 ] && grep -q 'only namespaces antidote created' "$E2E_TMP/r1" &&
	pass "namespace '$other' refused (exit 2)" || fail "foreign namespace: rc $rc $(cat "$E2E_TMP/r1")"
ip netns del "$other"
fake=antidote-$$-border # our shell is alive, but the namespace has no veth of antidote's
ip netns add "$fake"
"$ANTIDOTE" inject --netns="$fake" 2>"$E2E_TMP/r2"; rc=$?
[ $rc -eq 2 ] && grep -q 'no veth' "$E2E_TMP/r2" && pass "antidote-named namespace without its veth refused" ||
	fail "fake namespace: rc $rc $(cat "$E2E_TMP/r2")"
ip netns del "$fake"
"$ANTIDOTE" inject --listen 198.51.100.1:53 --forward 127.0.0.1:53 2>"$E2E_TMP/r3"; rc=$?
[ $rc -eq 2 ] && grep -q 'only uses 127.0.0.0/8' "$E2E_TMP/r3" &&
	pass "198.51.100.1 refused outside namespaces (exit 2)" || fail "non-loopback outside namespaces: rc $rc"
"$ANTIDOTE" inject --netns --listen 127.0.0.1:53 --forward 127.0.0.1:54 2>/dev/null; rc=$?
[ $rc -eq 2 ] && pass "--netns with --listen: usage error" || fail "--netns --listen: rc $rc"
[ "$(ip netns list | grep -c '^antidote-')" -eq 0 ] || echo "# note: other antidote namespaces exist (other runs)"
e2e_finish
