#!/usr/bin/env bash
# resolve_dnssec.sh — antidote resolve's DNSSEC validation end to end.
# antidote serve answers a signed "test." (tests/data/validator/test.zone)
# that delegates the signed dnssec.test with a DS; the resolvers trust
# test.'s DS (--trust-anchor tests/data/validator/test.ds) and walk the
# chain test. DNSKEY -> dnssec.test DS -> dnssec.test DNSKEY themselves.
#   1. direct: answers validated secure (verdict log), AD and RRSIGs for DO
#      clients, neither for plain clients;
#   2. tests/tools/tamper in the path rewrites www.dnssec.test's address in
#      the real reply, keeping OPT, cookie and RRSIG (an injector that
#      echoes everything): dropped as DNSSEC bogus (SERVFAIL, never the
#      tampered address), while with --dnssec off the tampered address is
#      served — DNSSEC is what caught it;
#   3. tamper -d (tampered copy first, then the real reply): the real one is
#      served; with -s (RRSIGs stripped too) the unsigned answer for a name
#      seen signed is bogus;
#   4. the GFW injector relay (antidote inject --profile gfw) in front: 0
#      forged answers served, and the verdict log names dnssec for forged
#      replies of names seen signed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/resolve_lib.bash"
e2e_init

VD=$E2E_ROOT/tests/data/validator
ANCHOR=$VD/test.ds
FAKE=198.51.100.66
server_start antidote AUTH "test.=$VD/test.zone" "dnssec.test.=$E2E_ZONES/dnssec.test.zone" ||
	{ fail "antidote serve did not start"; e2e_finish; }
AUTH=127.0.0.1:$AUTH_PORT

# tamper_start LABEL ARGS... -> ${LABEL}_PORT (a relay in front of AUTH)
tamper_start() {
	local label=$1 port try; shift
	for try in 1 2 3 4 5; do
		port=$(pick_port) || return 1
		"$TOOLS/tamper" -l "127.0.0.1:$port" -f "$AUTH" "$@" 2>"$E2E_TMP/$label.log" &
		local pid=$!
		E2E_PIDS+=("$pid")
		sleep 0.2
		if kill -0 "$pid" 2>/dev/null; then
			printf -v "${label}_PORT" '%s' "$port"
			return 0
		fi
	done
	return 1
}

# answer LABEL NAME TYPE [DIG ARGS] -> first answer line's data (or "status:X")
answer() {
	local label=$1 name=$2 type=$3 out; shift 3
	out=$(rdig "$label" +time=4 "$name" "$type" "$@" 2>/dev/null)
	local st
	st=$(grep -o 'status: [A-Z]*' <<<"$out" | head -n 1 | cut -d' ' -f2)
	local a
	a=$(awk -v t="$type" '!/^;/ && $4 == t {print $5; exit}' <<<"$out")
	if [ -n "$a" ]; then echo "$a"; else echo "status:${st:-none}"; fi
}

# ---- 1. direct -----------------------------------------------------------
V1=$E2E_TMP/v1.jsonl
resolver_start D --upstream "$AUTH" --threads 1 --trust-anchor "$ANCHOR" --log-verdicts "$V1" ||
	{ fail "resolver did not start"; e2e_finish; }
grep -q 'DNSSEC validation on: 1 trust anchor' "$D_LOG" && pass "start: DNSSEC validation on, 1 anchor" ||
	fail "start line: $(grep -i dnssec "$D_LOG")"
rdig D ns1.test A >/dev/null      # test.'s keys (primed at start anyway)
rdig D zzz.dnssec.test A >/dev/null # makes the worker learn dnssec.test's keys
sleep 0.5
out=$(rdig D +dnssec mail.dnssec.test A)
if grep -q 'flags: qr rd ra ad' <<<"$out" && grep -q 'RRSIG' <<<"$out" && grep -q '192.0.2.25' <<<"$out"; then
	pass "DO client: answer with AD and RRSIG"
else
	fail "DO client: $out"
fi
if grep '"name":"mail.dnssec.test."' "$V1" | has '"dnssec":"secure: mail.dnssec.test A signed by dnssec.test key 33152 alg 13"'; then
	pass "verdict log: secure, signed by dnssec.test key 33152 alg 13"
else
	fail "verdict log: $(grep mail.dnssec "$V1" | head -c 600)"
fi
grep '"name":"mail.dnssec.test."' "$V1" | has '"signals":\[[^]]*"dnssec-ok"' &&
	pass "verdict log: dnssec-ok signal" || fail "no dnssec-ok signal"
out=$(rdig D +noadflag mail.dnssec.test AAAA)
if grep -q '2001:db8::25' <<<"$out" && ! grep -q RRSIG <<<"$out" && ! grep -q 'flags:.* ad' <<<"$out"; then
	pass "plain client: no RRSIG, no AD"
else
	fail "plain client: $out"
fi
out=$(rdig D +dnssec ns1.test A)
grep -q 'flags: qr rd ra ad' <<<"$out" && pass "parent zone answer validated (AD)" || fail "ns1.test: $out"
resolver_stats D
sec=$(stat_of D "dnssec:" secure)
fok=$(stat_of D "dnssec:" fetch_ok)
grep '^resolve: dnssec:' "$D_LOG" | tail -n 1 | sed 's/^/# /'
[ "${sec:-0}" -ge 2 ] && [ "${fok:-0}" -ge 3 ] && pass "counters: secure=$sec fetch_ok=$fok" ||
	fail "counters: secure=$sec fetch_ok=$fok"

# ---- 2. tampered address, OPT/cookie/RRSIG kept ----------------------------
tamper_start T1 -n www.dnssec.test -a "$FAKE" || { fail "tamper did not start"; e2e_finish; }
V2=$E2E_TMP/v2.jsonl
resolver_start ON --upstream "127.0.0.1:$T1_PORT" --threads 1 --trust-anchor "$ANCHOR" --log-verdicts "$V2" \
	--hold-max 200 || fail "resolver ON did not start"
resolver_start OFF --upstream "127.0.0.1:$T1_PORT" --threads 1 --trust-anchor "$ANCHOR" --dnssec off ||
	fail "resolver OFF did not start"
rdig ON zzz.dnssec.test A >/dev/null
sleep 0.5
t0=$(date +%s.%N)
a=$(answer ON www.dnssec.test A +time=10)
echo "# dnssec on: answered in $(echo "$(date +%s.%N) - $t0" | bc) s"
if [ "$a" != "$FAKE" ] && [ "$a" = "status:SERVFAIL" ] || [ "$a" = 192.0.2.80 ]; then
	pass "dnssec on: tampered reply not served ($a)"
else
	fail "dnssec on: got '$a'"
fi
line=$(grep '"name":"www.dnssec.test."' "$V2" | grep '"verdict":"forged"' | head -n 1)
if grep -q '"dnssec-bogus"' <<<"$line" && grep -q '"opt":true' <<<"$line" && grep -q "\"$FAKE\"" <<<"$line" &&
	grep -q '"dnssec":"bogus: www.dnssec.test A (signer dnssec.test, key 33152 alg 13): signature does not verify' <<<"$line"; then
	pass "verdict log: tampered reply (with OPT) forged: dnssec bogus, signature does not verify"
else
	fail "verdict log: $(grep www.dnssec "$V2" | head -c 800)"
fi
a=$(answer OFF www.dnssec.test A)
[ "$a" = "$FAKE" ] && pass "dnssec off: the tampered address is served ($a): the other signals let it pass" ||
	fail "dnssec off: got '$a'"

# ---- 3. tampered copy first, then the real reply; stripped RRSIGs -----------
tamper_start T2 -d -n www.dnssec.test -a "$FAKE" || fail "tamper -d did not start"
tamper_start T3 -d -s -n www.dnssec.test -a "$FAKE" || fail "tamper -d -s did not start"
V3=$E2E_TMP/v3.jsonl
resolver_start R2 --upstream "127.0.0.1:$T2_PORT" --threads 1 --trust-anchor "$ANCHOR" --log-verdicts "$V3" ||
	fail "resolver R2 did not start"
resolver_start R3 --upstream "127.0.0.1:$T3_PORT" --threads 1 --trust-anchor "$ANCHOR" --log-verdicts "$V3" ||
	fail "resolver R3 did not start"
rdig R2 zzz.dnssec.test A >/dev/null
rdig R3 zzz.dnssec.test A >/dev/null
sleep 0.5
a=$(answer R2 www.dnssec.test A)
[ "$a" = 192.0.2.80 ] && pass "tampered copy first: the genuine answer is served ($a)" || fail "R2: '$a'"
# R3: the name is seen signed (TXT, untouched), then its A comes stripped and rewritten
t=$(answer R3 www.dnssec.test TXT)
a=$(answer R3 www.dnssec.test A)
[ "$a" = 192.0.2.80 ] && pass "stripped RRSIGs: the genuine answer is served ($a; TXT $t)" || fail "R3: '$a'"
if grep '"verdict":"forged"' "$V3" | has '"dnssec":"bogus: unsigned answer for a name seen signed'; then
	pass "verdict log: unsigned answer for a name seen signed"
else
	fail "verdict log: $(grep www.dnssec "$V3" | head -c 800)"
fi

# ---- 4. the GFW injector in front ------------------------------------------
printf '*.dnssec.test\n' >"$E2E_TMP/rules.txt"
RELAY_PORT=$(pick_port)
"$ANTIDOTE" inject --listen "127.0.0.1:$RELAY_PORT" --forward "$AUTH" --profile gfw --delay 20 \
	--rules "$E2E_TMP/rules.txt" >"$E2E_TMP/relay.log" 2>&1 &
E2E_PIDS+=($!)
wait_bound "$RELAY_PORT" $! || fail "relay did not start: $(cat "$E2E_TMP/relay.log")"
V4=$E2E_TMP/v4.jsonl
resolver_start G --upstream "127.0.0.1:$RELAY_PORT" --threads 1 --trust-anchor "$ANCHOR" --log-verdicts "$V4" ||
	fail "resolver G did not start"
sleep 0.3
names="www mail alias ns1 zzz deep.ent"
good=0 forged=0 other=0
truth() {
	case $1 in
	www | alias) [ "$2" = 192.0.2.80 ] ;;
	mail) [ "$2" = 192.0.2.25 ] ;;
	ns1) [ "$2" = 192.0.2.53 ] ;;
	zzz) [ "$2" = 192.0.2.99 ] ;;
	deep.ent) [ "$2" = 192.0.2.210 ] ;;
	esac
}
for round in plain dnssec; do
	for n in $names; do
		if [ $round = plain ]; then a=$(answer G "$n.dnssec.test" A); else a=$(answer G "$n.dnssec.test" A +dnssec); fi
		if [[ $a == status:* ]]; then
			other=$((other + 1))
		elif truth "$n" "$a"; then
			good=$((good + 1))
		else
			forged=$((forged + 1))
			echo "# forged served: $n.dnssec.test ($round) -> $a"
		fi
	done
	sleep 0.3
done
[ "$forged" -eq 0 ] && [ "$good" -ge 10 ] && pass "gfw injector: 0 forged served ($good genuine, $other failed)" ||
	fail "gfw injector: $forged forged, $good genuine, $other failed"
nf=$(grep -c '"verdict":"forged"' "$V4")
nd=$(grep '"verdict":"forged"' "$V4" | grep -c '"dnssec-bogus"')
[ "$nd" -ge 3 ] && pass "verdict log: $nd of $nf forged replies named by dnssec (unsigned answer for a signed name)" ||
	fail "verdict log: $nd of $nf forged replies with dnssec-bogus: $(grep forged "$V4" | head -c 600)"
grep '"verdict":"forged"' "$V4" | grep '"dnssec-bogus"' | head -n 1 | grep -o '"why":"[^"]*"' | sed 's/^/# /'
e2e_finish
