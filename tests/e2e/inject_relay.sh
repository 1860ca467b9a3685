#!/usr/bin/env bash
# inject_relay — `antidote inject` as a loopback relay in front of
# `antidote serve`: forged replies race ahead of the real one for censored
# names, the real one still arrives, other names pass untouched, loss works,
# the ground-truth log counts the forged replies, and non-loopback addresses
# are refused.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_init

DATA=${ANTIDOTE_DATA:-$E2E_ROOT/../shared/data}
MULTI=$TOOLS/dnsmulti
[ -x "$MULTI" ] || { fail "tool $MULTI missing (make)"; e2e_finish; }

cat >"$E2E_TMP/fb.zone" <<'Z'
$ORIGIN facebook.com.
$TTL 300
@	IN SOA	ns1 hostmaster 1 7200 3600 1209600 300
@	IN NS	ns1
ns1	IN A	192.0.2.53
www	IN A	192.0.2.11
www	IN AAAA	2001:db8::11
Z
cat >"$E2E_TMP/ok.zone" <<'Z'
$ORIGIN example.org.
$TTL 300
@	IN SOA	ns1 hostmaster 1 7200 3600 1209600 300
@	IN NS	ns1
ns1	IN A	192.0.2.53
www	IN A	192.0.2.20
Z
cat >"$E2E_TMP/rules" <<'Z'
# censored in this test
*.facebook.com
Z

server_start antidote AUTH "facebook.com=$E2E_TMP/fb.zone" "example.org=$E2E_TMP/ok.zone" ||
	{ fail "antidote serve did not start"; e2e_finish; }

# relay_start LABEL ARGS...: starts the relay on a free port; sets RELAY_PORT, RELAY_PID
relay_start() {
	local try port pid
	for try in 1 2 3 4 5; do
		port=$(pick_port) || return 1
		"$ANTIDOTE" inject --listen "127.0.0.1:$port" --forward "127.0.0.1:$AUTH_PORT" "$@" \
			>"$E2E_TMP/relay.out" 2>"$E2E_TMP/relay.err" </dev/null &
		pid=$!
		E2E_PIDS+=("$pid")
		if wait_bound "$port" "$pid"; then
			RELAY_PORT=$port RELAY_PID=$pid
			return 0
		fi
	done
	return 1
}
relay_stop() {
	kill "$RELAY_PID" 2>/dev/null
	wait "$RELAY_PID" 2>/dev/null
}

POOLS=()
if [ -r "$DATA/gfw-injector3-pool-a.txt" ]; then
	POOLS=(--pool-a "$DATA/gfw-injector3-pool-a.txt" --pool-aaaa "$DATA/gfw-injector3-pool-aaaa.txt")
else
	echo "# $DATA absent: built-in pools"
fi

relay_start --profile gfw --delay 20 --rules "$E2E_TMP/rules" --log "$E2E_TMP/truth.jsonl" "${POOLS[@]}" ||
	{ fail "relay did not start: $(cat "$E2E_TMP/relay.err")"; e2e_finish; }

N=200
out=$("$MULTI" -s "127.0.0.1:$RELAY_PORT" -n www.facebook.com -c $N -w 600 -e 4 -r 192.0.2.11 -q)
echo "# censored A: $out"
ff=$(kv first_forged "$out") rs=$(kv real_seen "$out") ft=$(kv forged_total "$out") ra=$(kv real_after_forged "$out")
[ "$ff" -ge $((N * 99 / 100)) ] && pass "forged reply first for $ff/$N censored queries" ||
	fail "forged reply first for only $ff/$N censored queries"
[ "$rs" -eq $N ] && pass "real reply still arrives ($rs/$N)" || fail "real reply arrived for $rs/$N"
[ "$ra" -ge $((N * 99 / 100)) ] && pass "real reply after the forged ones ($ra/$N)" || fail "real after forged $ra/$N"
[ "$ft" -eq $((N * 3)) ] && pass "gfw triplet: 3 forged replies per query ($ft)" || fail "forged total $ft, want $((N * 3))"

out=$("$MULTI" -s "127.0.0.1:$RELAY_PORT" -n www.facebook.com -t AAAA -c 20 -w 600 -e 4 -r 2001:db8::11)
real6=$(echo "$out" | grep -c 'addr=2001:db8::11 ')
forged6=$(echo "$out" | grep 'q=' | grep -v 'addr=2001:db8::11 ' | grep -c 'an=1 flags=8180 addr=[0-9a-f]*:[0-9a-f:]* ')
[ "$real6" -eq 20 ] && pass "AAAA: real AAAA arrives (20/20)" || fail "AAAA: real answer $real6/20"
[ "$forged6" -eq 60 ] && pass "AAAA: forged replies are AAAA ($forged6)" || fail "AAAA: $forged6 forged AAAA, want 60"

out=$("$MULTI" -s "127.0.0.1:$RELAY_PORT" -n www.example.org -c 50 -w 600 -e 1 -r 192.0.2.20 -q)
echo "# uncensored: $out"
[ "$(kv forged_total "$out")" -eq 0 ] && [ "$(kv real_seen "$out")" -eq 50 ] &&
	pass "uncensored name: only the real answer (50/50)" || fail "uncensored name: $out"

out=$("$MULTI" -s "127.0.0.1:$RELAY_PORT" -n www.facebook.com -t MX -c 5 -w 600 -e 4)
mxa=$(echo "$out" | grep -c 'an=1 flags=8180 addr=[0-9.]* ')
[ "$mxa" -eq 15 ] && pass "MX query draws forged A records ($mxa)" || fail "MX query: $mxa forged A, want 15"

relay_stop

# --tune: gfw2 silent (1-3 replies a query), gfw1 late (negative lead: after
# the real reply, as 11% seen from outside) with a random IP TTL. gfw1 is
# told by its answer TTL (2985-3022), gfw3 by its own (68-252).
relay_start --profile gfw --delay 20 --rules "$E2E_TMP/rules" "${POOLS[@]}" --tune gfw2.fire=0 \
	--tune gfw1.lead=-30..-10 --tune gfw1.ip_ttl=random || { fail "relay --tune did not start: $(cat "$E2E_TMP/relay.err")"; e2e_finish; }
out=$("$MULTI" -s "127.0.0.1:$RELAY_PORT" -n www.facebook.com -c 50 -w 600 -e 3 -r 192.0.2.11)
sum=$(echo "$out" | tail -1)
echo "# --tune: $sum"
order=$(echo "$out" | grep '^q=' | awk '{
	q = $1; sub(/q=/, "", q)
	for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	if (f["addr"] == "192.0.2.11") { real[q] = ++n[q] }
	else if (f["ttl"] >= 2985) { g1[q] = ++n[q]; t[f["ipttl"]] = 1 }
	else { g3[q] = ++n[q] }
	if (f["ipttl"] == 169) gfw2++
} END {
	for (q in real) { if (g1[q] > real[q]) late++; if (g3[q] && g3[q] < real[q]) early++ }
	nt = 0; for (x in t) nt++
	printf "late=%d early=%d gfw2=%d ttls=%d\n", late, early, gfw2, nt
}')
echo "# $order"
[ "$(kv forged_total "$sum")" -eq 100 ] && [ "$(kv real_seen "$sum")" -eq 50 ] && [[ $order == *" gfw2=0 "* ]] &&
	pass "gfw2.fire=0: 2 forged replies a query, none from gfw2 (100)" || fail "gfw2.fire=0: $sum; $order"
[[ $order == "late=50 early=50 "* ]] && pass "gfw1.lead=-30..-10: gfw1 after the real reply 50/50, gfw3 still before it" ||
	fail "lead: $order"
nt=${order##*ttls=}
[ "$nt" -ge 20 ] && pass "gfw1.ip_ttl=random: $nt distinct IP TTLs in 50 replies" || fail "ip_ttl random: $nt distinct"
relay_stop
"$ANTIDOTE" inject --listen "127.0.0.1:$(pick_port)" --forward "127.0.0.1:$AUTH_PORT" --tune gfw2.lead=fast 2>"$E2E_TMP/err3"
rc=$?
[ $rc -eq 2 ] && grep -q "bad value 'fast' for lead" "$E2E_TMP/err3" && pass "--tune with a bad value: exit 2, says which" ||
	fail "--tune bad value: exit $rc: $(cat "$E2E_TMP/err3")"
lines=$(wc -l <"$E2E_TMP/truth.jsonl")
want=$((N * 3 + 20 * 3 + 5 * 3))
[ "$lines" -eq "$want" ] && pass "ground-truth log: $lines forged replies" || fail "log has $lines lines, want $want"
for inj in gfw1 gfw2 gfw3; do
	grep -q "\"injector\":\"$inj\"" "$E2E_TMP/truth.jsonl" && pass "log names injector $inj" || fail "log lacks $inj"
done
grep -q '"qname":"www.facebook.com","qtype":28' "$E2E_TMP/truth.jsonl" && pass "log records qname and qtype" ||
	fail "log lacks qname/qtype"
grep -q ' forged, ' "$E2E_TMP/relay.err" && pass "relay reports its counters on exit" || fail "no counters"

# relay_gso: under load the relay sends equal-length datagrams to one peer
# as one UDP GSO buffer; every datagram must still arrive alone, intact,
# with its client's ID, and --no-gso must give the same.
LOAD=$TOOLS/inject_load
gso_run() { # LABEL LOADARGS RELAYARGS...
	local label=$1 largs=$2 up out st msgs dgrams
	shift 2
	up=$(pick_port) || { fail "$label: no free port"; return; }
	echo www.facebook.com >"$E2E_TMP/rules.gso"
	"$ANTIDOTE" inject --listen "127.0.0.1:$GSO_PORT" --forward "127.0.0.1:$up" --profile gfw \
		--rules "$E2E_TMP/rules.gso" "$@" >/dev/null 2>"$E2E_TMP/gso.err" </dev/null &
	local pid=$!
	E2E_PIDS+=("$pid")
	wait_bound "$GSO_PORT" "$pid" || { fail "$label: relay did not start: $(cat "$E2E_TMP/gso.err")"; return; }
	# shellcheck disable=SC2086
	out=$("$LOAD" -r "$GSO_PORT" -u "$up" -d 1 -w 512 -c 50 $largs)
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$(tail -1 "$E2E_TMP/gso.err")
	echo "# $label: $out"
	echo "# $label: $st"
	msgs=$(echo "$st" | sed -n 's/.* \([0-9]*\) send messages.*/\1/p')
	dgrams=$(echo "$st" | awk '{ for (i = 1; i < NF; i++) if ($(i + 1) ~ /^(forwarded|replies|forged),?$/) s += $i } END { print s + 0 }')
	if [ "$(kv bad "$out")" = 0 ] && [ "$(kv unanswered "$out")" = 0 ] && [ "$(kv sent "$out")" -gt 1000 ] &&
		[ "$(kv forged "$out")" -gt 0 ]; then
		pass "$label: $(kv sent "$out") queries, all answered, none mixed up ($(kv forged "$out") forged)"
	else
		fail "$label: $out"
	fi
	GSO_MSGS=$msgs GSO_DGRAMS=$dgrams
}
if [ -x "$LOAD" ] && GSO_PORT=$(pick_port); then
	gso_run "relay_gso 4 clients" "-s 4"
	[ -n "$GSO_MSGS" ] && [ "$GSO_MSGS" -lt "$GSO_DGRAMS" ] &&
		pass "relay_gso: $GSO_DGRAMS datagrams left in $GSO_MSGS send messages" ||
		fail "relay_gso: no coalescing ($GSO_MSGS messages for $GSO_DGRAMS datagrams)"
	gso_run "relay_gso 256 clients, 1 query each" "-s 256 -b 1"
	gso_run "relay --threads 2" "-s 64" --threads 2 --log "$E2E_TMP/threads.jsonl"
	nl=$(wc -l <"$E2E_TMP/threads.jsonl") okl=$(grep -c '^{"t":.*"df":[a-z]*}$' "$E2E_TMP/threads.jsonl")
	fo=$(sed -n 's/.* \([0-9]*\) forged, .*/\1/p' "$E2E_TMP/gso.err")
	[ "$nl" -gt 0 ] && [ "$nl" = "$okl" ] && [ "$nl" = "$fo" ] &&
		pass "--threads 2: one whole log line per forged reply ($nl)" ||
		fail "--threads 2: $nl log lines, $okl whole, $fo forged"
	gso_run "relay --no-gso" "-s 4" --no-gso
	[ -n "$GSO_MSGS" ] && [ "$GSO_MSGS" -eq "$GSO_DGRAMS" ] &&
		pass "--no-gso: one message per datagram ($GSO_MSGS)" ||
		fail "--no-gso: $GSO_MSGS messages for $GSO_DGRAMS datagrams"
else
	fail "tool $LOAD missing (make) or no free port"
fi

# loss: 50% each way -> about 25% of the queries answered
relay_start --profile none --delay 2 --loss 50 --seed 7 || { fail "relay (loss) did not start"; e2e_finish; }
out=$("$MULTI" -s "127.0.0.1:$RELAY_PORT" -n www.example.org -c 200 -w 40 -e 1 -r 192.0.2.20 -q)
echo "# loss 50%: $out"
ans=$(kv answered "$out")
[ "$ans" -ge 20 ] && [ "$ans" -le 90 ] && pass "--loss 50 answers $ans/200 (expect ~50)" || fail "--loss 50 answered $ans/200"
relay_stop

# safety: only loopback
"$ANTIDOTE" inject --listen 10.1.2.3:5353 --forward 127.0.0.1:53 2>"$E2E_TMP/err1"
rc=$?
[ $rc -eq 2 ] && grep -q 'only uses 127.0.0.0/8' "$E2E_TMP/err1" && pass "non-loopback --listen refused (exit 2)" ||
	fail "non-loopback --listen: exit $rc"
"$ANTIDOTE" inject --listen 127.0.0.1:5353 --forward 8.8.8.8:53 2>"$E2E_TMP/err2"
rc=$?
[ $rc -eq 2 ] && pass "non-loopback --forward refused (exit 2)" || fail "non-loopback --forward: exit $rc"
"$ANTIDOTE" inject --listen '[2001:db8::1]:5353' --forward 127.0.0.1:53 2>/dev/null
[ $? -eq 2 ] && pass "non-loopback IPv6 refused" || fail "non-loopback IPv6 accepted"

# explain
n=$("$ANTIDOTE" inject --explain 000001200001000000000000037777770866616365626f6f6b03636f6d0000010001 | wc -l)
[ "$n" -eq 3 ] && pass "--explain: three injectors fire on www.facebook.com" || fail "--explain printed $n lines"
n=$("$ANTIDOTE" inject --explain 000001200001000000000000076578616d706c65036f72670000010001 | wc -l)
[ "$n" -eq 0 ] && pass "--explain: nothing for example.org" || fail "--explain printed $n lines for example.org"
e2e_finish
